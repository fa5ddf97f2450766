"""Needs and matching: an enterprise posts what it needs; each published product is checked
against it rule by rule, and every rule says why it passed or failed.

Eligibility reads only what an automatic check needs about a borrower: its registration
(region, industry, age), whether it is on a dishonesty or enforcement list, and its tax
grade and platform rating (``scoring``) against a product's minimum.

Matching is a read like any other. A borrower rule reads catalogue categories
(``RULE_SOURCES``); a rule is public when the catalogue grades all of them public
(``privacy.is_public``). Anyone who sees a need sees the outcomes of the public rules. The
outcome of a rule on non-public data (the platform rating, the tax grade, any category
graded otherwise) is shown only to a reader the access decision grants those categories —
the enterprise itself, the operator on its duty, an institution holding a letter that
covers them (the letter an application carries among them) — and that read is decided and
recorded by ``consent.decide``, once per enterprise per read. To anyone else such a rule is
"not checked" (``passed`` None), the same whatever the data says: the fit score, the order
and whether a need is listed are computed from the rules it may see only.

The first-loan and renewal zones carry a rule on the enterprise's loans on this platform
(``PLATFORM_RULES``), which are no catalogue category: whether an enterprise borrowed from
another institution is shown to the enterprise itself and the operator only, and is
checked for everyone when the enterprise applies (``applications.submit``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import gettext
from xinyidai.core.ids import new_id
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Loan, LoanState, Need, NeedState, Product, ProductState
from xinyidai.market.schemas import (
    COLLATERAL,
    FIRST_LOAN,
    GRADES,
    RENEWAL,
    TAX_GRADES,
    URGENCIES,
    Check,
    EnterpriseFacts,
    NeedIn,
)
from xinyidai.market.service import products as products_service
from xinyidai.market.service import visibility
from xinyidai.privacy import service as privacy
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service
from xinyidai.scoring import service as scoring_service

# Lists that bar a borrower while the entry stands (no ``removed_on``).
DISHONEST_CATEGORIES = ("dishonest_debtor", "serious_dishonesty", "black_list", "court_enforcement")
CLOSED_ENFORCEMENT = ("closed", "结案", "终结", "执行完毕")
REGISTRATION = "registration"
# Rules on the enterprise's loans on this platform, by the zone that carries each.
PLATFORM_RULES = {FIRST_LOAN: FIRST_LOAN, RENEWAL: RENEWAL}
TAX_RATING = "tax_rating"


def grade_of(session: Session, credit_code: str, *, rate_missing: bool = False) -> str | None:
    """The enterprise's platform grade; an enterprise not rated yet is rated now when
    ``rate_missing`` (an automatic decision), otherwise its grade is unknown (None)."""
    if rate_missing:
        return scoring_service.current_or_rate(session, credit_code=credit_code).grade
    rating = scoring_service.current_rating(session, credit_code=credit_code)
    return rating.grade if rating is not None else None


def _lifted(category: str, data: dict[str, object]) -> bool:
    """Whether a list entry no longer stands: removed, or an enforcement case closed."""
    if data.get("removed_on"):
        return True
    return category == "court_enforcement" and str(data.get("status") or "") in CLOSED_ENFORCEMENT


def facts_for(
    session: Session,
    *,
    credit_code: str,
    rate_missing: bool = False,
    rules: Collection[str] | None = None,
) -> EnterpriseFacts:
    """What eligibility looks at about one enterprise; only what ``rules`` read (None: every
    rule), the rest left unknown (None)."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=credit_code)
    years = None
    if subject.established_on is not None:
        years = (clock.today() - subject.established_on).days // 365

    def reads(rule: str) -> bool:
        return rules is None or rule in rules

    categories = [
        *(DISHONEST_CATEGORIES if reads("dishonest") else ()),
        *((TAX_RATING,) if reads("tax_grade") else ()),
    ]
    rows = (
        records_service.current_data(session, categories=categories, subject_codes=[credit_code])
        if categories
        else []
    )
    loans: int | None = None
    good_standing: bool | None = None
    if any(reads(rule) for rule in PLATFORM_RULES):
        loans, good_standing = loan_standing(session, credit_code=credit_code)
    dishonest = enforcement = False
    tax_grade: tuple[str, str] | None = None
    for row in rows:
        if row.category == TAX_RATING:
            year = str(row.data.get("year") or "")
            grade = str(row.data.get("grade") or "").upper()
            if grade in TAX_GRADES and (tax_grade is None or year > tax_grade[0]):
                tax_grade = (year, grade)
        elif _lifted(row.category, row.data):
            continue
        elif row.category == "court_enforcement":
            enforcement = True
        else:
            dishonest = True
    return EnterpriseFacts(
        credit_code=credit_code,
        region_code=subject.region_code,
        industry_code=subject.industry_code,
        years_in_business=years,
        grade=grade_of(session, credit_code, rate_missing=rate_missing) if reads("grade") else None,
        dishonest=dishonest if reads("dishonest") else None,
        enforcement=enforcement if reads("dishonest") else None,
        tax_grade=tax_grade[1] if tax_grade else None,
        loans_on_platform=loans,
        loan_in_good_standing=good_standing,
    )


def loan_standing(session: Session, *, credit_code: str) -> tuple[int, bool]:
    """How many loans the enterprise has had on the platform, and whether one of them is
    running and current (in good standing: not overdue, defaulted or written off)."""
    count, current = session.execute(
        select(
            func.count(Loan.id),
            func.count(Loan.id).filter(Loan.state == LoanState.CURRENT),
        ).where(Loan.credit_code == credit_code)
    ).one()
    return int(count), bool(current)


# --------------------------------------------------------------------------- needs


def post_need(session: Session, *, principal: Principal, data: NeedIn) -> Need:
    """An enterprise posts a financing need."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise posts financing needs", field="credit_code")
    iam_service.check_active(principal)
    amount = products_service.check_amount(data.amount, field="amount")
    term = products_service.check_term(data.term_months, field="term_months")
    max_rate = None
    if data.max_rate is not None:
        max_rate = products_service.check_rate(data.max_rate, field="max_rate")
    collateral = products_service.check_choices(
        data.collateral, allowed=COLLATERAL, field="collateral"
    )
    if data.urgency not in URGENCIES:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="urgency",
            value=data.urgency,
            allowed=", ".join(URGENCIES),
        )
    subject = registry_service.get_by_code_or_raise(session, credit_code=principal.credit_code)
    need = Need(
        public_id=new_id("ned"),
        credit_code=subject.credit_code,
        enterprise_name=subject.name,
        region_code=subject.region_code,
        industry_code=subject.industry_code,
        amount=amount,
        term_months=term,
        purpose=data.purpose.strip(),
        max_rate=max_rate,
        collateral=collateral,
        urgency=data.urgency,
        state=NeedState.OPEN,
        created_by=principal.actor,
    )
    session.add(need)
    session.flush()
    return need


def close_need(session: Session, *, principal: Principal, need: Need) -> Need:
    """The enterprise closes its need (met or no longer wanted)."""
    if principal.credit_code != need.credit_code:
        raise Forbidden("this need belongs to another enterprise", field="need_id")
    need.state = NeedState.CLOSED
    session.flush()
    return need


def get_need_or_raise(session: Session, *, need_id: str) -> Need:
    need = session.scalar(select(Need).where(Need.public_id == need_id))
    if need is None:
        raise NotFound("no financing need {need}", field="need_id", need=need_id)
    return need


def visible_need_or_raise(session: Session, *, principal: Principal, need_id: str) -> Need:
    """The enterprise's own need; any open need for institutions; all for the operator."""
    need = get_need_or_raise(session, need_id=need_id)
    if visibility.may_see_need(principal, need):
        return need
    raise NotFound("no financing need {need}", field="need_id", need=need_id)


# --------------------------------------------------------------------------- matching


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the marker
    """Mark a message id for extraction; it is translated when the check is made."""
    return message


NOT_CHECKED = N_("not checked: needs the enterprise's authorization")


def _check(rule: str, passed: bool, message: str, **params: object) -> Check:
    return Check(rule=rule, passed=passed, reason=gettext(message, None, **params))


def _not_checked(rule: str) -> Check:
    """A rule the reader may not learn the outcome of: the same words whatever the data."""
    return Check(rule=rule, passed=None, reason=gettext(NOT_CHECKED, None))


def rule_sources() -> dict[str, tuple[str, ...]]:
    """The catalogue categories each borrower rule reads about the enterprise (the rules on
    the need's own terms — amount, term, rate, collateral — read none)."""
    return {
        "region": (REGISTRATION,),
        "industry": (REGISTRATION,),
        "years": (REGISTRATION,),
        "dishonest": DISHONEST_CATEGORIES,
        "tax_grade": (TAX_RATING,),
        # a grade reveals every category the rating is computed from
        "grade": tuple(scoring_service.rated_categories()),
    }


def borrower_rules(product: Product) -> list[str]:
    """The borrower rules a product applies, in the order its checks are listed."""
    rules = product.eligibility
    present = {
        "grade": bool(rules.get("min_grade")),
        "dishonest": bool(rules.get("no_dishonest")),
        "years": rules.get("min_years") is not None,
        "tax_grade": bool(rules.get("min_tax_grade")),
    }
    zoned = [rule for zone, rule in PLATFORM_RULES.items() if zone in product.zones]
    return ["region", "industry", *(rule for rule, used in present.items() if used), *zoned]


@dataclass(frozen=True)
class Grading:
    """Which categories each borrower rule reads, as the catalogue has them now, and which
    of those are public."""

    sources: dict[str, tuple[str, ...]]
    public: frozenset[str]

    def reads(self, rule: str) -> tuple[str, ...]:
        return self.sources.get(rule, ())

    def is_public(self, rule: str) -> bool:
        return all(code in self.public for code in self.reads(rule))


def grading(session: Session) -> Grading:
    """The borrower rules' categories as the catalogue grades them (a category the
    catalogue lacks feeds nothing and needs no grant)."""
    specs = {
        c.code: catalog_service.spec_of(c)
        for c in catalog_service.list_categories(session, include_inactive=True)
    }
    sources = {
        rule: tuple(code for code in codes if code in specs)
        for rule, codes in rule_sources().items()
    }
    public = frozenset(code for code, spec in specs.items() if privacy.is_public(spec))
    return Grading(sources=sources, public=public)


@dataclass(frozen=True)
class Sight:
    """The borrower rules whose outcomes a reader may see about one enterprise, and the
    access event of the decision that let it see those on non-public data (None: none)."""

    rules: frozenset[str]
    event_id: str | None = None


def sight_of(
    session: Session,
    *,
    reader: Principal | None,
    credit_code: str,
    rules: Collection[str],
    grading: Grading,
    channel: str,
) -> Sight:
    """Which of ``rules`` ``reader`` may see the outcome of about ``credit_code``.

    Public rules always. Rules on non-public data only if the access decision grants every
    category they read: then one decision over those categories is made and recorded (a
    letter it relies on counts one use); a reader without a basis is not asked about —
    nothing non-public is shown to it, so nothing is recorded. No reader (an announcement
    to many institutions): public rules only.
    """
    platform = frozenset(rule for rule in rules if rule in PLATFORM_RULES)
    public = frozenset(rule for rule in rules if grading.is_public(rule)) - platform
    if reader is not None and (
        reader.organization_kind == OrgKind.OPERATOR or reader.credit_code == credit_code
    ):
        public |= platform
    private = [rule for rule in rules if rule not in public and rule not in platform]
    if reader is None or not private:
        return Sight(public)
    wanted = sorted({code for rule in private for code in grading.reads(rule)})
    granted = consent_service.grantable(
        session, actor=reader, subject=credit_code, categories=wanted
    )
    shown = [rule for rule in private if set(grading.reads(rule)) <= granted]
    if not shown:
        return Sight(public)
    decision = consent_service.decide(
        session,
        actor=reader,
        subject=credit_code,
        categories=sorted({code for rule in shown for code in grading.reads(rule)}),
        channel=channel,
    )
    if not decision.allowed:  # the basis went away in between: nothing more is shown
        return Sight(public)
    shown = [rule for rule in shown if set(grading.reads(rule)) <= decision.grants.keys()]
    return Sight(public | frozenset(shown), decision.event_id)


def grade_at_least(grade: str, minimum: str) -> bool:
    return GRADES.index(grade) <= GRADES.index(minimum)


def tax_grade_at_least(grade: str, minimum: str) -> bool:
    return TAX_GRADES.index(grade) <= TAX_GRADES.index(minimum)


def _borrower_check(rule: str, product: Product, facts: EnterpriseFacts) -> Check:
    """One borrower rule of ``product`` against the facts, with its reason."""
    rules = product.eligibility
    if rule == "region":
        ok = products_service.region_served(product, facts.region_code)
        return _check(
            rule,
            ok,
            N_("serves the enterprise's region")
            if ok
            else N_("does not serve the enterprise's region"),
        )
    if rule == "industry":
        ok = products_service.industry_served(product, facts.industry_code)
        return _check(
            rule,
            ok,
            N_("serves the enterprise's industry")
            if ok
            else N_("does not serve the enterprise's industry"),
        )
    if rule == "grade":
        minimum = str(rules["min_grade"])
        if facts.grade is None:
            return _check(rule, False, N_("not rated yet; needs grade {minimum}"), minimum=minimum)
        ok = grade_at_least(facts.grade, minimum)
        return _check(
            rule,
            ok,
            N_("grade {grade} meets {minimum}") if ok else N_("grade {grade} is below {minimum}"),
            grade=facts.grade,
            minimum=minimum,
        )
    if rule == "dishonest":
        ok = facts.dishonest is False and facts.enforcement is False
        return _check(
            rule,
            ok,
            N_("not on a dishonesty or enforcement list")
            if ok
            else N_("on a dishonesty or enforcement list"),
        )
    if rule == "years":
        years = int(rules["min_years"])
        ok = facts.years_in_business is not None and facts.years_in_business >= years
        return _check(
            rule,
            ok,
            N_("in business {years} years or more")
            if ok
            else N_("in business fewer than {years} years"),
            years=years,
        )
    if rule == FIRST_LOAN:
        ok = facts.loans_on_platform == 0
        return _check(
            rule,
            ok,
            N_("no loan on the platform yet: a first loan")
            if ok
            else N_("has had a loan on the platform: not a first loan"),
        )
    if rule == RENEWAL:
        ok = facts.loan_in_good_standing is True
        return _check(
            rule,
            ok,
            N_("a current loan in good standing can be renewed")
            if ok
            else N_("no current loan in good standing to renew"),
        )
    minimum = str(rules["min_tax_grade"])
    ok = facts.tax_grade is not None and tax_grade_at_least(facts.tax_grade, minimum)
    return _check(
        rule,
        ok,
        N_("tax grade meets {minimum}") if ok else N_("tax grade below {minimum} or unknown"),
        minimum=minimum,
    )


def eligibility_checks(
    product: Product, facts: EnterpriseFacts, *, sees: Collection[str] | None = None
) -> list[Check]:
    """The product's borrower rules against the facts, each with its reason; a rule not in
    ``sees`` (None: every rule is seen) is reported not checked."""
    return [
        _borrower_check(rule, product, facts)
        if sees is None or rule in sees
        else _not_checked(rule)
        for rule in borrower_rules(product)
    ]


def need_checks(product: Product, need: Need) -> list[Check]:
    """How the product's terms fit the need's amount, term, rate and collateral."""
    amount_ok = product.amount_min <= need.amount <= product.amount_max
    term_ok = product.term_min <= need.term_months <= product.term_max
    checks = [
        _check(
            "amount",
            amount_ok,
            N_("amount within {low}–{high} yuan")
            if amount_ok
            else N_("amount outside {low}–{high} yuan"),
            low=product.amount_min,
            high=product.amount_max,
        ),
        _check(
            "term",
            term_ok,
            N_("term within {low}–{high} months")
            if term_ok
            else N_("term outside {low}–{high} months"),
            low=product.term_min,
            high=product.term_max,
        ),
    ]
    if need.max_rate is not None:
        ok = product.rate_min <= need.max_rate
        checks.append(
            _check(
                "rate",
                ok,
                N_("rate from {rate}% is acceptable")
                if ok
                else N_("rate from {rate}% is above yours"),
                rate=product.rate_min,
            )
        )
    if product.collateral:
        offered = set(need.collateral)
        ok = bool(offered & set(product.collateral))
        checks.append(
            _check(
                "collateral",
                ok,
                N_("collateral accepted") if ok else N_("needs one of: {wanted}"),
                wanted=", ".join(product.collateral),
            )
        )
    return checks


def fit_score(product: Product, need: Need, checks: list[Check]) -> int:
    """0..100: share of the checked rules passed, then cheaper and faster products rank
    higher. A rule not checked counts neither way, so the score tells nothing of it."""
    checked = [c for c in checks if c.passed is not None]
    passed = sum(1 for c in checked if c.passed)
    score = Decimal(70) * passed / max(len(checked), 1)
    score += max(Decimal(0), Decimal(20) - product.rate_min * 2)
    if need.urgency == "urgent" and "fast" in product.zones:
        score += 10
    return int(min(score, Decimal(100)))


@dataclass(frozen=True)
class Match:
    """One product against one need: ``eligible`` when no checked rule failed, ``complete``
    when every rule was checked."""

    product: Product
    eligible: bool
    complete: bool
    score: int
    checks: list[Check]


def evaluate(
    product: Product, need: Need, facts: EnterpriseFacts, *, sees: Collection[str] | None = None
) -> Match:
    checks = need_checks(product, need) + eligibility_checks(product, facts, sees=sees)
    return Match(
        product=product,
        eligible=all(c.passed is not False for c in checks),
        complete=all(c.passed is not None for c in checks),
        score=fit_score(product, need, checks),
        checks=checks,
    )


def matches_for_need(
    session: Session,
    *,
    need: Need,
    reader: Principal | None,
    channel: str = "api:market.matches",
) -> list[Match]:
    """Published products ranked for a need as ``reader`` may see them: eligible first, then
    by fit. An institution sees its own products only; the outcomes of rules on non-public
    data only where the access decision grants them (``sight_of``). ``reader`` None: public
    rules only, nothing recorded (announcements)."""
    products = list(products_service.published(session))
    if reader is not None and reader.organization_kind == OrgKind.INSTITUTION:
        products = [p for p in products if p.institution_id == reader.organization_public_id]
    if not products:
        return []
    sight = sight_of(
        session,
        reader=reader,
        credit_code=need.credit_code,
        rules={rule for product in products for rule in borrower_rules(product)},
        grading=grading(session),
        channel=channel,
    )
    facts = facts_for(session, credit_code=need.credit_code, rules=sight.rules)
    ranked = [evaluate(product, need, facts, sees=sight.rules) for product in products]
    ranked.sort(key=lambda m: (not m.eligible, -m.score, m.product.rate_min))
    return ranked


@dataclass(frozen=True)
class NeedMatch:
    need: Need
    match: Match


def needs_for_institution(
    session: Session,
    *,
    reader: Principal,
    eligible_only: bool = True,
    channel: str = "api:institution.matches",
) -> list[NeedMatch]:
    """Open needs ranked against each of the reader's institution's published products.

    Each enterprise with an open need is seen once (``sight_of``: at most one decision per
    enterprise, and none for one whose non-public data the institution has no basis for);
    a need is left out by ``eligible_only`` only for a rule the institution may see."""
    own = list(
        session.scalars(
            products_service.of_institution_statement(
                institution_id=reader.organization_public_id, state=ProductState.PUBLISHED
            )
        )
    )
    if not own:
        return []
    rules = {rule for product in own for rule in borrower_rules(product)}
    graded = grading(session)
    seen: dict[str, tuple[Sight, EnterpriseFacts]] = {}
    out = []
    for need in session.scalars(visibility.needs(reader)):
        if need.credit_code not in seen:
            sight = sight_of(
                session,
                reader=reader,
                credit_code=need.credit_code,
                rules=rules,
                grading=graded,
                channel=channel,
            )
            facts = facts_for(session, credit_code=need.credit_code, rules=sight.rules)
            seen[need.credit_code] = (sight, facts)
        sight, facts = seen[need.credit_code]
        for product in own:
            match = evaluate(product, need, facts, sees=sight.rules)
            if match.eligible or not eligible_only:
                out.append(NeedMatch(need=need, match=match))
    out.sort(key=lambda item: (not item.match.eligible, -item.match.score))
    return out
