"""What consent takes in and gives out: purposes and bases, letters, the decision, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Int
from xinyidai.core.clock import Day, Moment
from xinyidai.core.i18n import N_
from xinyidai.privacy.schemas import CategoryView
from xinyidai.records.schemas import RecordLedgerOut, SubjectNoteOut

# --------------------------------------------------------------------------- purposes

LOAN_APPLICATION = "loan_application"
POST_LOAN_MONITORING = "post_loan_monitoring"
GUARANTEE_REVIEW = "guarantee_review"
INSURANCE_UNDERWRITING = "insurance_underwriting"
JOINT_MODELLING = "joint_modelling"
VERIFICATION = "verification"
SUPERVISION = "supervision"
OBJECTION_HANDLING = "objection_handling"
DATA_MAINTENANCE = "data_maintenance"
SELF_QUERY = "self_query"

# What an institution or platform may be authorized for, by letter.
LETTER_PURPOSES = (
    LOAN_APPLICATION,
    POST_LOAN_MONITORING,
    GUARANTEE_REVIEW,
    INSURANCE_UNDERWRITING,
    JOINT_MODELLING,
    VERIFICATION,
)
# Letters for these purposes are an institution's applications (anomaly flags count them).
APPLICATION_PURPOSES = (LOAN_APPLICATION, GUARANTEE_REVIEW, INSURANCE_UNDERWRITING)
# The operator's duties, for which it reads without a letter.
OPERATOR_PURPOSES = (SUPERVISION, OBJECTION_HANDLING, DATA_MAINTENANCE)
PROVIDER_PURPOSES = (DATA_MAINTENANCE,)
PURPOSES = (*LETTER_PURPOSES, SUPERVISION, OBJECTION_HANDLING, DATA_MAINTENANCE, SELF_QUERY)
# Purposes that never need the raw values (data minimization): desensitized views only.
DESENSITIZED_PURPOSES = (JOINT_MODELLING,)

# What a caller means when it names no purpose, by organization kind.
DEFAULT_PURPOSE = {
    "enterprise": SELF_QUERY,
    "operator": SUPERVISION,
    "provider": DATA_MAINTENANCE,
    "institution": LOAN_APPLICATION,
    "platform": LOAN_APPLICATION,
    "auditor": SUPERVISION,
}

# --------------------------------------------------------------------------- legal bases

BASIS_PUBLIC = "public"  # public-level data shared unconditionally
BASIS_SELF = "self"  # the enterprise reads its own data
BASIS_LETTER = "letter"  # an active authorization letter
BASIS_OPERATOR = "operator_duty"  # the credit center's duty (supervision, objections)
BASIS_PROVIDER = "provider_own"  # a department reads what it sent
BASES = (BASIS_PUBLIC, BASIS_SELF, BASIS_LETTER, BASIS_OPERATOR, BASIS_PROVIDER)

# Why a decision (or one category of it) was refused.
NO_BASIS = "no_basis"
LETTER_REVOKED = "letter_revoked"
LETTER_EXPIRED = "letter_expired"
LETTER_USED_UP = "letter_used_up"
LETTER_PAUSED = "letter_paused"
LETTER_PENDING = "letter_pending"
LETTER_REJECTED = "letter_rejected"
LETTER_NOT_YET_VALID = "letter_not_yet_valid"
WRONG_PURPOSE = "wrong_purpose"
WRONG_GRANTEE = "wrong_grantee"
WRONG_SUBJECT = "wrong_subject"
NOT_COVERED = "category_not_covered"
TOO_FREQUENT = "too_frequent"
# An institution held back by supervision (``iam.service.clearance.Hold``'s values).
AGREEMENT_UNSIGNED = "agreement_unsigned"
AGREEMENT_LAPSED = "agreement_lapsed"
ASSESSMENT_MISSING = "assessment_missing"
ASSESSMENT_LAPSED = "assessment_lapsed"


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class CategoryGrant:
    """One category a decision lets the actor see, on which basis, and how each field shows."""

    category: str
    basis: str
    view: CategoryView
    letter_id: str | None = None
    data_from: date | None = None
    data_until: date | None = None
    provider: str | None = None  # provider_own: only the records this department sent


@dataclass(frozen=True)
class Decision:
    """The answer of ``consent.service.decide``: allow or deny, the basis, the field views.

    ``reason`` (a code) and ``message``/``params`` (an English message id) say why a deny
    was refused; an allow may carry a reason too when some categories were withheld for a
    reason worth the auditor's attention (a revoked letter).
    """

    outcome: str
    subject: str
    purpose: str
    categories: tuple[str, ...]
    basis: str | None
    letter_id: str | None
    grants: dict[str, CategoryGrant]
    withheld: dict[str, str]
    event_id: str
    reason: str | None = None
    message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    error_field: str | None = None
    retain_until: date | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"


class FieldViewOut(BaseModel):
    type: str
    grade: str
    view: str = Field(description="raw, masked or withheld")
    rule: str | None = Field(description="the field type whose rule masks it")
    conditional: bool = Field(description="masked only for records the rule's condition fits")


class GrantOut(BaseModel):
    category: str
    basis: str
    letter_id: str | None
    fields: dict[str, FieldViewOut]


class DecisionOut(BaseModel):
    """A decision as the API shows it (``POST /access/decisions``)."""

    outcome: str
    subject: str
    purpose: str
    categories: list[str]
    basis: str | None
    letter_id: str | None
    reason: str | None
    event_id: str
    grants: list[GrantOut]
    withheld: dict[str, str] = Field(description="category → why it is not shown")


class DecisionIn(BaseModel):
    credit_code: str
    categories: list[str] | None = Field(
        default=None, description="null: every category the caller may see"
    )
    purpose: str | None = None
    letter_id: str | None = None


# --------------------------------------------------------------------------- letters


class LetterTerms(BaseModel):
    """The terms of a letter, as the enterprise grants them or an institution asks for them."""

    categories: list[str] = Field(default_factory=list, description="catalogue category codes")
    levels: list[str] = Field(
        default_factory=list,
        description="sensitivity levels covered (public, restricted, confidential, personal)",
    )
    purpose: str = Field(description=", ".join(LETTER_PURPOSES))
    view: str = Field(default="full", description="full or desensitized")
    valid_from: Moment | None = Field(default=None, description="default: now")
    valid_until: Moment
    data_from: Day | None = Field(default=None, description="only data dated from this day")
    data_until: Day | None = Field(default=None, description="only data dated up to this day")
    fetch_mode: str = Field(default="once", description="once, on_demand or periodic")
    fetch_period_days: Int | None = Field(
        default=None, description="periodic: at most one fetch per this many days"
    )
    data_life_days: Int = Field(default=30, description="days the grantee may keep what it fetched")
    max_queries: Int | None = Field(default=None, description="null: unlimited")
    note: str | None = None


class LetterIn(LetterTerms):
    """An enterprise grants a letter: to one organization, or any institution it applies to."""

    grantee_scope: str = Field(
        default="organization", description="organization or any_institution"
    )
    grantee_id: str | None = Field(default=None, description="the grantee's public id (org_…)")


class LetterRequestIn(LetterTerms):
    """An institution or platform asks an enterprise for a letter."""

    credit_code: str


class ReasonIn(BaseModel):
    reason: str | None = None


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime
    digest: str


class LetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="aut_…")
    credit_code: str
    grantor_id: str | None
    grantor_name: str
    grantee_scope: str
    grantee_id: str | None
    grantee_name: str | None
    grantee_kind: str | None
    categories: list[str]
    levels: list[str]
    purpose: str
    view: str
    valid_from: datetime
    valid_until: datetime
    data_from: date | None
    data_until: date | None
    fetch_mode: str
    fetch_period_days: int | None
    data_life_days: int
    max_queries: int | None
    queries_used: int
    last_used_at: datetime | None
    state: str
    note: str | None
    requested_by: str | None
    state_changed_at: datetime
    state_changed_by: str
    state_reason: str | None
    created_at: datetime


class LetterDetailOut(LetterOut):
    transitions: list[TransitionOut]


# --------------------------------------------------------------------------- commitment


class CommitmentTextIn(BaseModel):
    title: str
    body: str


class CommitmentTextOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    digest: str = Field(description="SHA-256 of the title and body as signed")
    published_by: str
    published_at: datetime


class SignIn(BaseModel):
    version: Int = Field(description="the version of the text being signed")


class SignatureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    credit_code: str
    organization_id: str
    text_version: int
    text_digest: str
    signed_by: str
    signed_at: datetime


# --------------------------------------------------------------------------- reports


class ReportRecord(BaseModel):
    id: str
    event_on: date | None
    version: int
    updated_at: datetime
    data: dict[str, Any]
    provider: str = Field(default="", description="the department that sent this version")
    ledger: RecordLedgerOut | None = Field(
        default=None, description="only for a record shown in full (docs/ledger.md)"
    )
    marks: list[str] = Field(
        default_factory=list,
        description="shown beside the record: objection (异议处理中)",
    )


class ReportSection(BaseModel):
    category: str
    name_zh: str
    name_en: str
    level: str
    basis: str
    letter_id: str | None
    fields: dict[str, FieldViewOut]
    records: list[ReportRecord]
    hidden_expired: int = Field(description="negative records past their disclosure period")


class ReportOut(BaseModel):
    """An institution's credit report of one enterprise: what it is entitled to, desensitized."""

    report_number: str
    credit_code: str
    name: str
    generated_at: datetime
    requested_by: str
    organization: str
    purpose: str
    basis: str | None
    letter_id: str | None
    retain_until: date | None = Field(
        description="the grantee must not keep this report after this day (the letter's data life)"
    )
    access_event: str = Field(description="the audit event of this read (acc_…)")
    sections: list[ReportSection]
    withheld: dict[str, str] = Field(description="category → why it is not in the report")
    notes: list[SubjectNoteOut] = Field(
        default_factory=list,
        description="shown beside the records: a restructuring (破产重整) and its plan",
    )


# How purposes, bases, refusal reasons and levels read on screen and in reports (message ids).
PURPOSE_LABELS = {
    "loan_application": N_("Loan application"),
    "post_loan_monitoring": N_("Post-loan monitoring"),
    "guarantee_review": N_("Guarantee review"),
    "insurance_underwriting": N_("Insurance underwriting"),
    "joint_modelling": N_("Joint modelling"),
    "verification": N_("Verification"),
    "supervision": N_("Supervision"),
    "objection_handling": N_("Objection handling"),
    "data_maintenance": N_("Data maintenance"),
    "self_query": N_("Own query"),
}
BASIS_LABELS = {
    "public": N_("Public data"),
    "self": N_("The enterprise itself"),
    "letter": N_("Authorization letter"),
    "operator_duty": N_("Credit center's duty"),
    "provider_own": N_("Department's own data"),
}
REASON_LABELS = {
    "no_basis": N_("no authorization"),
    "letter_revoked": N_("letter revoked"),
    "letter_expired": N_("letter expired"),
    "letter_used_up": N_("letter used up"),
    "letter_paused": N_("letter paused"),
    "letter_pending": N_("letter not yet granted"),
    "letter_rejected": N_("letter rejected"),
    "letter_not_yet_valid": N_("letter not yet valid"),
    "wrong_purpose": N_("another purpose"),
    "wrong_grantee": N_("another grantee"),
    "wrong_subject": N_("another enterprise"),
    "category_not_covered": N_("not covered by the letter"),
    "too_frequent": N_("fetched too often"),
}
LEVEL_LABELS = {
    "public": N_("Public"),
    "restricted": N_("Restricted"),
    "confidential": N_("Confidential"),
    "personal": N_("Personal information"),
}
