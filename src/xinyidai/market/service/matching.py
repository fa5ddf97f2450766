"""Needs and matching: an enterprise posts what it needs; each published product is checked
against it rule by rule, and every rule says why it passed or failed.

Eligibility reads only what an automatic check needs about a borrower: its registration
(region, industry, age), whether it is on a public dishonesty or enforcement list, and
its tax grade and platform rating (``scoring``) as pass/fail against a product's minimum.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import gettext
from xinyidai.core.ids import new_id
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Need, Product
from xinyidai.market.schemas import (
    COLLATERAL,
    GRADES,
    NEED_OPEN,
    TAX_GRADES,
    URGENCIES,
    Check,
    EnterpriseFacts,
    NeedIn,
)
from xinyidai.market.service import products as products_service
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service
from xinyidai.scoring import service as scoring_service

# Public lists that bar a borrower while the entry stands (no ``removed_on``).
DISHONEST_CATEGORIES = ("dishonest_debtor", "serious_dishonesty", "black_list", "court_enforcement")
CLOSED_ENFORCEMENT = ("closed", "结案", "终结", "执行完毕")


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


def facts_for(session: Session, *, credit_code: str, rate_missing: bool = False) -> EnterpriseFacts:
    """What eligibility looks at about one enterprise."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=credit_code)
    years = None
    if subject.established_on is not None:
        years = (clock.today() - subject.established_on).days // 365
    dishonest = enforcement = False
    tax_grade: tuple[str, str] | None = None
    for row in records_service.current_data(
        session, categories=[*DISHONEST_CATEGORIES, "tax_rating"], subject_codes=[credit_code]
    ):
        if row.category == "tax_rating":
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
        grade=grade_of(session, credit_code, rate_missing=rate_missing),
        dishonest=dishonest,
        enforcement=enforcement,
        tax_grade=tax_grade[1] if tax_grade else None,
    )


# --------------------------------------------------------------------------- needs


def post_need(session: Session, *, principal: Principal, data: NeedIn) -> Need:
    """An enterprise posts a financing need."""
    if principal.organization_kind != "enterprise" or not principal.credit_code:
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
        state=NEED_OPEN,
        created_by=principal.actor,
    )
    session.add(need)
    session.flush()
    return need


def close_need(session: Session, *, principal: Principal, need: Need) -> Need:
    """The enterprise closes its need (met or no longer wanted)."""
    if principal.credit_code != need.credit_code:
        raise Forbidden("this need belongs to another enterprise", field="need_id")
    need.state = "closed"
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
    kind = principal.organization_kind
    if (
        (kind == "enterprise" and principal.credit_code == need.credit_code)
        or kind == "operator"
        or (kind == "institution" and need.state == NEED_OPEN)
    ):
        return need
    raise NotFound("no financing need {need}", field="need_id", need=need_id)


def needs_of(session: Session, *, credit_code: str) -> list[Need]:
    return list(
        session.scalars(
            select(Need)
            .where(Need.credit_code == credit_code)
            .order_by(Need.created_at.desc(), Need.id.desc())
        )
    )


def open_needs(session: Session) -> list[Need]:
    return list(
        session.scalars(
            select(Need).where(Need.state == NEED_OPEN).order_by(Need.created_at.desc(), Need.id)
        )
    )


# --------------------------------------------------------------------------- matching


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the marker
    """Mark a message id for extraction; it is translated when the check is made."""
    return message


def _check(rule: str, passed: bool, message: str, **params: object) -> Check:
    return Check(rule=rule, passed=passed, reason=gettext(message, None, **params))


def grade_at_least(grade: str, minimum: str) -> bool:
    return GRADES.index(grade) <= GRADES.index(minimum)


def tax_grade_at_least(grade: str, minimum: str) -> bool:
    return TAX_GRADES.index(grade) <= TAX_GRADES.index(minimum)


def eligibility_checks(product: Product, facts: EnterpriseFacts) -> list[Check]:
    """The product's borrower rules against the facts, each with its reason."""
    region_ok = products_service.region_served(product, facts.region_code)
    industry_ok = products_service.industry_served(product, facts.industry_code)
    checks = [
        _check(
            "region",
            region_ok,
            N_("serves the enterprise's region")
            if region_ok
            else N_("does not serve the enterprise's region"),
        ),
        _check(
            "industry",
            industry_ok,
            N_("serves the enterprise's industry")
            if industry_ok
            else N_("does not serve the enterprise's industry"),
        ),
    ]
    rules = product.eligibility
    if rules.get("min_grade"):
        minimum = str(rules["min_grade"])
        if facts.grade is None:
            checks.append(
                _check("grade", False, N_("not rated yet; needs grade {minimum}"), minimum=minimum)
            )
        else:
            ok = grade_at_least(facts.grade, minimum)
            checks.append(
                _check(
                    "grade",
                    ok,
                    N_("grade {grade} meets {minimum}")
                    if ok
                    else N_("grade {grade} is below {minimum}"),
                    grade=facts.grade,
                    minimum=minimum,
                )
            )
    if rules.get("no_dishonest"):
        ok = facts.dishonest is False and facts.enforcement is False
        checks.append(
            _check(
                "dishonest",
                ok,
                N_("not on a dishonesty or enforcement list")
                if ok
                else N_("on a dishonesty or enforcement list"),
            )
        )
    if rules.get("min_years") is not None:
        years = int(rules["min_years"])
        ok = facts.years_in_business is not None and facts.years_in_business >= years
        checks.append(
            _check(
                "years",
                ok,
                N_("in business {years} years or more")
                if ok
                else N_("in business fewer than {years} years"),
                years=years,
            )
        )
    if rules.get("min_tax_grade"):
        minimum = str(rules["min_tax_grade"])
        ok = facts.tax_grade is not None and tax_grade_at_least(facts.tax_grade, minimum)
        checks.append(
            _check(
                "tax_grade",
                ok,
                N_("tax grade meets {minimum}")
                if ok
                else N_("tax grade below {minimum} or unknown"),
                minimum=minimum,
            )
        )
    return checks


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
    """0..100: share of rules passed, then cheaper and faster products rank higher."""
    passed = sum(1 for c in checks if c.passed)
    score = Decimal(70) * passed / max(len(checks), 1)
    score += max(Decimal(0), Decimal(20) - product.rate_min * 2)
    if need.urgency == "urgent" and "fast" in product.zones:
        score += 10
    return int(min(score, Decimal(100)))


def evaluate(product: Product, need: Need, facts: EnterpriseFacts) -> tuple[bool, int, list[Check]]:
    checks = need_checks(product, need) + eligibility_checks(product, facts)
    eligible = all(c.passed for c in checks)
    return eligible, fit_score(product, need, checks), checks


def matches_for_need(
    session: Session, *, need: Need
) -> list[tuple[Product, bool, int, list[Check]]]:
    """Every published product ranked for a need: eligible first, then by fit."""
    facts = facts_for(session, credit_code=need.credit_code)
    ranked = []
    for product in products_service.published(session):
        eligible, score, checks = evaluate(product, need, facts)
        ranked.append((product, eligible, score, checks))
    ranked.sort(key=lambda item: (not item[1], -item[2], item[0].rate_min))
    return ranked


def needs_for_institution(
    session: Session, *, institution_id: str, eligible_only: bool = True
) -> list[tuple[Need, Product, bool, int, list[Check]]]:
    """Open needs ranked against each of an institution's published products."""
    own = [
        p
        for p in products_service.of_institution(session, institution_id=institution_id)
        if p.state == "published"
    ]
    out = []
    facts_cache: dict[str, EnterpriseFacts] = {}
    for need in open_needs(session):
        facts = facts_cache.get(need.credit_code)
        if facts is None:
            facts = facts_cache[need.credit_code] = facts_for(session, credit_code=need.credit_code)
        for product in own:
            eligible, score, checks = evaluate(product, need, facts)
            if eligible or not eligible_only:
                out.append((need, product, eligible, score, checks))
    out.sort(key=lambda item: (not item[2], -item[3]))
    return out
