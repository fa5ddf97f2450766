"""What supervision takes in and gives out over the API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Flag, Int

REASON_MAX = 2000


class AgreementIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)


class AgreementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    body_sha256: str
    sign_by: datetime
    published_by: str
    created_at: datetime


class SignatureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    version: int
    organization_id: str
    organization_name: str
    signer: str
    signer_name: str
    body_sha256: str
    signed_at: datetime


class SignIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    version: Int = Field(ge=1, description="the version read and signed")
    accept: Flag = Field(description="true: I have read the agreement and sign it")


class ChecklistItemIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=200)
    guidance: str = Field(default="", max_length=4000)
    required: Flag = True
    weight: Int = Field(default=10, ge=0, le=100)
    position: Int = Field(default=0, ge=0, le=1000)
    active: Flag = True


class ChecklistItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    guidance: str
    required: bool
    weight: int
    position: int
    active: bool


class AnswerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_code: str
    statement: str
    evidence_name: str | None
    evidence_type: str | None
    evidence_size: int | None
    evidence_sha256: str | None
    answered_by: str
    answered_at: datetime
    verdict: str | None
    score: int | None
    remark: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    organization_id: str
    organization_name: str
    state: str
    submitted_at: datetime | None
    score: int | None
    level: str | None
    conditions: str | None
    expires_on: date | None
    state_changed_at: datetime
    state_changed_by: str
    state_reason: str | None
    created_at: datetime


class AssessmentDetailOut(AssessmentOut):
    answers: list[AnswerOut]


class ReviewIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    item_code: str = Field(min_length=1, max_length=40)
    verdict: str = Field(description="accepted or rejected")
    score: Int = Field(ge=0, le=100, description="0..100 for this item")
    remark: str | None = Field(default=None, max_length=REASON_MAX)


class DecisionIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    outcome: str = Field(description="pass, fail, or return (to the institution for more)")
    level: str | None = Field(default=None, description="A, B or C when passed")
    conditions: str | None = Field(default=None, max_length=REASON_MAX)
    valid_days: Int | None = Field(
        default=None, ge=30, le=1095, description="days it lasts (default: the setting)"
    )
    # the move records the level and the expiry before it, within REASON_MAX
    reason: str | None = Field(default=None, max_length=REASON_MAX - 100)


class StandingOut(BaseModel):
    """An institution in the operator's table: its level, expiry and agreement."""

    organization_id: str
    organization_name: str
    organization_state: str
    level: str | None
    expires_on: date | None
    agreement_version: int | None
    agreement_due_at: datetime | None
    hold: str | None = Field(description="why its reads are held back now (None: they are not)")
    open_findings: int


class FindingIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    organization_id: str = Field(min_length=1, max_length=40)
    event_id: str = Field(min_length=1, max_length=40, description="the access event misused")
    summary: str = Field(min_length=1, max_length=REASON_MAX)


class FindingMoveIn(BaseModel):
    # a number or a yes-or-no is what JSON calls one: "0", 0.0 and false are not numbers
    model_config = ConfigDict(strict=True)

    transition: str = Field(description="explain, remedy or sanction")
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    sanction: str | None = Field(
        default=None, description="for sanction: warning, lower_level or suspend"
    )


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    organization_id: str
    organization_name: str
    flag: str
    flag_key: str
    summary: str
    explanation: str | None
    sanction: str | None
    state: str
    state_changed_at: datetime
    state_changed_by: str
    state_reason: str | None
    created_at: datetime
