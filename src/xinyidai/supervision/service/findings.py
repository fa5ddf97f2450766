"""Findings against an institution (监管发现): opened from the access log's flags or from a
misuse the operator confirmed; the institution explains, the operator records the remedy
or a sanction (a warning, its level lowered, its account suspended). Each step is a
salted leaf of the ledger."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.audit import flags as audit_flags
from xinyidai.audit import service as audit_service
from xinyidai.audit.schemas import FlagOut
from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import SYSTEM, Machine, Move
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.supervision.models import Finding, FindingState, FindingStep, Sanction
from xinyidai.supervision.schemas import REASON_MAX, FindingIn, FindingMoveIn
from xinyidai.supervision.service import assessments

log = logging.getLogger(__name__)

LEDGER_KIND = "supervision.finding"
LEDGER_ACTOR = "system:supervision"
LEDGER_SUBJECT = "finding"
MISUSE = "misuse"
OPEN_STATES = (FindingState.OPEN, FindingState.EXPLAINED)
_INSTITUTION = (OrgKind.INSTITUTION,)
_OPERATOR = (OrgKind.OPERATOR,)


def _step_body(finding: Finding, row: FindingStep) -> dict[str, Any]:
    return {
        "finding": finding.public_id,
        "organization_id": finding.organization_id,
        "flag": finding.flag,
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "reason": row.reason,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


FINDINGS: Machine[FindingState] = Machine(
    kind="finding",
    states=FindingState,
    subject=Finding,
    moves=(
        Move("open", (), FindingState.OPEN, (SYSTEM, OrgKind.OPERATOR)),
        Move(
            "explain",
            (FindingState.OPEN,),
            FindingState.EXPLAINED,
            _INSTITUTION,
            reason_required=True,
        ),
        Move("remedy", OPEN_STATES, FindingState.REMEDIED, _OPERATOR, reason_required=True),
        Move("sanction", OPEN_STATES, FindingState.SANCTIONED, _OPERATOR, reason_required=True),
    ),
    refusal=N_("the finding is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a finding"),
    forbidden_field="finding_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
    history=ledger_service.LedgeredSteps(
        LEDGER_KIND,
        step=FindingStep,
        owner=Finding,
        owner_key="finding_id",
        body=_step_body,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
    ),
)
MOVES = ("explain", "remedy", "sanction")


def history(session: Session, *, finding: Finding) -> list[FindingStep]:
    return FINDINGS.history(session, finding)


def get_or_raise(session: Session, *, finding_id: str) -> Finding:
    row = session.scalar(select(Finding).where(Finding.public_id == finding_id))
    if row is None:
        raise NotFound("no finding {finding}", field="finding_id", finding=finding_id)
    return row


def visible_or_raise(session: Session, *, principal: Principal, finding_id: str) -> Finding:
    row = get_or_raise(session, finding_id=finding_id)
    if principal.organization_kind == OrgKind.OPERATOR:
        return row
    if row.organization_id != principal.organization_public_id:
        raise NotFound("no finding {finding}", field="finding_id", finding=finding_id)
    return row


def statement(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """Findings the principal may list: the operator all, an institution its own."""
    stmt = select(Finding).order_by(Finding.created_at.desc(), Finding.id.desc())
    if principal.organization_kind != OrgKind.OPERATOR:
        stmt = stmt.where(Finding.organization_id == principal.organization_public_id)
    if state:
        if state not in tuple(FindingState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(FindingState),
            )
        stmt = stmt.where(Finding.state == state)
    return stmt


def open_statement() -> Select[Any]:
    """Findings still open or explained (not closed), oldest first: the operator's list."""
    return (
        select(Finding)
        .where(Finding.state.in_(OPEN_STATES))
        .order_by(Finding.created_at, Finding.id)
    )


def open_counts(session: Session) -> dict[str, int]:
    """Open (or explained, not closed) findings per institution."""
    rows = session.execute(
        select(Finding.organization_id, func.count())
        .where(Finding.state.in_(OPEN_STATES))
        .group_by(Finding.organization_id)
    )
    return {org: int(n) for org, n in rows}


def _key(flag: FlagOut, now: datetime) -> str:
    """What makes a flag one finding: its day, its enterprise, or (too many queries) the
    month it was found in."""
    if flag.day is not None:
        return flag.day.isoformat()
    if flag.subject is not None:
        return flag.subject
    return clock.to_local(now).strftime("%Y-%m")


def _summary(flag: FlagOut) -> str:
    threshold = f"{flag.threshold:g}"
    if flag.kind == audit_flags.EXCESS_QUERIES:
        return (
            f"{flag.count} enterprises queried against {flag.applications or 0} applications "
            f"(more than {threshold} times)"
        )
    if flag.kind == audit_flags.OFF_HOURS_BULK:
        return f"{flag.count} queries outside office hours on {flag.day} (threshold {threshold})"
    return f"{flag.count} refused queries after a revoked letter (threshold {threshold})"


def _exists(session: Session, organization_id: str, flag: str, key: str) -> bool:
    return (
        session.scalar(
            select(Finding.id).where(
                Finding.organization_id == organization_id,
                Finding.flag == flag,
                Finding.flag_key == key,
            )
        )
        is not None
    )


def _open(
    session: Session,
    *,
    organization_id: str,
    name: str,
    flag: str,
    key: str,
    summary: str,
    actor: str,
) -> Finding:
    row = Finding(
        public_id=new_id("fnd"),
        organization_id=organization_id,
        organization_name=name,
        flag=flag,
        flag_key=key,
        summary=summary,
    )
    session.add(row)
    FINDINGS.begin(session, row, "open", actor=actor)
    log.info("finding %s opened against %s (%s)", row.public_id, organization_id, flag)
    return row


def open_from_flags(session: Session, *, now: datetime | None = None) -> list[Finding]:
    """A finding for each flag the access log raises against an institution that has none
    for it yet (the same flag, the same day or enterprise or month)."""
    moment = now or clock.now()
    institutions = {
        public_id
        for state in (OrgState.ACTIVE, OrgState.SUSPENDED)
        for public_id in iam_service.organization_public_ids(
            session, kind=OrgKind.INSTITUTION, state=state
        )
    }
    opened = []
    for flag in audit_flags.compute(session, now=moment):
        if flag.organization_id not in institutions:
            continue
        key = _key(flag, moment)
        if _exists(session, flag.organization_id, flag.kind, key):
            continue
        opened.append(
            _open(
                session,
                organization_id=flag.organization_id,
                name=flag.organization_name,
                flag=flag.kind,
                key=key,
                summary=_summary(flag),
                actor="system:supervision",
            )
        )
    return opened


def open_misuse(session: Session, *, principal: Principal, data: FindingIn) -> Finding:
    """The operator opens a finding for a misuse it confirmed in the access log."""
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator opens a finding", field="organization_id")
    organization = iam_service.get_organization_or_raise(
        session, public_id=data.organization_id.strip()
    )
    if organization.kind != OrgKind.INSTITUTION:
        raise ValidationFailed("findings are opened against institutions", field="organization_id")
    event = audit_service.get_or_raise(session, event_id=data.event_id.strip())
    if event.organization_id != organization.public_id:
        raise ValidationFailed(
            "access event {event} is not of this institution",
            field="event_id",
            event=event.public_id,
        )
    if _exists(session, organization.public_id, MISUSE, event.public_id):
        raise ValidationFailed(
            "a finding already covers access event {event}", field="event_id", event=event.public_id
        )
    return _open(
        session,
        organization_id=organization.public_id,
        name=organization.name,
        flag=MISUSE,
        key=event.public_id,
        summary=data.summary.strip(),
        actor=principal.actor,
    )


def move(
    session: Session, *, principal: Principal, finding: Finding, data: FindingMoveIn
) -> Finding:
    """explain (the institution), remedy or sanction (the operator); a sanction lowers the
    institution's level or suspends it, as named."""
    name = FINDINGS.named(data.transition).name
    if name == "explain" and finding.organization_id != principal.organization_public_id:
        raise NotFound("no finding {finding}", field="finding_id", finding=finding.public_id)
    sanction: Sanction | None = None
    if name == "sanction":
        if data.sanction not in tuple(Sanction):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="sanction",
                value=data.sanction or "",
                allowed=", ".join(Sanction),
            )
        sanction = Sanction(data.sanction)
    reason = FINDINGS.check(
        finding, name, actor_kind=principal.organization_kind, reason=data.reason
    )
    if name == "explain":
        finding.explanation = reason
    if sanction is not None:
        finding.sanction = sanction
    FINDINGS.move(
        session,
        finding,
        name,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    if sanction == Sanction.LOWER_LEVEL:
        assessments.lower_level(
            session,
            organization_id=finding.organization_id,
            actor=principal.actor,
            reason=f"{finding.public_id}: {reason}",
        )
    elif sanction == Sanction.SUSPEND:
        organization = iam_service.get_organization_or_raise(
            session, public_id=finding.organization_id
        )
        if organization.state == OrgState.ACTIVE:
            iam_service.suspend_organization(
                session,
                organization=organization,
                actor=principal.actor,
                reason=f"{finding.public_id}: {reason}",
            )
    return finding
