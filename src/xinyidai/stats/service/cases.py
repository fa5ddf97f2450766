"""Typical cases (典型案例): written by the operator, reviewed by another member of the
operator, published on the public site, withdrawn.

**Anonymization.** A case may name its enterprise only once the enterprise's consent to
publicity is recorded on it (a reference to the signed consent, who recorded it, when). A
case without it is shown anonymized (its region and industry only) and may not carry the
enterprise's registered name or credit code in its title, summary or text: publishing such a
case is refused naming the field. The author may not publish their own case (the four-eyes
rule); a returned case goes back to its author with the reviewer's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam.schemas import Principal
from xinyidai.registry import codes
from xinyidai.registry import service as registry_service
from xinyidai.stats.models import Case, CaseState

CASES: Machine[CaseState] = Machine(
    kind="stats_case",
    states=CaseState,
    subject=Case,
    moves=(
        Move("write", (), CaseState.DRAFT),
        Move("submit", (CaseState.DRAFT,), CaseState.REVIEW),
        Move("return", (CaseState.REVIEW,), CaseState.DRAFT, reason_required=True),
        Move("publish", (CaseState.REVIEW,), CaseState.PUBLISHED),
        Move("withdraw", (CaseState.PUBLISHED,), CaseState.WITHDRAWN, reason_required=True),
    ),
    refusal=N_("the case is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the operator may move a case"),
    forbidden_field="case_id",
    keeps_reason=True,
    reason_max=2000,
)
MOVES = ("submit", "return", "publish", "withdraw")


@dataclass(frozen=True)
class CaseDraft:
    title: str
    summary: str
    body: str
    region_code: str | None = None
    industry_code: str | None = None
    credit_code: str | None = None


def write(session: Session, *, principal: Principal, draft: CaseDraft) -> Case:
    """A new case, in draft."""
    for name in ("title", "summary", "body"):
        if not getattr(draft, name).strip():
            raise ValidationFailed("this field is required", field=name)
    if draft.region_code and not codes.is_region(draft.region_code):
        raise ValidationFailed(
            "unknown region code {code}", field="region_code", code=draft.region_code
        )
    if draft.industry_code and not codes.is_industry(draft.industry_code):
        raise ValidationFailed(
            "unknown industry code {code}", field="industry_code", code=draft.industry_code
        )
    code = None
    if draft.credit_code:
        code = registry_service.parse_code_or_raise(draft.credit_code)
        registry_service.get_by_code_or_raise(session, credit_code=code)
    now = clock.now()
    case = Case(
        public_id=new_id("case"),
        title=draft.title.strip(),
        summary=draft.summary.strip(),
        body=draft.body.strip(),
        region_code=draft.region_code or None,
        industry_code=draft.industry_code or None,
        credit_code=code,
        written_by=principal.actor,
        created_at=now,
    )
    session.add(case)
    CASES.begin(session, case, "write", actor=principal.actor, at=now)
    session.flush()
    return case


def record_consent(session: Session, *, principal: Principal, case: Case, reference: str) -> Case:
    """Record the enterprise's consent to being named (before the case is published)."""
    if case.credit_code is None:
        raise Conflict("the case names no enterprise", field="credit_code")
    if case.state not in (CaseState.DRAFT, CaseState.REVIEW):
        raise Conflict(
            "the case is {state}; consent is recorded before it is published",
            field="state",
            state=case.state,
        )
    text = reference.strip()
    if not text:
        raise ValidationFailed(
            "give the reference of the enterprise's signed consent", field="reference"
        )
    case.consent_reference = text[:200]
    case.consent_recorded_by = principal.actor
    case.consent_recorded_at = clock.now()
    session.flush()
    return case


def named(case: Case) -> bool:
    """Whether the case may name its enterprise."""
    return case.credit_code is not None and case.consent_reference is not None


def check_anonymized(session: Session, case: Case) -> None:
    """Refuse a case whose text names an enterprise that has not consented."""
    if case.credit_code is None or named(case):
        return
    enterprise = registry_service.get_by_code(session, credit_code=case.credit_code)
    giveaways = [case.credit_code] + ([enterprise.name] if enterprise else [])
    for field in ("title", "summary", "body"):
        text = getattr(case, field)
        if any(g and g in text for g in giveaways):
            raise Conflict(
                "the case names its enterprise without its consent recorded", field=field
            )


def move(
    session: Session, *, principal: Principal, case: Case, name: str, reason: str | None = None
) -> Case:
    """Submit, return, publish or withdraw a case."""
    CASES.named(name, among=MOVES)
    if name == "publish":
        if case.written_by == principal.actor:
            raise Forbidden("the author of a case may not publish it", field="case_id")
        check_anonymized(session, case)
    if name == "submit":
        check_anonymized(session, case)
    CASES.move(session, case, name, actor=principal.actor, reason=reason)
    if name == "publish":
        case.published_at = clock.now()
    session.flush()
    return case


def cases_statement(*, state: str | None = None) -> Select[Any]:
    stmt = select(Case).order_by(Case.created_at.desc(), Case.id.desc())
    if state:
        stmt = stmt.where(Case.state == state)
    return stmt


def published_statement() -> Select[Any]:
    return (
        select(Case)
        .where(Case.state == CaseState.PUBLISHED)
        .order_by(Case.published_at.desc(), Case.id.desc())
    )


def get_or_raise(session: Session, *, case_id: str) -> Case:
    case = session.scalars(select(Case).where(Case.public_id == case_id)).first()
    if case is None:
        raise NotFound("no case {case_id}", field="case_id", case_id=case_id)
    return case


def get_published_or_raise(session: Session, *, case_id: str) -> Case:
    case = get_or_raise(session, case_id=case_id)
    if case.state != CaseState.PUBLISHED:
        raise NotFound("no case {case_id}", field="case_id", case_id=case_id)
    return case


@dataclass(frozen=True)
class PublicCase:
    """What the public site shows of a case: its enterprise only when it consented."""

    id: str
    title: str
    summary: str
    body: str
    region: str | None
    industry: str | None
    enterprise_name: str | None
    published_at: datetime | None


def public_view(session: Session, case: Case) -> PublicCase:
    enterprise_name = None
    if named(case) and case.credit_code:
        enterprise = registry_service.get_by_code(session, credit_code=case.credit_code)
        enterprise_name = enterprise.name if enterprise else None
    region = codes.region(case.region_code) if case.region_code else None
    industry = codes.industry_section(case.industry_code) if case.industry_code else None
    return PublicCase(
        id=case.public_id,
        title=case.title,
        summary=case.summary,
        body=case.body,
        region=region.name if region else None,
        industry=industry.name if industry else None,
        enterprise_name=enterprise_name,
        published_at=case.published_at,
    )
