"""What goes in and out of risk sharing over the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Int
from xinyidai.sharing.models import ClaimState, LossBasis, SchemeState

REASON_MAX = 2000


class PartyIn(BaseModel):
    """One party to a scheme and its share of every loss, in percent."""

    role: str = Field(max_length=40, description="guarantor, reguarantor, bank, treasury…")
    name: str = Field(max_length=200)
    organization_id: str | None = Field(
        default=None, max_length=40, description="the party's organization on the platform"
    )
    share: Decimal = Field(description="percent of every loss, e.g. 40; all sum to 100")
    pool_pays: bool = Field(default=False, description="the region's pool pays this share")


class SchemeIn(BaseModel):
    """A scheme as the operator writes it."""

    name: str = Field(max_length=200)
    region_code: str = Field(description="GB/T 2260 code of the region it covers")
    product_ids: list[str] = Field(default_factory=list, description="products covered")
    product_types: list[str] = Field(default_factory=list, description="product types covered")
    zones: list[str] = Field(default_factory=list, description="product zones covered")
    parties: list[PartyIn]
    cap_per_loan: Decimal | None = Field(default=None, description="largest loss of one loan")
    cap_per_enterprise: Decimal | None = Field(
        default=None, description="largest sum of claims on one enterprise"
    )
    cap_per_institution_year: Decimal | None = Field(
        default=None, description="largest sum of claims one institution files in a year"
    )
    loss_basis: str = Field(default=LossBasis.PRINCIPAL, description=", ".join(LossBasis))
    interest_days: Int = Field(default=0, ge=0, le=3650, description="days of interest counted")
    claim_deadline_days: Int = Field(default=180, ge=1, le=3650)
    guarantor_id: str | None = Field(
        default=None, max_length=40, description="the guarantor institution of its contracts"
    )
    fee_rate: Decimal = Field(default=Decimal("1.0000"), description="guarantee fee, % a year")
    valid_from: date
    valid_to: date | None = None


class PartyOut(BaseModel):
    role: str
    name: str
    organization_id: str | None
    share: Decimal
    pool_pays: bool


class SchemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    family_id: str
    version: int
    name: str
    region_code: str
    product_ids: list[str]
    product_types: list[str]
    zones: list[str]
    parties: list[PartyOut]
    cap_per_loan: Decimal | None
    cap_per_enterprise: Decimal | None
    cap_per_institution_year: Decimal | None
    loss_basis: LossBasis
    interest_days: int
    claim_deadline_days: int
    guarantor_id: str | None
    fee_rate: Decimal
    valid_from: date
    valid_to: date | None
    state: SchemeState
    state_changed_at: datetime
    state_reason: str | None


class TransitionIn(BaseModel):
    transition: str
    reason: str | None = Field(default=None, max_length=REASON_MAX)


class EnrolIn(BaseModel):
    """A guarantor accepts a loan under a scheme after disbursement."""

    loan_id: str = Field(max_length=40)
    scheme_id: str = Field(max_length=40)


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    loan_id: str
    contract_number: str
    scheme_id: str
    scheme_version: int
    institution_id: str
    guarantor_id: str | None
    credit_code: str
    enterprise_name: str
    principal: Decimal
    fee_rate: Decimal
    fee: Decimal
    reguarantee: bool
    enrolled_on: date


class ClaimIn(BaseModel):
    """The lender files a claim for a defaulted enrolled loan."""

    loan_id: str = Field(max_length=40)
    idempotency_key: str | None = Field(
        default=None, max_length=100, description="the same key files the same claim once"
    )


class ClaimMoveIn(BaseModel):
    """A reviewer's move: review, endorse, request_documents, approve, approve_part, reject,
    pay, close."""

    transition: str
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    amount: Decimal | None = Field(default=None, description="approve_part: the loss approved")


class RecoveryIn(BaseModel):
    amount: Decimal = Field(description="money recovered from the borrower after payout")
    note: str | None = Field(default=None, max_length=REASON_MAX)


class ShareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: str
    name: str
    organization_id: str | None
    share: Decimal
    pool_pays: bool
    amount: Decimal
    recovered: Decimal


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    loan_id: str
    contract_number: str
    institution_id: str
    guarantor_id: str | None
    credit_code: str
    enterprise_name: str
    defaulted_on: date
    deadline_on: date
    filed_on: date
    principal_loss: Decimal
    interest_loss: Decimal
    claimed_loss: Decimal
    approved_loss: Decimal | None
    paid_total: Decimal
    recovered_total: Decimal
    pool_reserved: Decimal
    pool_shortfall: Decimal
    endorsed_by: str | None
    documents_requested: str | None
    state: ClaimState
    state_changed_at: datetime
    state_reason: str | None


class ClaimDocumentOut(BaseModel):
    """A file sent with a claim (fetched through ``…/documents/{id}``)."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"))
    filename: str
    content_type: str = Field(description="the type its first bytes show: PDF, PNG, JPEG, OFD")
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class ClaimDetailOut(ClaimOut):
    scheme_id: str
    scheme_version: int
    shares: list[ShareOut]
    documents: list[ClaimDocumentOut] = Field(default_factory=list)


class PoolIn(BaseModel):
    region_code: str
    name: str = Field(max_length=200)
    floor: Decimal = Field(
        default=Decimal("0.00"), description="free money below which no loan is enrolled"
    )


class TopUpIn(BaseModel):
    amount: Decimal
    note: str | None = Field(default=None, max_length=REASON_MAX)


class PoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    region_code: str
    name: str
    balance: Decimal
    reserved: Decimal
    available: Decimal
    topped_up: Decimal
    paid_out: Decimal
    recovered: Decimal
    floor: Decimal
    covered: Decimal = Field(description="principal of the loans enrolled under its schemes")
    leverage: Decimal | None = Field(description="loans covered ÷ balance")


class MovementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    kind: str
    party: str | None
    amount: Decimal
    note: str | None
    at: datetime


# --------------------------------------------------------------------------- interest subsidies


class SubsidySchemeIn(BaseModel):
    """An interest-subsidy scheme as the operator writes it."""

    name: str = Field(max_length=200)
    region_code: str = Field(description="GB/T 2260 code of the region that pays it")
    rule: str = Field(description="share (a % of the interest paid) or points (% points)")
    rate: Decimal = Field(description="the share in percent, or the percentage points")
    cap_per_enterprise_year: Decimal | None = Field(
        default=None, description="the most one enterprise receives in a calendar year"
    )
    first_loans_only: bool = Field(default=False, description="only an enterprise's 首贷")
    credit_loans_only: bool = Field(default=False, description="only credit (unsecured) loans")
    regions: list[str] = Field(default_factory=list, description="only borrowers here")
    industries: list[str] = Field(default_factory=list, description="only these industries")
    clawback_on_default: bool = Field(default=False, description="take it back on default")
    valid_from: date
    valid_to: date | None = None


class SubsidySchemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    name: str
    region_code: str
    rule: str
    rate: Decimal
    cap_per_enterprise_year: Decimal | None
    first_loans_only: bool
    credit_loans_only: bool
    regions: list[str]
    industries: list[str]
    clawback_on_default: bool
    valid_from: date
    valid_to: date | None
    state: SchemeState


class BatchIn(BaseModel):
    """A bank applies for the subsidies of its repayments in a period."""

    scheme_id: str = Field(max_length=40)
    start: date
    end: date


class SubsidyLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    loan_id: str
    repayment_id: str
    credit_code: str
    enterprise_name: str
    paid_on: date
    interest: Decimal
    amount: Decimal
    clawed_back: bool


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    institution_id: str
    period_start: date
    period_end: date
    lines: int
    interest: Decimal
    total: Decimal
    state: str
    state_changed_at: datetime
    state_reason: str | None


class BatchDetailOut(BatchOut):
    scheme_id: str
    items: list[SubsidyLineOut]
