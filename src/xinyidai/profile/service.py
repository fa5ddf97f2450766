"""The panoramic profile of one enterprise: identity, rating and its trend, every
category's current records, red and black lists (with the financial blacklist of ``risk``),
financing on the platform and the associations — under one access decision.

The viewer's entitlement is decided once (``consent.service.decide`` over every category:
one audit event, one report number); each part is then shown or withheld by what that
decision grants: the records as the credit report shows them, the rating only if every
category it is computed from is granted (``scoring.service.withheld_from``), the
associations only if their categories are (``graph.service.viewer_for``), the financing as
the marketplace lets the viewer see it (``market.service.loans.financing_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.fields import stored_date
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import NO_BASIS, Decision, ReportOut, ReportSection
from xinyidai.core import clock
from xinyidai.graph import service as graph_service
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import ApplicationState, LoanState
from xinyidai.market.service import loans as loan_service
from xinyidai.privacy import service as privacy
from xinyidai.profile import pdf
from xinyidai.profile.schemas import (
    PART_ASSOCIATIONS,
    PART_FINANCING,
    PART_RATING,
    ApplicationItem,
    FinancingOut,
    IdentityOut,
    ListStatusOut,
    LoanItem,
    ProfileOut,
    TrendPoint,
)
from xinyidai.registry import codes
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import Enterprise
from xinyidai.risk.service import blacklist as blacklist_service
from xinyidai.scoring import service as rating_service

TREND_SIZE = 12
ASSOCIATION_DEPTH = 2

RED, BLACK = "red", "black"


@dataclass(frozen=True)
class ListRule:
    """How a list category says an entry is in force today: a listing stays until its
    ``until_field`` day (removal or expiry) has come; without that field, while shown."""

    colour: str
    since_field: str
    until_field: str | None


# The lists an enterprise can be on, in the order the profile shows them.
LISTS: dict[str, ListRule] = {
    "red_list": ListRule(RED, "listed_on", "valid_until"),
    "black_list": ListRule(BLACK, "listed_on", "removed_on"),
    "serious_dishonesty": ListRule(BLACK, "listed_on", "removed_on"),
    "dishonest_debtor": ListRule(BLACK, "published_on", None),
    "abnormal_operation": ListRule(BLACK, "listed_on", "removed_on"),
}


def list_status(section: ReportSection, rule: ListRule, *, today: date) -> ListStatusOut:
    """Whether the section's listings put the enterprise on the list today."""
    in_force: list[date | None] = []
    removed = 0
    for record in section.records:
        until = stored_date(record.data.get(rule.until_field)) if rule.until_field else None
        if until is not None and until <= today:
            removed += 1
            continue
        in_force.append(stored_date(record.data.get(rule.since_field)))
    dated = [d for d in in_force if d is not None]
    return ListStatusOut(
        category=section.category,
        name_zh=section.name_zh,
        name_en=section.name_en,
        colour=rule.colour,
        on_list=bool(in_force),
        listings=len(in_force),
        since=min(dated) if dated else None,
        removed=removed,
    )


def lists_of(report: ReportOut, *, today: date) -> list[ListStatusOut]:
    """The red and black lists among the report's categories, each with its status."""
    sections = {s.category: s for s in report.sections}
    return [
        list_status(sections[code], rule, today=today)
        for code, rule in LISTS.items()
        if code in sections
    ]


def _region_name(code: str | None) -> str | None:
    path = codes.region_path(code) if code else []
    return "".join(c.name for c in path) or None


def _industry_name(code: str | None) -> str | None:
    found = codes.industry(code) if code else None
    return found.name if found else None


def identity_of(subject: Enterprise, decision: Decision, *, today: date) -> IdentityOut:
    """The registry's facts as the registration category's view shows them, field by field
    (``privacy.registry_facts``: the same rule as the public directory and every record
    view); only the code, name and kind when the decision does not grant registration."""
    grant = decision.grants.get("registration")
    facts = privacy.registry_facts(subject, grant.view if grant is not None else None)
    established = facts["established_on"]
    age = (today - established).days / 365.25 if established and established <= today else None
    return IdentityOut(
        **facts,
        region_name=_region_name(facts["region_code"]),
        industry_name=_industry_name(facts["industry_code"]),
        age_years=round(age, 1) if age is not None else None,
    )


def financing(session: Session, *, principal: Principal, credit_code: str) -> FinancingOut | None:
    """The enterprise's applications and loans the viewer may see (None: none of them)."""
    found = loan_service.financing_of(session, principal=principal, credit_code=credit_code)
    if found is None:
        return None
    scope, applications, loans = found
    return FinancingOut(
        scope=scope,
        applications=[
            ApplicationItem(
                id=a.public_id,
                product_name=a.product_name,
                institution_name=a.institution_name,
                amount=a.amount,
                term_months=a.term_months,
                state=a.state,
                submitted_at=a.submitted_at,
                decided_amount=a.decided_amount,
            )
            for a in applications
        ],
        loans=[
            LoanItem(
                id=loan.public_id,
                contract_number=loan.contract_number,
                institution_name=loan.institution_name,
                product_type=loan.product_type,
                principal=loan.principal,
                rate=loan.rate,
                balance=loan.balance,
                start_on=loan.start_on,
                maturity_on=loan.maturity_on,
                state=loan.state,
            )
            for loan in loans
        ],
        approved=sum(1 for a in applications if a.state == ApplicationState.APPROVED),
        outstanding=sum((loan.balance for loan in loans), Decimal("0")),
        in_default=sum(1 for loan in loans if loan.state == LoanState.DEFAULTED),
    )


def field_labels(session: Session, report: ReportOut) -> dict[str, dict[str, tuple[str, str]]]:
    """The field names, in Chinese and English, of each category in ``report``, as the
    catalogue has them now."""
    wanted = {section.category for section in report.sections}
    return {
        code: {f.name: (f.label_zh, f.label_en) for f in spec.fields}
        for code, spec in catalog_service.specs_in_force(session).items()
        if code in wanted
    }


def pdf_of(session: Session, profile: ProfileOut, *, locale: str) -> bytes:
    """The profile as its PDF credit report in ``locale``."""
    return pdf.render(profile, locale=locale, field_labels=field_labels(session, profile.report))


def build(
    session: Session,
    decision: Decision,
    *,
    principal: Principal,
    locale: str,
    depth: int = ASSOCIATION_DEPTH,
) -> ProfileOut:
    """The profile of ``decision.subject`` as ``decision`` lets ``principal`` see it.

    ``decision`` must be an allow (a refusal raises its error); it is not counted again:
    the whole profile is one read of the data center.
    """
    report = consent_service.credit_report(session, decision, actor=principal)
    subject = registry_service.get_by_code_or_raise(session, credit_code=decision.subject)
    today = clock.today()
    withheld = dict(report.withheld)

    rating = None
    trend: list[TrendPoint] = []
    why = rating_service.withheld_from(decision)
    if why is None:
        current = rating_service.current_or_rate(session, credit_code=subject.credit_code)
        rating = rating_service.rating_out(session, current, locale=locale)
        rows, _ = rating_service.history(
            session, credit_code=subject.credit_code, page=1, size=TREND_SIZE
        )
        trend = [
            TrendPoint(
                as_of=r.as_of,
                rated_at=clock.as_utc(r.rated_at),
                score=float(r.score),
                grade=r.grade,
                model_version=r.model_version,
                trigger=r.trigger,
            )
            for r in reversed(rows)
        ]
    else:
        withheld[PART_RATING] = why

    associations = None
    viewer = graph_service.viewer_for(decision, principal)
    if viewer is not None:
        associations = graph_service.associations(
            session, code=subject.credit_code, depth=depth, viewer=viewer
        )
    else:
        missing = [c for c in graph_service.ASSOCIATION_CATEGORIES if c not in decision.grants]
        withheld[PART_ASSOCIATIONS] = next(
            (decision.withheld[c] for c in missing if c in decision.withheld), NO_BASIS
        )

    money = financing(session, principal=principal, credit_code=subject.credit_code)
    if money is None:
        withheld[PART_FINANCING] = NO_BASIS

    return ProfileOut(
        report_number=report.report_number,
        generated_at=report.generated_at,
        viewer=report.requested_by,
        organization=report.organization,
        purpose=report.purpose,
        basis=report.basis,
        letter_id=report.letter_id,
        retain_until=report.retain_until,
        access_event=report.access_event,
        identity=identity_of(subject, decision, today=today),
        rating=rating,
        rating_trend=trend,
        lists=lists_of(report, today=today),
        financial_blacklist=blacklist_service.shown_listing(session, decision),
        report=report,
        financing=money,
        associations=associations,
        withheld=withheld,
    )
