"""Credit repair (信用修复): an enterprise asks that a negative record stop being disclosed.

The conditions are configuration, per category (``rights/data/repair_rules.json``, or the
file ``rights.repair_rules_file`` names): the minimum public period from the record's event
day (3 months for an ordinary administrative penalty, 1 year for a serious one, as the 2023
national repair measures set), a credit commitment signed, the documents required, and
whether the source department reviews the application before the operator decides.

An application moves ``submitted → (department_review → reviewed) → approved / rejected``
(``REPAIRS``; the operator refers, the source department concurs or rejects, the operator
decides with the reason). On approval the record is marked repaired (``records`` mark
``repaired``): it is kept, for the uses the law allows until its retention ends, but no
view, report, export, rating or product check reads it; the enterprise is re-rated and the
repair goes to the outbox for other nodes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.records import service as records_service
from xinyidai.records.models import MarkKind
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import (
    OPEN_REPAIR_STATES,
    Audience,
    DocumentOwner,
    OutboxKind,
    Repair,
    RepairState,
)
from xinyidai.rights.schemas import (
    REASON_MAX,
    DocumentOut,
    RepairDetailOut,
    RepairIn,
    RepairOut,
    RepairRuleOut,
    StepOut,
)
from xinyidai.rights.service import documents, notices, outbox
from xinyidai.risk.service import alerts as risk_alerts
from xinyidai.scoring import service as rating_service
from xinyidai.scoring.models import TRIGGER_REQUEST

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "data" / "repair_rules.json"
SUBJECT_KIND = "repair"

_OPERATOR = (OrgKind.OPERATOR,)

REPAIRS: Machine[RepairState] = Machine(
    kind="rights_repair",
    states=RepairState,
    subject=Repair,
    moves=(
        Move("apply", (), RepairState.SUBMITTED, (OrgKind.ENTERPRISE,)),
        Move("refer", (RepairState.SUBMITTED,), RepairState.DEPARTMENT_REVIEW, _OPERATOR),
        Move("concur", (RepairState.DEPARTMENT_REVIEW,), RepairState.REVIEWED, (OrgKind.PROVIDER,)),
        Move(
            "approve",
            (RepairState.SUBMITTED, RepairState.REVIEWED),
            RepairState.APPROVED,
            _OPERATOR,
            reason_required=True,
        ),
        Move(
            "reject",
            (RepairState.SUBMITTED, RepairState.DEPARTMENT_REVIEW, RepairState.REVIEWED),
            RepairState.REJECTED,
            (OrgKind.OPERATOR, OrgKind.PROVIDER),
            reason_required=True,
        ),
    ),
    refusal=N_("the repair is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a repair"),
    forbidden_field="repair_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
)
MOVES = ("refer", "concur", "approve", "reject")


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class RepairRule:
    category: str
    min_public_days: int
    serious_field: str | None
    serious_values: tuple[str, ...]
    serious_min_public_days: int | None
    commitment: bool
    documents: tuple[str, ...]
    department_review: bool

    def public_days(self, data: dict[str, Any]) -> int:
        """The minimum public period of a record with this data."""
        if (
            self.serious_field is not None
            and self.serious_min_public_days is not None
            and data.get(self.serious_field) in self.serious_values
        ):
            return self.serious_min_public_days
        return self.min_public_days

    def out(self) -> RepairRuleOut:
        return RepairRuleOut(
            category=self.category,
            min_public_days=self.min_public_days,
            serious_min_public_days=self.serious_min_public_days,
            commitment=self.commitment,
            documents=list(self.documents),
            department_review=self.department_review,
        )


def _parse(body: dict[str, Any]) -> dict[str, RepairRule]:
    rules = {}
    for code, spec in body["categories"].items():
        serious = spec.get("serious") or {}
        rules[code] = RepairRule(
            category=code,
            min_public_days=int(spec["min_public_days"]),
            serious_field=serious.get("field"),
            serious_values=tuple(serious.get("values", ())),
            serious_min_public_days=(
                int(serious["min_public_days"]) if "min_public_days" in serious else None
            ),
            commitment=bool(spec.get("commitment", True)),
            documents=tuple(spec.get("documents", ())),
            department_review=bool(spec.get("department_review", False)),
        )
    return rules


@lru_cache(maxsize=4)
def _rules_at(path: str) -> dict[str, RepairRule]:
    return _parse(json.loads(Path(path).read_text(encoding="utf-8")))


def rules() -> dict[str, RepairRule]:
    """The repair conditions in force, by category."""
    configured = get_settings().rights.repair_rules_file
    return _rules_at(str(configured or SHIPPED_RULES))


def rule_or_raise(category: str) -> RepairRule:
    found = rules().get(category)
    if found is None:
        raise ValidationFailed(
            "records of {category} are not repaired: repair is for negative records of {allowed}",
            field="record_id",
            category=category,
            allowed=", ".join(rules()),
        )
    return found


# --------------------------------------------------------------------------- reading


def get(session: Session, *, repair_id: str, lock: bool = False) -> Repair | None:
    stmt = select(Repair).where(Repair.public_id == repair_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def may_see(principal: Principal, repair: Repair) -> bool:
    kind = principal.organization_kind
    if kind == OrgKind.OPERATOR:
        return True
    if kind == OrgKind.ENTERPRISE:
        return principal.credit_code == repair.credit_code
    if kind == OrgKind.PROVIDER:
        return repair.department_review and principal.organization_code == repair.department
    return False


def visible_or_raise(
    session: Session, *, principal: Principal, repair_id: str, lock: bool = False
) -> Repair:
    repair = get(session, repair_id=repair_id, lock=lock)
    if repair is None or not may_see(principal, repair):
        raise NotFound("no repair {id}", field="repair_id", id=repair_id)
    return repair


def repairs_statement(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The applications the caller is party to, oldest first."""
    stmt = select(Repair)
    kind = principal.organization_kind
    if kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(Repair.credit_code == (principal.credit_code or ""))
    elif kind == OrgKind.PROVIDER:
        stmt = stmt.where(
            Repair.department_review.is_(True),
            Repair.department == (principal.organization_code or ""),
        )
    elif kind != OrgKind.OPERATOR:
        raise Forbidden("only the parties to a repair may see it", field="repair_id")
    if state:
        if state not in set(RepairState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(RepairState),
            )
        stmt = stmt.where(Repair.state == state)
    return stmt.order_by(Repair.submitted_at, Repair.id)


def available(principal: Principal, repair: Repair) -> list[str]:
    if not principal.can_write:
        return []
    moves = REPAIRS.available(repair, actor_kind=principal.organization_kind)
    if principal.organization_kind == OrgKind.OPERATOR:
        if repair.department_review and repair.state == RepairState.SUBMITTED:
            moves = [m for m in moves if m != "approve"]
        if not repair.department_review:
            moves = [m for m in moves if m != "refer"]
        if repair.state == RepairState.DEPARTMENT_REVIEW:
            moves = []
    if principal.organization_kind == OrgKind.PROVIDER and (
        repair.state != RepairState.DEPARTMENT_REVIEW
    ):
        moves = []
    return moves


def detail(session: Session, *, principal: Principal, repair: Repair) -> RepairDetailOut:
    return RepairDetailOut(
        **RepairOut.model_validate(repair).model_dump(),
        history=[StepOut.model_validate(s) for s in REPAIRS.history(session, repair)],
        documents=[
            DocumentOut.model_validate(d)
            for d in documents.documents_of(
                session, owner_kind=DocumentOwner.REPAIR, owner_id=repair.id
            )
        ],
        available=available(principal, repair),
    )


def counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return {
        str(state): int(n)
        for state, n in session.execute(select(Repair.state, func.count()).group_by(Repair.state))
    }


# --------------------------------------------------------------------------- applying


def eligible_from(rule: RepairRule, *, event_on: date | None, data: dict[str, Any]) -> date:
    """The first day the record may be repaired: its event day plus the public period."""
    start = event_on or clock.today()
    return start + timedelta(days=rule.public_days(data))


def apply(
    session: Session,
    *,
    principal: Principal,
    data: RepairIn,
    uploads: Sequence[documents.Upload] = (),
) -> Repair:
    """The enterprise applies to repair one of its negative records, with documents."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise may repair its own records", field="repair_id")
    code = principal.credit_code
    checked = documents.check(uploads)
    record = records_service.get_or_raise(session, record_id=data.record_id)
    if record.subject_code != code:
        raise NotFound("no record {record_id}", field="record_id", record_id=data.record_id)
    rule = rule_or_raise(record.category)
    today = clock.today()
    first_day = eligible_from(rule, event_on=record.event_on, data=record.data)
    if today < first_day:
        raise ValidationFailed(
            "this record may be repaired from {day}, when its minimum public period of "
            "{days} days has passed",
            field="record_id",
            day=first_day.isoformat(),
            days=rule.public_days(record.data),
        )
    if rule.commitment and not data.commitment_signed:
        raise ValidationFailed(
            "sign the credit commitment to apply for repair", field="commitment_signed"
        )
    if len(checked) < len(rule.documents):
        raise ValidationFailed(
            "send the documents this category asks for: {documents}",
            field="files",
            documents=", ".join(rule.documents),
        )
    open_one = session.scalar(
        select(Repair).where(Repair.record_id == record.id, Repair.state.in_(OPEN_REPAIR_STATES))
    )
    if open_one is not None:
        raise Conflict(
            "repair {id} of this record is still open", field="record_id", id=open_one.public_id
        )
    if MarkKind.REPAIRED in records_service.active_marks(session, record_ids=[record.id]).get(
        record.id, set()
    ):
        raise Conflict("this record is already repaired", field="record_id")
    spec = catalog_service.specs_in_force(session).get(record.category)
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    now = clock.now()
    repair = Repair(
        public_id=new_id("rep"),
        credit_code=code,
        enterprise_name=subject.name,
        record_id=record.id,
        category=record.category,
        department=spec.provider if spec else record.provider,
        department_review=rule.department_review,
        event_on=record.event_on,
        eligible_from=first_day,
        statement=data.statement.strip(),
        commitment_signed=data.commitment_signed,
        filed_by=principal.actor,
        submitted_at=now,
    )
    session.add(repair)
    REPAIRS.begin(session, repair, "apply", actor=principal.actor, at=now)
    documents.keep(
        session,
        owner_kind=DocumentOwner.REPAIR,
        owner_id=repair.id,
        uploads=checked,
        actor=principal.actor,
    )
    _tell(session, repair)
    notices.send(
        session,
        audience=Audience.OPERATOR,
        addressee="",
        subject_kind=SUBJECT_KIND,
        subject_id=repair.public_id,
        message=N_("New credit repair application {id}"),
        id=repair.public_id,
    )
    return repair


def _tell(session: Session, repair: Repair) -> None:
    notices.send(
        session,
        audience=Audience.ENTERPRISE,
        addressee=repair.credit_code,
        subject_kind=SUBJECT_KIND,
        subject_id=repair.public_id,
        message=N_("Credit repair {id} is now {state}"),
        id=repair.public_id,
        state=str(repair.state),
    )


def move(
    session: Session,
    *,
    principal: Principal,
    repair: Repair,
    name: str,
    reason: str | None = None,
) -> Repair:
    """One step of the review, guarded: the source department reviews where the category
    says so, and the operator decides with the reason."""
    REPAIRS.named(name, among=MOVES, field="move")
    kind = principal.organization_kind
    if kind == OrgKind.PROVIDER and (
        not repair.department_review or principal.organization_code != repair.department
    ):
        raise Forbidden(
            "only the source department of the record may review this repair", field="repair_id"
        )
    if kind == OrgKind.PROVIDER and repair.state != RepairState.DEPARTMENT_REVIEW:
        raise Conflict("the repair is not with the department for review", field="state")
    if name == "approve" and repair.department_review and repair.state == RepairState.SUBMITTED:
        raise Conflict(
            "the source department reviews repairs of {category} before the decision",
            field="state",
            category=repair.category,
        )
    if name == "refer" and not repair.department_review:
        raise Conflict(
            "repairs of {category} are decided by the operator alone",
            field="state",
            category=repair.category,
        )
    REPAIRS.move(session, repair, name, actor=principal.actor, actor_kind=kind, reason=reason)
    if repair.state in (RepairState.APPROVED, RepairState.REJECTED):
        repair.decided_at = repair.state_changed_at
    if repair.state == RepairState.APPROVED:
        _repaired(session, repair)
    if repair.state == RepairState.DEPARTMENT_REVIEW:
        notices.send(
            session,
            audience=Audience.DEPARTMENT,
            addressee=repair.department or "",
            subject_kind=SUBJECT_KIND,
            subject_id=repair.public_id,
            message=N_("Credit repair {id} awaits your review"),
            id=repair.public_id,
        )
    _tell(session, repair)
    session.flush()
    return repair


def _repaired(session: Session, repair: Repair) -> None:
    """The record stops being disclosed (kept), the enterprise is re-rated, the lenders
    watching it and other nodes told."""
    records_service.pin_mark(
        session,
        record_id=repair.record_id,
        category=repair.category,
        subject_code=repair.credit_code,
        kind=MarkKind.REPAIRED,
        reference=repair.public_id,
    )
    rating_service.rate_subjects(
        session, credit_codes=[repair.credit_code], trigger=TRIGGER_REQUEST
    )
    risk_alerts.on_record_repaired(
        session,
        credit_code=repair.credit_code,
        record_id=repair.record_id,
        category=repair.category,
        repair_id=repair.public_id,
        at=clock.as_utc(repair.state_changed_at),
    )
    outbox.publish(
        session,
        kind=OutboxKind.REPAIR,
        subject=repair.credit_code,
        payload={
            "repair": repair.public_id,
            "record_id": repair.record_id,
            "category": repair.category,
            "decided_at": clock.as_utc(repair.state_changed_at).isoformat(),
        },
    )
