"""Security assessments (安全评估, NX-18): an institution answers the checklist with
evidence, the operator reviews item by item, scores and decides a level with conditions
and an expiry; onboarding waits for a passed one, and it is renewed every year.

What a passed assessment grants (its level and expiry) is written to the institution's
clearance in ``iam``: the access decision holds back an institution whose assessment is
missing or expired, and ``iam``'s approval of an institution asks for a valid one.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.core import blobs, clock
from xinyidai.core.blobs import Upload
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import SYSTEM, Machine, Move
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import Organization, OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.supervision.models import (
    Answer,
    Assessment,
    AssessmentState,
    AssessmentStep,
    ChecklistItem,
    Level,
    Verdict,
)
from xinyidai.supervision.schemas import REASON_MAX, DecisionIn, ReviewIn
from xinyidai.supervision.service import checklist

log = logging.getLogger(__name__)

LEDGER_KIND = "supervision.assessment"
LEDGER_ACTOR = "system:supervision"
LEDGER_SUBJECT = "assessment"
STATEMENT_MAX = 4000
_INSTITUTION = (OrgKind.INSTITUTION,)
_OPERATOR = (OrgKind.OPERATOR,)
# An assessment still being worked on: one at a time per institution.
OPEN_STATES = (AssessmentState.DRAFT, AssessmentState.SUBMITTED)
# The states an institution may be in to be assessed: applying, approved, or suspended.
ASSESSED_ORG_STATES = (OrgState.PENDING, OrgState.ACTIVE, OrgState.SUSPENDED)


def level_note(level: str, expires_on: date | None, reason: str | None) -> str:
    """What a pass or a lowering records as its reason: the level and the expiry it gives
    (each step's leaf holds only what never changes of the assessment, and its reason)."""
    note = f"level {level}" + (f", until {expires_on.isoformat()}" if expires_on else "")
    return f"{note}; {reason}" if reason else note


def _step_body(assessment: Assessment, row: AssessmentStep) -> dict[str, Any]:
    return {
        "assessment": assessment.public_id,
        "organization_id": assessment.organization_id,
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "reason": row.reason,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


ASSESSMENTS: Machine[AssessmentState] = Machine(
    kind="assessment",
    states=AssessmentState,
    subject=Assessment,
    moves=(
        Move("open", (), AssessmentState.DRAFT, _INSTITUTION),
        Move("submit", (AssessmentState.DRAFT,), AssessmentState.SUBMITTED, _INSTITUTION),
        Move(
            "return",
            (AssessmentState.SUBMITTED,),
            AssessmentState.DRAFT,
            _OPERATOR,
            reason_required=True,
        ),
        Move("pass", (AssessmentState.SUBMITTED,), AssessmentState.PASSED, _OPERATOR),
        Move(
            "fail",
            (AssessmentState.SUBMITTED,),
            AssessmentState.FAILED,
            _OPERATOR,
            reason_required=True,
        ),
        Move(
            "lower",
            (AssessmentState.PASSED,),
            AssessmentState.PASSED,
            _OPERATOR,
            reason_required=True,
        ),
        Move("lapse", (AssessmentState.PASSED,), AssessmentState.LAPSED, (SYSTEM,)),
        Move(
            "supersede",
            (AssessmentState.PASSED, AssessmentState.LAPSED),
            AssessmentState.SUPERSEDED,
            (SYSTEM,),
        ),
    ),
    refusal=N_("the assessment is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} an assessment"),
    forbidden_field="assessment_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
    history=ledger_service.LedgeredSteps(
        LEDGER_KIND,
        step=AssessmentStep,
        owner=Assessment,
        owner_key="assessment_id",
        body=_step_body,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
    ),
)
DECISIONS = ("pass", "fail", "return")


def evidence_dir() -> Path:
    return get_settings().data_dir / "supervision" / "evidence"


def limit_bytes() -> int:
    return get_settings().supervision.max_evidence_mb * 1024 * 1024


def history(session: Session, *, assessment: Assessment) -> list[AssessmentStep]:
    return ASSESSMENTS.history(session, assessment)


# --------------------------------------------------------------------------- reading


def get_or_raise(session: Session, *, assessment_id: str, lock: bool = False) -> Assessment:
    stmt = select(Assessment).where(Assessment.public_id == assessment_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(
            "no assessment {assessment}", field="assessment_id", assessment=assessment_id
        )
    return row


def visible_or_raise(session: Session, *, principal: Principal, assessment_id: str) -> Assessment:
    """The assessment, for its institution and the operator; NotFound for anyone else."""
    row = get_or_raise(session, assessment_id=assessment_id)
    if principal.organization_kind == OrgKind.OPERATOR:
        return row
    if row.organization_id != principal.organization_public_id:
        raise NotFound(
            "no assessment {assessment}", field="assessment_id", assessment=assessment_id
        )
    return row


def statement(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """Assessments the principal may list: the operator all, an institution its own."""
    stmt = select(Assessment).order_by(Assessment.created_at.desc(), Assessment.id.desc())
    if principal.organization_kind != OrgKind.OPERATOR:
        stmt = stmt.where(Assessment.organization_id == principal.organization_public_id)
    if state:
        if state not in tuple(AssessmentState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(AssessmentState),
            )
        stmt = stmt.where(Assessment.state == state)
    return stmt


def queue_statement() -> Select[Any]:
    """The operator's queue: submitted assessments, oldest first."""
    return (
        select(Assessment)
        .where(Assessment.state == AssessmentState.SUBMITTED)
        .order_by(Assessment.submitted_at, Assessment.id)
    )


def answers_of(session: Session, assessment: Assessment) -> list[Answer]:
    return list(
        session.scalars(
            select(Answer).where(Answer.assessment_id == assessment.id).order_by(Answer.id)
        )
    )


def evidence_path(
    session: Session, *, assessment: Assessment, item_code: str
) -> tuple[Answer, Path]:
    """An answer's evidence file; NotFound when it has none."""
    answer = _answer(session, assessment, item_code)
    if answer is None or answer.evidence_sha256 is None:
        raise NotFound("item {item} has no evidence", field="item_code", item=item_code)
    return answer, blobs.path_of(evidence_dir(), answer.evidence_sha256)


def standing(session: Session, *, organization_id: str) -> Assessment | None:
    """The institution's newest passed or lapsed assessment (what its level comes from)."""
    return session.scalar(
        select(Assessment)
        .where(
            Assessment.organization_id == organization_id,
            Assessment.state.in_((AssessmentState.PASSED, AssessmentState.LAPSED)),
        )
        .order_by(Assessment.id.desc())
        .limit(1)
    )


def open_of(session: Session, *, organization_id: str) -> Assessment | None:
    return session.scalar(
        select(Assessment).where(
            Assessment.organization_id == organization_id, Assessment.state.in_(OPEN_STATES)
        )
    )


# --------------------------------------------------------------------------- the institution


def _institution(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution is assessed", field="organization")
    if principal.organization_state not in ASSESSED_ORG_STATES:
        raise Forbidden("your organization may not be assessed now", field="organization")
    if not principal.can_write:
        raise Forbidden("read-only members cannot change anything", field="organization")


def start(session: Session, *, principal: Principal) -> Assessment:
    """The institution opens an assessment to fill in (one open at a time)."""
    _institution(principal)
    already = open_of(session, organization_id=principal.organization_public_id)
    if already is not None:
        raise Conflict(
            "assessment {assessment} is still open",
            field="assessment_id",
            assessment=already.public_id,
        )
    row = Assessment(
        public_id=new_id("asm"),
        organization_id=principal.organization_public_id,
        organization_name=principal.organization_name,
    )
    session.add(row)
    ASSESSMENTS.begin(session, row, "open", actor=principal.actor)
    return row


def _own(principal: Principal, assessment: Assessment) -> None:
    _institution(principal)
    if assessment.organization_id != principal.organization_public_id:
        raise NotFound(
            "no assessment {assessment}", field="assessment_id", assessment=assessment.public_id
        )


def _answer(session: Session, assessment: Assessment, item_code: str) -> Answer | None:
    return session.scalar(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.item_code == item_code)
    )


def _item_or_raise(session: Session, code: str) -> ChecklistItem:
    item = checklist.by_code(session, code=code)
    if item is None or not item.active:
        raise ValidationFailed(
            "{item} is not an item of the checklist", field="item_code", item=code
        )
    return item


def _checked_upload(upload: Upload | None) -> tuple[Upload, str] | None:
    """The one evidence file of an answer, checked by ``core.blobs`` (None: none sent)."""
    if upload is None:
        return None
    checked = blobs.check(
        [upload],
        field="evidence",
        max_files=1,
        max_mb=get_settings().supervision.max_evidence_mb,
    )
    return checked[0] if checked else None


def answer(
    session: Session,
    *,
    principal: Principal,
    assessment: Assessment,
    item_code: str,
    statement: str,
    evidence: Upload | None = None,
) -> Answer:
    """The institution answers one item (again, while the assessment is a draft), with an
    evidence file; an answer given again keeps its earlier file unless a new one is sent."""
    _own(principal, assessment)
    if assessment.state != AssessmentState.DRAFT:
        raise Conflict(
            "the assessment is {state}; only a draft is answered",
            field="state",
            state=assessment.state,
        )
    item = _item_or_raise(session, item_code.strip())
    text = (statement or "").strip()
    if not text:
        raise ValidationFailed("this field is required", field="statement")
    if len(text) > STATEMENT_MAX:
        raise ValidationFailed(
            "at most {maximum} characters", field="statement", maximum=STATEMENT_MAX
        )
    checked = _checked_upload(evidence)
    row = _answer(session, assessment, item.code)
    if row is None:
        row = Answer(assessment_id=assessment.id, item_code=item.code)
        session.add(row)
    row.statement = text
    row.answered_by = principal.actor
    row.answered_at = clock.now()
    row.verdict = row.score = row.remark = row.reviewed_by = row.reviewed_at = None
    if checked is not None:
        upload, kind = checked
        row.evidence_sha256 = blobs.store(evidence_dir(), upload.content)
        row.evidence_name = blobs.clean_name(upload.filename)
        row.evidence_type = kind
        row.evidence_size = len(upload.content)
    session.flush()
    return row


def submit(session: Session, *, principal: Principal, assessment: Assessment) -> Assessment:
    """The institution hands the assessment in: every required item answered with evidence."""
    _own(principal, assessment)
    ASSESSMENTS.check(assessment, "submit", actor_kind=principal.organization_kind)
    answers = {a.item_code: a for a in answers_of(session, assessment)}
    for item in checklist.items(session):
        if not item.required:
            continue
        given = answers.get(item.code)
        if given is None or given.evidence_sha256 is None:
            log.info(
                "assessment %s refused at submission: %s has no evidence",
                assessment.public_id,
                item.code,
            )
            raise ValidationFailed(
                "required item {item} needs an answer with evidence",
                field=f"answers.{item.code}",
                item=item.code,
            )
    assessment.submitted_at = clock.now()
    ASSESSMENTS.move(
        session, assessment, "submit", actor=principal.actor, actor_kind=principal.organization_kind
    )
    return assessment


# --------------------------------------------------------------------------- the operator


def _operator(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.OPERATOR:
        log.info("assessment decision refused to %s", principal.actor)
        raise Forbidden("only the operator reviews and decides assessments", field="assessment_id")
    if not principal.can_write:
        raise Forbidden("read-only members cannot change anything", field="assessment_id")


def review(
    session: Session, *, principal: Principal, assessment: Assessment, data: ReviewIn
) -> Answer:
    """The operator's verdict and score on one answered item of a submitted assessment."""
    _operator(principal)
    if assessment.state != AssessmentState.SUBMITTED:
        raise Conflict(
            "the assessment is {state}; only a submitted one is reviewed",
            field="state",
            state=assessment.state,
        )
    if data.verdict not in tuple(Verdict):
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="verdict",
            value=data.verdict,
            allowed=", ".join(Verdict),
        )
    row = _answer(session, assessment, data.item_code.strip())
    if row is None:
        raise NotFound("item {item} was not answered", field="item_code", item=data.item_code)
    row.verdict = data.verdict
    row.score = data.score
    row.remark = (data.remark or "").strip() or None
    row.reviewed_by = principal.actor
    row.reviewed_at = clock.now()
    session.flush()
    return row


def weighted_score(items: list[ChecklistItem], answers: dict[str, Answer]) -> int:
    """0..100: the items' scores weighted by the checklist (an item not answered scores 0)."""
    total = sum(item.weight for item in items)
    if total == 0:
        return 0
    points = sum(
        item.weight * (answers[item.code].score or 0) for item in items if item.code in answers
    )
    return round(points / total)


def decide(
    session: Session, *, principal: Principal, assessment: Assessment, data: DecisionIn
) -> Assessment:
    """The operator passes (a level, conditions, an expiry) or fails a reviewed assessment,
    or returns it to the institution for more."""
    _operator(principal)
    if data.outcome not in DECISIONS:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="outcome",
            value=data.outcome,
            allowed=", ".join(DECISIONS),
        )
    name = data.outcome
    ASSESSMENTS.check(assessment, name, actor_kind=principal.organization_kind, reason=data.reason)
    items = checklist.items(session)
    answers = {a.item_code: a for a in answers_of(session, assessment)}
    if name != "return":
        unreviewed = [code for code, a in answers.items() if a.verdict is None]
        if unreviewed:
            raise Conflict(
                "review every answered item first: {items}",
                field="answers",
                items=", ".join(sorted(unreviewed)),
            )
    assessment.score = weighted_score(items, answers)
    if name == "pass":
        if data.level not in tuple(Level):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="level",
                value=data.level or "",
                allowed=", ".join(Level),
            )
        rejected = [
            i.code
            for i in items
            if i.required and i.code in answers and answers[i.code].verdict == Verdict.REJECTED
        ]
        if rejected:
            raise Conflict(
                "a required item was rejected: {items}", field="answers", items=", ".join(rejected)
            )
        days = data.valid_days or get_settings().supervision.assessment_valid_days
        earlier = standing(session, organization_id=assessment.organization_id)
        assessment.level = data.level
        assessment.conditions = (data.conditions or "").strip() or None
        assessment.expires_on = clock.today() + timedelta(days=days)
        ASSESSMENTS.move(
            session,
            assessment,
            "pass",
            actor=principal.actor,
            actor_kind=principal.organization_kind,
            reason=level_note(data.level, assessment.expires_on, data.reason),
        )
        if earlier is not None and earlier.id != assessment.id:
            ASSESSMENTS.move(
                session, earlier, "supersede", actor=principal.actor, actor_kind=SYSTEM
            )
        _grant(session, assessment)
        return assessment
    ASSESSMENTS.move(
        session,
        assessment,
        name,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=data.reason,
    )
    return assessment


def _organization(session: Session, organization_id: str) -> Organization:
    return iam_service.get_organization_or_raise(session, public_id=organization_id)


def _grant(session: Session, assessment: Assessment) -> None:
    organization = _organization(session, assessment.organization_id)
    iam_service.clearance.record_assessment(
        session,
        organization_id=organization.id,
        assessment_id=assessment.public_id,
        level=assessment.level,
        expires_on=assessment.expires_on,
    )


def lower_level(
    session: Session, *, organization_id: str, actor: str, reason: str
) -> Assessment | None:
    """A sanction lowers the institution's standing level by one (C stays C); the assessment
    it stands on, if any, records the move."""
    current = standing(session, organization_id=organization_id)
    if current is None or current.state != AssessmentState.PASSED or current.level is None:
        return None
    order = tuple(Level)
    current.level = order[min(order.index(Level(current.level)) + 1, len(order) - 1)]
    ASSESSMENTS.move(
        session,
        current,
        "lower",
        actor=actor,
        actor_kind=OrgKind.OPERATOR,
        reason=level_note(current.level, current.expires_on, reason),
    )
    _grant(session, current)
    return current


# --------------------------------------------------------------------------- the yearly cycle


def due_statement(*, today: date, within_days: int) -> Select[Any]:
    """Passed assessments that expire within ``within_days`` (or already did), soonest first."""
    return (
        select(Assessment)
        .where(
            Assessment.state == AssessmentState.PASSED,
            Assessment.expires_on <= today + timedelta(days=within_days),
        )
        .order_by(Assessment.expires_on, Assessment.id)
    )


def remind_due(session: Session, *, today: date, limit: int = 1000) -> list[Assessment]:
    """Mark the passed assessments coming up for renewal whose institutions were not told
    yet; the institution's page shows the reminder until it renews."""
    within = get_settings().supervision.reminder_days
    rows = list(
        session.scalars(
            due_statement(today=today, within_days=within)
            .where(Assessment.reminded_on.is_(None), Assessment.expires_on >= today)
            .limit(limit)
        )
    )
    for row in rows:
        row.reminded_on = today
        log.info("re-assessment of %s due by %s", row.organization_id, row.expires_on)
    session.flush()
    return rows


def lapse_due(session: Session, *, today: date, limit: int = 1000) -> int:
    """Passed assessments past their expiry lapse (the access decision already holds their
    institutions back from the day after expiry; this records it)."""
    rows = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.state == AssessmentState.PASSED, Assessment.expires_on < today)
            .order_by(Assessment.id)
            .limit(limit)
            .with_for_update()
        )
    )
    for row in rows:
        ASSESSMENTS.move(session, row, "lapse", actor="system:supervision", actor_kind=SYSTEM)
    return len(rows)


def renewal_due(assessment: Assessment | None, today: date) -> bool:
    """Whether an institution's standing assessment is within the reminder window or past."""
    if assessment is None or assessment.expires_on is None:
        return True
    return assessment.expires_on <= today + timedelta(days=get_settings().supervision.reminder_days)
