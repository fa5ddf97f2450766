"""Fraud cases: the rules' hits on one application, investigated by its institution.

A case opens when a scan finds at least one hit (``fraud.scan``); the institution of the
application investigates it (open → investigating) and confirms or dismisses it, with
notes. A confirmed case is evidence for a blacklist proposal and, through the product
rules' hard decline ``fraud_confirmed``, declines the enterprise's later applications.
The operator sees every case (the fraud overview) and the other applicants behind a
shared key; an institution sees its own cases, with counts only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.transitions import SYSTEM, Machine, Move, Transition
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry_service
from xinyidai.risk.models import (
    OPEN_CASE_STATES,
    FraudCase,
    FraudCaseState,
    FraudHit,
    FraudNote,
    FraudRule,
)
from xinyidai.risk.schemas_fraud import CaseDetailOut, CaseOut, CaseStepOut, HitOut, NoteOut

NOTE_MAX = 2000
_INSTITUTION = (OrgKind.INSTITUTION,)

CASES: Machine[FraudCaseState] = Machine(
    kind="fraud_case",
    states=FraudCaseState,
    subject=FraudCase,
    moves=(
        Move("open", (), FraudCaseState.OPEN),  # a scan found hits
        Move("investigate", (FraudCaseState.OPEN,), FraudCaseState.INVESTIGATING, _INSTITUTION),
        Move("confirm", OPEN_CASE_STATES, FraudCaseState.CONFIRMED, _INSTITUTION, True),
        Move("dismiss", OPEN_CASE_STATES, FraudCaseState.DISMISSED, _INSTITUTION, True),
    ),
    refusal=N_("the fraud case is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a fraud case"),
    keeps_reason=True,
    reason_max=NOTE_MAX,
)
ACTIONS = ("investigate", "confirm", "dismiss")
SYSTEM_SCAN = f"{SYSTEM}:fraud_scan"


def get(session: Session, *, case_id: str, lock: bool = False) -> FraudCase | None:
    stmt = select(FraudCase).where(FraudCase.public_id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_or_raise(session: Session, *, case_id: str, lock: bool = False) -> FraudCase:
    case = get(session, case_id=case_id, lock=lock)
    if case is None:
        raise NotFound("no fraud case {id}", field="case_id", id=case_id)
    return case


def of_application(session: Session, *, application_id: str) -> FraudCase | None:
    return session.scalar(select(FraudCase).where(FraudCase.application_id == application_id))


def may_see(principal: Principal, case: FraudCase) -> bool:
    if principal.organization_kind == OrgKind.OPERATOR:
        return True
    return (
        principal.organization_kind == OrgKind.INSTITUTION
        and principal.organization_public_id == case.institution_id
    )


def visible_or_raise(
    session: Session, *, principal: Principal, case_id: str, lock: bool = False
) -> FraudCase:
    """The case if the caller is its institution or the operator; for anyone else
    ``Forbidden`` naming the case (another institution's) or ``NotFound``."""
    case = get_or_raise(session, case_id=case_id, lock=lock)
    if not may_see(principal, case):
        raise Forbidden(
            "fraud case {case} belongs to another institution", field="case_id", case=case_id
        )
    return case


def cases_statement(
    principal: Principal,
    *,
    state: str | None = None,
    rule: str | None = None,
    credit_code: str | None = None,
    institution_id: str | None = None,
) -> Select[Any]:
    """The cases the caller may see, newest first, filtered."""
    stmt = select(FraudCase)
    if principal.organization_kind == OrgKind.INSTITUTION:
        stmt = stmt.where(FraudCase.institution_id == principal.organization_public_id)
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only institutions and the operator see fraud cases", field="case_id")
    if state:
        if state not in set(FraudCaseState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(FraudCaseState),
            )
        stmt = stmt.where(FraudCase.state == state)
    if rule:
        if rule not in set(FraudRule):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="rule",
                value=rule,
                allowed=", ".join(FraudRule),
            )
        stmt = stmt.where(FraudCase.id.in_(select(FraudHit.case_id).where(FraudHit.rule == rule)))
    if credit_code:
        code = registry_service.parse_code_or_raise(credit_code)
        stmt = stmt.where(FraudCase.credit_code == code)
    if institution_id:
        stmt = stmt.where(FraudCase.institution_id == institution_id)
    return stmt.order_by(FraudCase.created_at.desc(), FraudCase.id.desc())


def hits_of(session: Session, *, case: FraudCase) -> list[FraudHit]:
    return list(
        session.scalars(select(FraudHit).where(FraudHit.case_id == case.id).order_by(FraudHit.id))
    )


def notes_of(session: Session, *, case: FraudCase) -> list[FraudNote]:
    return list(
        session.scalars(
            select(FraudNote).where(FraudNote.case_id == case.id).order_by(FraudNote.id)
        )
    )


def history(session: Session, *, case: FraudCase) -> list[Transition]:
    return CASES.history(session, case)


def _own(principal: Principal, case: FraudCase) -> None:
    if (
        principal.organization_kind != OrgKind.INSTITUTION
        or principal.organization_public_id != case.institution_id
    ):
        raise Forbidden(
            "fraud case {case} belongs to another institution",
            field="case_id",
            case=case.public_id,
        )


def act(
    session: Session, *, principal: Principal, case: FraudCase, action: str, note: str | None
) -> FraudCase:
    """The institution moves its case: investigate, confirm or dismiss (the last two with
    a note saying why); the note is also kept among the case's notes."""
    CASES.named(action, among=ACTIONS, field="action")
    _own(principal, case)
    reason = CASES.check(case, action, actor_kind=principal.organization_kind, reason=note)
    CASES.move(
        session,
        case,
        action,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    if reason:
        session.add(FraudNote(case_id=case.id, author=principal.actor, text=reason))
        session.flush()
    return case


def add_note(session: Session, *, principal: Principal, case: FraudCase, text: str) -> FraudNote:
    """An investigator's note on an open case of its institution."""
    _own(principal, case)
    body = (text or "").strip()
    if not body:
        raise ValidationFailed("must not be empty", field="text")
    if len(body) > NOTE_MAX:
        raise ValidationFailed("at most {maximum} characters", field="text", maximum=NOTE_MAX)
    note = FraudNote(case_id=case.id, author=principal.actor, text=body)
    session.add(note)
    session.flush()
    return note


def has_confirmed(session: Session, credit_code: str) -> bool:
    """Whether any institution confirmed a fraud case about the enterprise (the product
    rules' ``fraud_confirmed``)."""
    return (
        session.scalar(
            select(FraudCase.id)
            .where(
                FraudCase.credit_code == credit_code, FraudCase.state == FraudCaseState.CONFIRMED
            )
            .limit(1)
        )
        is not None
    )


def counts(session: Session) -> dict[str, int]:
    """Cases by state (the operator's overview)."""
    return {
        str(state): int(count)
        for state, count in session.execute(
            select(FraudCase.state, func.count()).group_by(FraudCase.state)
        )
    }


def rule_counts(session: Session) -> dict[str, dict[str, int]]:
    """Hits by rule and by the state of their case (the operator's overview)."""
    found: dict[str, dict[str, int]] = {}
    statement = (
        select(FraudHit.rule, FraudCase.state, func.count())
        .join(FraudCase, FraudCase.id == FraudHit.case_id)
        .group_by(FraudHit.rule, FraudCase.state)
    )
    for rule, state, count in session.execute(statement):
        found.setdefault(str(rule), {})[str(state)] = int(count)
    return found


def detail(session: Session, *, principal: Principal, case: FraudCase) -> CaseDetailOut:
    """A case as the caller sees it: hits with their explanations (the other applicants
    behind a hit for the operator only), notes, history and the moves it may make."""
    operator = principal.organization_kind == OrgKind.OPERATOR
    hits = [
        HitOut(
            rule=hit.rule,
            explanation=hit.explanation,
            evidence=hit.evidence,
            operator_evidence=hit.operator_evidence if operator else None,
            found_at=hit.found_at,
        )
        for hit in hits_of(session, case=case)
    ]
    mine = (
        principal.organization_kind == OrgKind.INSTITUTION
        and principal.organization_public_id == case.institution_id
    )
    return CaseDetailOut.model_validate(
        {
            **CaseOut.model_validate(case).model_dump(),
            "public_id": case.public_id,
            "hits": hits,
            "notes": [NoteOut.model_validate(n) for n in notes_of(session, case=case)],
            "history": [CaseStepOut.model_validate(s) for s in history(session, case=case)],
            "available": CASES.available(case, actor_kind=principal.organization_kind)
            if mine
            else [],
        }
    )
