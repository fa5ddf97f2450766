"""Objections (异议): an enterprise disputes a record, one field of it, or its rating.

The objection goes to whoever can answer it: the department that is the source of the
record's category (its inbox in the provider portal), or the operator for the rating and
the platform's own data. It moves ``submitted → accepted (or declined, with the reason) →
verifying → corrected / upheld / escalated to the operator → closed`` (``OBJECTIONS``), each
move a leaf of the ledger (``rights.objection``: salted, the body stays in the database so
the public leaf names nobody) and a notice to the enterprise. It must be answered within
``rights.objection_days`` calendar days of receipt (征信业管理条例: 20 days); the handler is
reminded ``rights.reminder_days`` before, and an objection past its day unanswered is
overdue on the operator's dashboard and in ``xyd rights overdue``.

While it is open its record is marked (``records`` mark ``objection``): every view, report,
PDF and export shows 「异议处理中」 beside it. A correction is the department's new version
of the record, stored through ingestion as a batch of one row linked to the objection, and
the enterprise is re-rated; the correction goes to the outbox for other nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import SYSTEM, Machine, Move
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.ledger import service as ledger_service
from xinyidai.records import service as records_service
from xinyidai.records.models import MarkKind
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import (
    ANSWERED_STATES,
    OPEN_OBJECTION_STATES,
    Audience,
    DocumentOwner,
    Handler,
    Objection,
    ObjectionState,
    ObjectionStep,
    ObjectionTarget,
    OutboxKind,
)
from xinyidai.rights.schemas import (
    REASON_MAX,
    DepartmentFigures,
    DocumentOut,
    FiguresOut,
    ObjectionDetailOut,
    ObjectionIn,
    ObjectionOut,
    StepOut,
)
from xinyidai.rights.service import documents, notices, outbox
from xinyidai.scoring import service as rating_service
from xinyidai.scoring.models import TRIGGER_REQUEST

LEDGER_KIND = "rights.objection"
LEDGER_ACTOR = "system:rights"
LEDGER_SUBJECT = "objection"
SUBJECT_KIND = "objection"
# Categories whose records the platform itself keeps: objections go to the operator.
PLATFORM_PROVIDERS = frozenset({"platform", "operator", "enterprise"})

_ENTERPRISE = (OrgKind.ENTERPRISE,)
_HANDLERS = (OrgKind.PROVIDER, OrgKind.OPERATOR)
_CLOSERS = (OrgKind.ENTERPRISE, OrgKind.OPERATOR, SYSTEM)


# --------------------------------------------------------------------------- the ledger


def terms_body(objection: Objection) -> dict[str, Any]:
    """What never changes after filing."""
    return {
        "id": objection.public_id,
        "credit_code": objection.credit_code,
        "target": objection.target,
        "record_id": objection.record_id,
        "category": objection.category,
        "field": objection.field,
        "record_version": objection.record_version,
        "handler": objection.handler,
        "department": objection.department,
        "received_at": clock.as_utc(objection.received_at).isoformat(timespec="microseconds"),
        "due_on": objection.due_on.isoformat(),
    }


def _step_body(objection: Objection, row: ObjectionStep) -> dict[str, Any]:
    return {
        "objection": terms_body(objection),
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "reason": row.reason,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


OBJECTIONS: Machine[ObjectionState] = Machine(
    kind="rights_objection",
    states=ObjectionState,
    subject=Objection,
    moves=(
        Move("submit", (), ObjectionState.SUBMITTED, _ENTERPRISE),
        Move("accept", (ObjectionState.SUBMITTED,), ObjectionState.ACCEPTED, _HANDLERS),
        Move(
            "decline",
            (ObjectionState.SUBMITTED,),
            ObjectionState.DECLINED,
            _HANDLERS,
            reason_required=True,
        ),
        Move("verify", (ObjectionState.ACCEPTED,), ObjectionState.VERIFYING, _HANDLERS),
        Move(
            "correct",
            (ObjectionState.VERIFYING, ObjectionState.ESCALATED),
            ObjectionState.CORRECTED,
            _HANDLERS,
        ),
        Move(
            "uphold",
            (ObjectionState.VERIFYING, ObjectionState.ESCALATED),
            ObjectionState.UPHELD,
            _HANDLERS,
            reason_required=True,
        ),
        Move(
            "escalate",
            (ObjectionState.VERIFYING,),
            ObjectionState.ESCALATED,
            (OrgKind.PROVIDER,),
            reason_required=True,
        ),
        Move(
            "close",
            (ObjectionState.DECLINED, ObjectionState.CORRECTED, ObjectionState.UPHELD),
            ObjectionState.CLOSED,
            _CLOSERS,
        ),
    ),
    refusal=N_("the objection is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} an objection"),
    forbidden_field="objection_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
    # Each move a row of its own table and a salted leaf of the ledger whose reference
    # names the row (``objection:row id``).
    history=ledger_service.LedgeredSteps(
        LEDGER_KIND,
        step=ObjectionStep,
        owner=Objection,
        owner_key="objection_id",
        body=_step_body,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
    ),
)
# The moves an objection's handler makes, by the name the API and the portal use.
HANDLER_MOVES = ("accept", "decline", "verify", "correct", "uphold", "escalate")


# --------------------------------------------------------------------------- reading


def get(session: Session, *, objection_id: str, lock: bool = False) -> Objection | None:
    stmt = select(Objection).where(Objection.public_id == objection_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def may_see(principal: Principal, objection: Objection) -> bool:
    """The enterprise that filed it, its handler, and the operator."""
    kind = principal.organization_kind
    if kind == OrgKind.OPERATOR:
        return True
    if kind == OrgKind.ENTERPRISE:
        return principal.credit_code == objection.credit_code
    if kind == OrgKind.PROVIDER:
        return (
            objection.handler == Handler.DEPARTMENT
            and principal.organization_code == objection.department
        )
    return False


def visible_or_raise(
    session: Session, *, principal: Principal, objection_id: str, lock: bool = False
) -> Objection:
    """The objection if the caller is one of its parties; the same ``NotFound`` otherwise."""
    objection = get(session, objection_id=objection_id, lock=lock)
    if objection is None or not may_see(principal, objection):
        raise NotFound("no objection {id}", field="objection_id", id=objection_id)
    return objection


def is_overdue(objection: Objection, *, today: date) -> bool:
    """Open (not answered) past its day."""
    return objection.state in OPEN_OBJECTION_STATES and today > objection.due_on


def objections_statement(
    principal: Principal,
    *,
    state: str | None = None,
    overdue: bool = False,
    today: date | None = None,
) -> Select[Any]:
    """The objections the caller is party to, the nearest deadline first, filtered."""
    stmt = select(Objection)
    kind = principal.organization_kind
    if kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(Objection.credit_code == (principal.credit_code or ""))
    elif kind == OrgKind.PROVIDER:
        stmt = stmt.where(
            Objection.handler == Handler.DEPARTMENT,
            Objection.department == (principal.organization_code or ""),
        )
    elif kind != OrgKind.OPERATOR:
        raise Forbidden("only the parties to an objection may see it", field="objection_id")
    if state:
        if state not in set(ObjectionState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(ObjectionState),
            )
        stmt = stmt.where(Objection.state == state)
    if overdue:
        stmt = stmt.where(
            Objection.state.in_(OPEN_OBJECTION_STATES),
            Objection.due_on < (today or clock.today()),
        )
    return stmt.order_by(Objection.due_on, Objection.id)


def out(objection: Objection, *, today: date | None = None) -> ObjectionOut:
    shown = ObjectionOut.model_validate(objection)
    shown.overdue = is_overdue(objection, today=today or clock.today())
    return shown


def available(principal: Principal, objection: Objection) -> list[str]:
    """The moves the caller may make now (the department only on its own objections)."""
    if not principal.can_write:
        return []
    moves = OBJECTIONS.available(objection, actor_kind=principal.organization_kind)
    if principal.organization_kind == OrgKind.PROVIDER and (
        objection.handler != Handler.DEPARTMENT or objection.state == ObjectionState.ESCALATED
    ):
        return []
    if principal.organization_kind == OrgKind.OPERATOR and objection.handler == Handler.DEPARTMENT:
        # the operator answers a department's objection once it is escalated, and may close
        moves = [m for m in moves if objection.state == ObjectionState.ESCALATED or m == "close"]
    return moves


def detail(session: Session, *, principal: Principal, objection: Objection) -> ObjectionDetailOut:
    return ObjectionDetailOut(
        **out(objection).model_dump(),
        history=[StepOut.model_validate(s) for s in OBJECTIONS.history(session, objection)],
        documents=[
            DocumentOut.model_validate(d)
            for d in documents.documents_of(
                session, owner_kind=DocumentOwner.OBJECTION, owner_id=objection.id
            )
        ],
        available=available(principal, objection),
    )


# --------------------------------------------------------------------------- filing


@dataclass(frozen=True)
class Route:
    handler: Handler
    department: str | None


def route_of(category: str | None, provider: str | None) -> Route:
    """Who answers: the category's source department, or the operator."""
    if category is None or provider is None or provider in PLATFORM_PROVIDERS:
        return Route(Handler.OPERATOR, None)
    return Route(Handler.DEPARTMENT, provider)


def _open_duplicate(
    session: Session, *, credit_code: str, record_id: str | None, field: str | None, target: str
) -> Objection | None:
    stmt = select(Objection).where(
        Objection.credit_code == credit_code,
        Objection.target == target,
        Objection.state.in_(OPEN_OBJECTION_STATES),
    )
    stmt = stmt.where(
        Objection.record_id.is_(None) if record_id is None else Objection.record_id == record_id
    )
    stmt = stmt.where(Objection.field.is_(None) if field is None else Objection.field == field)
    return session.scalar(stmt.limit(1))


def file(
    session: Session,
    *,
    principal: Principal,
    data: ObjectionIn,
    uploads: Sequence[documents.Upload] = (),
) -> Objection:
    """The enterprise files an objection to its own record, field or rating."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise may object to its own records", field="objection_id")
    code = principal.credit_code
    checked = documents.check(uploads)
    record_id = category = field = None
    version = None
    provider = None
    if data.target == ObjectionTarget.RATING:
        if data.record_id or data.field:
            raise ValidationFailed("an objection to the rating names no record", field="record_id")
    else:
        if not data.record_id:
            raise ValidationFailed("name the record", field="record_id")
        record = records_service.get_or_raise(session, record_id=data.record_id)
        if record.subject_code != code:
            # the same answer as for no record: nobody learns whose records exist
            raise NotFound("no record {record_id}", field="record_id", record_id=data.record_id)
        record_id, category, version = record.id, record.category, record.version
        provider = record.provider
        if data.target == ObjectionTarget.FIELD:
            spec = catalog_service.specs_in_force(session).get(record.category)
            names = [f.name for f in spec.fields] if spec else []
            if not data.field or data.field not in names:
                raise ValidationFailed(
                    "{value} is not one of {allowed}",
                    field="field",
                    value=data.field or "",
                    allowed=", ".join(names),
                )
            field = data.field
            if spec is not None:
                provider = spec.provider
        else:
            if data.field:
                raise ValidationFailed("name a field only for target field", field="field")
            spec = catalog_service.specs_in_force(session).get(record.category)
            if spec is not None:
                provider = spec.provider
    duplicate = _open_duplicate(
        session, credit_code=code, record_id=record_id, field=field, target=data.target
    )
    if duplicate is not None:
        raise Conflict(
            "objection {id} on the same {what} is still open",
            field="field" if field else ("record_id" if record_id else "target"),
            id=duplicate.public_id,
            what=data.target,
        )
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    route = route_of(category, provider)
    now = clock.now()
    today = clock.today()
    objection = Objection(
        public_id=new_id("obj"),
        credit_code=code,
        enterprise_name=subject.name,
        target=data.target,
        record_id=record_id,
        category=category,
        field=field,
        record_version=version,
        wrong=data.wrong.strip(),
        correction_asked=data.correction_asked.strip(),
        handler=route.handler,
        department=route.department,
        filed_by=principal.actor,
        received_at=now,
        due_on=today + timedelta(days=get_settings().rights.objection_days),
    )
    session.add(objection)
    OBJECTIONS.begin(session, objection, "submit", actor=principal.actor, at=now)
    documents.keep(
        session,
        owner_kind=DocumentOwner.OBJECTION,
        owner_id=objection.id,
        uploads=checked,
        actor=principal.actor,
    )
    if record_id is not None and category is not None:
        records_service.pin_mark(
            session,
            record_id=record_id,
            category=category,
            subject_code=code,
            kind=MarkKind.OBJECTION,
            reference=objection.public_id,
        )
    elif data.target == ObjectionTarget.RATING:
        records_service.pin_mark(
            session,
            record_id=records_service.rating_mark_id(code),
            category=records_service.RATING_CATEGORY,
            subject_code=code,
            kind=MarkKind.OBJECTION,
            reference=objection.public_id,
        )
    _tell_enterprise(session, objection)
    notices.send(
        session,
        audience=Audience.DEPARTMENT if route.department else Audience.OPERATOR,
        addressee=route.department or "",
        subject_kind=SUBJECT_KIND,
        subject_id=objection.public_id,
        message=N_("New objection {id}: answer by {due_on}"),
        id=objection.public_id,
        due_on=objection.due_on.isoformat(),
    )
    return objection


def _tell_enterprise(session: Session, objection: Objection) -> None:
    notices.send(
        session,
        audience=Audience.ENTERPRISE,
        addressee=objection.credit_code,
        subject_kind=SUBJECT_KIND,
        subject_id=objection.public_id,
        message=N_("Objection {id} is now {state}"),
        id=objection.public_id,
        state=str(objection.state),
    )


# --------------------------------------------------------------------------- handling


def _check_handler(principal: Principal, objection: Objection, move: str) -> None:
    """A department answers only the objections to its own categories; the operator those
    routed to it, and a department's once escalated (or to close them)."""
    kind = principal.organization_kind
    if kind == OrgKind.PROVIDER:
        if objection.handler != Handler.DEPARTMENT or (
            principal.organization_code != objection.department
        ):
            raise Forbidden(
                "only the source department of the record may answer this objection",
                field="objection_id",
            )
        if objection.state == ObjectionState.ESCALATED:
            raise Conflict("the objection was escalated to the operator", field="state")
    elif kind == OrgKind.OPERATOR and objection.handler == Handler.DEPARTMENT:
        if move in HANDLER_MOVES and objection.state != ObjectionState.ESCALATED:
            raise Forbidden(
                "the source department answers this objection until it is escalated",
                field="objection_id",
            )
    elif kind == OrgKind.ENTERPRISE and principal.credit_code != objection.credit_code:
        raise NotFound("no objection {id}", field="objection_id", id=objection.public_id)


def move(
    session: Session,
    *,
    principal: Principal,
    objection: Objection,
    name: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Objection:
    """One step of the handling, guarded; a correction stores the new version first."""
    OBJECTIONS.named(name, field="move")
    _check_handler(principal, objection, name)
    OBJECTIONS.check(objection, name, actor_kind=principal.organization_kind, reason=reason)
    if name == "correct":
        _correct(session, principal=principal, objection=objection, data=data or {})
    elif data:
        raise ValidationFailed("values are sent only with a correction", field="data")
    OBJECTIONS.move(
        session,
        objection,
        name,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    _after(session, objection)
    return objection


def _after(session: Session, objection: Objection) -> None:
    """What a move brings: the mark cleared once answered, the answer's time, the notice."""
    if objection.state in ANSWERED_STATES:
        records_service.clear_marks(session, kind=MarkKind.OBJECTION, reference=objection.public_id)
        if objection.answered_at is None:
            objection.answered_at = objection.state_changed_at
    _tell_enterprise(session, objection)
    if objection.state == ObjectionState.ESCALATED:
        notices.send(
            session,
            audience=Audience.OPERATOR,
            addressee="",
            subject_kind=SUBJECT_KIND,
            subject_id=objection.public_id,
            message=N_("Objection {id} was escalated: answer by {due_on}"),
            id=objection.public_id,
            due_on=objection.due_on.isoformat(),
        )
    session.flush()


def _correct(
    session: Session, *, principal: Principal, objection: Objection, data: dict[str, Any]
) -> None:
    """The department's new version of the record (a batch of one row linked to the
    objection), or, for the rating, a new rating; then the outbox."""
    if objection.target == ObjectionTarget.RATING or objection.record_id is None:
        if data:
            raise ValidationFailed("a rating is corrected by rating again", field="data")
        rating_service.rate_subjects(
            session, credit_codes=[objection.credit_code], trigger=TRIGGER_REQUEST
        )
        outbox.publish(
            session,
            kind=OutboxKind.CORRECTION,
            subject=objection.credit_code,
            payload={"objection": objection.public_id, "target": objection.target},
        )
        return
    if principal.organization_kind != OrgKind.PROVIDER or objection.department is None:
        raise Forbidden(
            "only the source department may store a corrected version", field="objection_id"
        )
    if not data:
        raise ValidationFailed("send the corrected values", field="data")
    record = records_service.get_or_raise(session, record_id=objection.record_id)
    unknown = sorted(set(data) - set(record.data) - _field_names(session, record.category))
    if unknown:
        raise ValidationFailed("{name} is not a field of the record", field="data", name=unknown[0])
    row = dict(record.data) | data
    batch = ingest_service.push_rows(
        session,
        provider=objection.department,
        category=record.category,
        rows=[row],
        actor=principal.actor,
    )
    if batch.rejected:
        rejected, _ = ingest_service.rejections_of(session, batch_id=batch.id)
        first = rejected[0]
        raise ValidationFailed(
            "the corrected record is refused: {reason}",
            field=first.field or "data",
            reason=first.reason,
        )
    session.refresh(record)
    if record.version == (objection.record_version or record.version) and batch.updated == 0:
        raise ValidationFailed(
            "the corrected values are those of the record (or change its key)", field="data"
        )
    objection.corrected_version = record.version
    objection.correction_batch_id = batch.id
    rating_service.rate_subjects(
        session, credit_codes=[objection.credit_code], trigger=TRIGGER_REQUEST
    )
    outbox.publish(
        session,
        kind=OutboxKind.CORRECTION,
        subject=objection.credit_code,
        payload={
            "objection": objection.public_id,
            "record_id": record.id,
            "category": record.category,
            "version": record.version,
        },
    )


def _field_names(session: Session, category: str) -> set[str]:
    spec = catalog_service.specs_in_force(session).get(category)
    return {f.name for f in spec.fields} if spec else set()


def add_documents(
    session: Session,
    *,
    principal: Principal,
    objection: Objection,
    uploads: Sequence[documents.Upload],
) -> None:
    """The enterprise adds proof while its objection is open."""
    if principal.credit_code != objection.credit_code:
        raise Forbidden("only the enterprise that objected may add proof", field="objection_id")
    if objection.state not in OPEN_OBJECTION_STATES:
        raise Conflict(
            "the objection is {state}; it takes no more proof", field="state", state=objection.state
        )
    documents.keep(
        session,
        owner_kind=DocumentOwner.OBJECTION,
        owner_id=objection.id,
        uploads=documents.check(uploads),
        actor=principal.actor,
    )


# --------------------------------------------------------------------------- deadlines


def overdue(session: Session, *, today: date | None = None) -> list[Objection]:
    """Open objections past their day, the oldest deadline first."""
    day = today or clock.today()
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.state.in_(OPEN_OBJECTION_STATES), Objection.due_on < day)
            .order_by(Objection.due_on, Objection.id)
        )
    )


def remind_due(session: Session, *, today: date | None = None) -> int:
    """Remind the handler of each open objection whose day is near (once); how many."""
    day = today or clock.today()
    horizon = day + timedelta(days=get_settings().rights.reminder_days)
    due = session.scalars(
        select(Objection).where(
            Objection.state.in_(OPEN_OBJECTION_STATES),
            Objection.due_on <= horizon,
            Objection.reminded_at.is_(None),
        )
    ).all()
    for objection in due:
        escalated = objection.state == ObjectionState.ESCALATED
        to_operator = objection.handler == Handler.OPERATOR or escalated
        notices.send(
            session,
            audience=Audience.OPERATOR if to_operator else Audience.DEPARTMENT,
            addressee="" if to_operator else (objection.department or ""),
            subject_kind=SUBJECT_KIND,
            subject_id=objection.public_id,
            message=N_("Objection {id} must be answered by {due_on}"),
            id=objection.public_id,
            due_on=objection.due_on.isoformat(),
        )
        objection.reminded_at = clock.now()
    session.flush()
    return len(due)


def figures(session: Session, *, today: date | None = None) -> FiguresOut:
    """Objections received, answered (on time), open and overdue, per handler."""
    day = today or clock.today()
    rows = session.execute(
        select(
            Objection.handler,
            Objection.department,
            Objection.state,
            Objection.due_on,
            Objection.answered_at,
        )
    ).all()
    by: dict[str, DepartmentFigures] = {}
    for handler, department, state, due_on, answered_at in rows:
        key = department or str(handler)
        f = by.setdefault(
            key,
            DepartmentFigures(
                handler=key,
                received=0,
                answered=0,
                answered_on_time=0,
                open=0,
                overdue=0,
                on_time_rate=None,
            ),
        )
        f.received += 1
        if answered_at is not None:
            f.answered += 1
            if clock.to_local(answered_at).date() <= due_on:
                f.answered_on_time += 1
        if state in OPEN_OBJECTION_STATES:
            f.open += 1
            if day > due_on:
                f.overdue += 1
    for f in by.values():
        f.on_time_rate = round(f.answered_on_time / f.answered, 4) if f.answered else None
    answered = sum(f.answered for f in by.values())
    on_time = sum(f.answered_on_time for f in by.values())
    return FiguresOut(
        received=sum(f.received for f in by.values()),
        answered=answered,
        open=sum(f.open for f in by.values()),
        overdue=sum(f.overdue for f in by.values()),
        on_time_rate=round(on_time / answered, 4) if answered else None,
        by_handler=sorted(by.values(), key=lambda f: f.handler),
    )


def counts(session: Session) -> dict[str, int]:
    """Objections by state."""
    return {
        str(state): int(n)
        for state, n in session.execute(
            select(Objection.state, func.count()).group_by(Objection.state)
        )
    }
