"""What subject rights take in and give out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from xinyidai.audit.schemas import AccessEventOut
from xinyidai.consent.schemas import ReportOut
from xinyidai.records.models import NoteKind
from xinyidai.rights.models import Handler, ObjectionState, ObjectionTarget, RepairState
from xinyidai.scoring.schemas import RatingOut

TEXT_MAX = 5000
REASON_MAX = 2000


class ObjectionIn(BaseModel):
    """An objection as the enterprise files it."""

    target: ObjectionTarget = Field(description="record, field or rating")
    record_id: str | None = Field(default=None, max_length=32, description="record or field")
    field: str | None = Field(default=None, max_length=40, description="the field, for field")
    wrong: str = Field(min_length=1, max_length=TEXT_MAX, description="what is wrong")
    correction_asked: str = Field(
        min_length=1, max_length=TEXT_MAX, description="the correction asked for"
    )


class MoveIn(BaseModel):
    """One step of an objection's handling."""

    move: str = Field(description="accept, decline, verify, correct, uphold, escalate, close")
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    data: dict[str, Any] | None = Field(
        default=None,
        description="correct (record or field): the corrected values by field name; the "
        "department's new version of the record is stored with them",
    )


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    credit_code: str
    enterprise_name: str
    target: ObjectionTarget
    record_id: str | None
    category: str | None
    field: str | None
    record_version: int | None
    wrong: str
    correction_asked: str
    handler: Handler
    department: str | None
    state: ObjectionState
    state_reason: str | None
    received_at: datetime
    due_on: date
    answered_at: datetime | None
    corrected_version: int | None
    overdue: bool = False


class ObjectionDetailOut(ObjectionOut):
    history: list[StepOut]
    documents: list[DocumentOut]
    available: list[str] = Field(description="the moves the caller may make now")


class DepartmentFigures(BaseModel):
    handler: str = Field(description="a department's code, or operator")
    received: int
    answered: int
    answered_on_time: int
    open: int
    overdue: int
    on_time_rate: float | None = Field(description="answered on time / answered")


class FiguresOut(BaseModel):
    received: int
    answered: int
    open: int
    overdue: int
    on_time_rate: float | None
    by_handler: list[DepartmentFigures]


class NoticeOut(BaseModel):
    subject_kind: str
    subject_id: str
    message: str = Field(description="in the caller's language")
    created_at: datetime


class RepairIn(BaseModel):
    """A credit-repair application as the enterprise files it."""

    record_id: str = Field(min_length=1, max_length=32, description="the negative record")
    statement: str = Field(
        min_length=1, max_length=TEXT_MAX, description="how the enterprise put it right"
    )
    commitment_signed: bool = Field(description="the credit commitment (信用承诺) is signed")


class RepairStepIn(BaseModel):
    move: str = Field(description="refer, concur, approve, reject")
    reason: str | None = Field(default=None, max_length=REASON_MAX)


class RepairOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    credit_code: str
    enterprise_name: str
    record_id: str
    category: str
    department: str | None
    department_review: bool
    event_on: date | None
    eligible_from: date
    statement: str
    commitment_signed: bool
    state: RepairState
    state_reason: str | None
    submitted_at: datetime
    decided_at: datetime | None


class RepairDetailOut(RepairOut):
    history: list[StepOut]
    documents: list[DocumentOut]
    available: list[str]


class RepairRuleOut(BaseModel):
    category: str
    min_public_days: int
    serious_min_public_days: int | None
    commitment: bool
    documents: list[str]
    department_review: bool


class SelfQueryIn(BaseModel):
    """A self-query: the enterprise's own (no body needed), or one the counter runs."""

    credit_code: str | None = Field(
        default=None, max_length=18, description="the counter: the walk-in enterprise's code"
    )
    identity_check: str | None = Field(
        default=None,
        max_length=500,
        description="the counter: how the walk-in's identity was checked (document, holder)",
    )


class SelfQueryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    credit_code: str
    year: int
    channel: str
    requested_by: str
    access_event: str
    free: bool
    fee: Decimal = Field(description="yuan; 0 unless past the free ones and a fee is set")
    created_at: datetime
    count_this_year: int = 0
    free_per_year: int = 0


class SelfReportOut(BaseModel):
    """The full self-query: every category and field, the rating with reasons, who looked."""

    self_query: SelfQueryOut
    report: ReportOut
    rating: RatingOut | None
    access_log: list[AccessEventOut]


class SelfReportItem(BaseModel):
    """An item the enterprise reported itself."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    credit_code: str
    record_id: str
    version: int
    item: str
    reported_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    documents: list[DocumentOut] = Field(default_factory=list)


class RestructuringIn(BaseModel):
    """A restructuring note (破产重整) the operator records, from the court's decision."""

    credit_code: str = Field(max_length=18)
    kind: NoteKind = Field(description="reorganization_approved or plan_executed")
    decided_on: date = Field(description="the day of the court's decision")
    source: str = Field(min_length=1, max_length=200, description="the court")
    text: str = Field(default="", max_length=2000)
