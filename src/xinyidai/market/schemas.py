"""What the marketplace takes in and gives out: products, needs, matches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Flag, Int
from xinyidai.core.clock import Day
from xinyidai.core.i18n import N_

# --------------------------------------------------------------------------- vocabularies

PRODUCT_TYPES = (
    "credit",  # pure credit loan
    "tax",  # tax-based loan (银税贷)
    "procurement",  # government-procurement loan (政采贷)
    "tech",  # technology-enterprise loan (宁科贷-style)
    "supply_order",  # supply-chain finance on orders
    "supply_warehouse",  # on warehouse receipts
    "supply_inventory",  # on inventory
    "supply_receivable",  # on receivables
    "policy",  # insurance-policy loan
    "ip_pledge",  # intellectual-property pledge
    "guarantee",  # guarantee
)
ZONES = ("rural", "green", "regional", "fast", "relief", "first_loan", "renewal")
# Zones that carry a borrower rule of their own: a first loan (首贷) is for an enterprise
# with no loan on the platform yet; a renewal without repayment (无还本续贷) for one whose
# loan on the platform is current and in good standing.
FIRST_LOAN = "first_loan"
RENEWAL = "renewal"
REPAYMENT_METHODS = ("equal_instalment", "equal_principal", "interest_only")
COLLATERAL = (
    "none",
    "property",
    "equipment",
    "receivables",
    "orders",
    "warehouse_receipt",
    "inventory",
    "ip",
    "policy",
    "guarantee",
    "procurement_contract",
)
URGENCIES = ("normal", "urgent")
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
TAX_GRADES = ("A", "B", "M", "C", "D")
ELIGIBILITY_KEYS = ("min_grade", "no_dishonest", "min_years", "min_tax_grade")

# --------------------------------------------------------------------------- products


class Eligibility(BaseModel):
    """Who may borrow: each rule optional."""

    min_grade: str | None = Field(default=None, description="lowest platform grade, AAA..C")
    no_dishonest: Flag = Field(default=False, description="no dishonest or enforcement record")
    min_years: int | None = Field(default=None, ge=0, le=100, description="years in business")
    min_tax_grade: str | None = Field(default=None, description="lowest tax grade, A B M C D")


class ProductIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    product_type: str = Field(description=", ".join(PRODUCT_TYPES))
    description: str | None = Field(default=None, max_length=4000)
    amount_min: Decimal = Field(description="yuan")
    amount_max: Decimal = Field(description="yuan")
    term_min: Int = Field(description="months")
    term_max: Int = Field(description="months")
    rate_min: Decimal = Field(description="annual rate, percent")
    rate_max: Decimal = Field(description="annual rate, percent")
    repayment_methods: list[str] = Field(description=", ".join(REPAYMENT_METHODS))
    regions: list[str] = Field(default_factory=list, description="region codes; empty: all")
    industries: list[str] = Field(
        default_factory=list, description="industry sections or codes; empty: all"
    )
    collateral: list[str] = Field(
        default_factory=list, description="collateral accepted; empty: none needed"
    )
    eligibility: Eligibility = Field(default_factory=Eligibility)
    documents: list[str] = Field(default_factory=list, description="documents required")
    zones: list[str] = Field(default_factory=list, description=", ".join(ZONES))
    policy_schemes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="a policy product: the risk-sharing (sch_…) and interest-subsidy (sub_…) "
        "schemes it is eligible for",
    )


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="prd_…")
    institution_id: str
    institution_name: str
    name: str
    product_type: str
    description: str | None
    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    rate_min: Decimal
    rate_max: Decimal
    repayment_methods: list[str]
    regions: list[str]
    industries: list[str]
    collateral: list[str]
    eligibility: dict[str, Any]
    documents: list[str]
    zones: list[str]
    policy_schemes: list[str]
    state: str
    state_changed_at: datetime
    state_changed_by: str
    created_at: datetime


# --------------------------------------------------------------------------- needs


class NeedIn(BaseModel):
    amount: Decimal = Field(description="yuan")
    term_months: Int
    purpose: str = Field(min_length=1, max_length=500)
    max_rate: Decimal | None = Field(default=None, description="highest acceptable annual rate, %")
    collateral: list[str] = Field(default_factory=list, description=", ".join(COLLATERAL))
    urgency: str = Field(default="normal", description=", ".join(URGENCIES))


class NeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="ned_…")
    credit_code: str
    enterprise_name: str
    region_code: str | None
    industry_code: str | None
    amount: Decimal
    term_months: int
    purpose: str
    max_rate: Decimal | None
    collateral: list[str]
    urgency: str
    state: str
    created_at: datetime


# --------------------------------------------------------------------------- matching


class Check(BaseModel):
    """One reason a product fits a need or does not."""

    rule: str = Field(description="amount, term, rate, region, industry, collateral, grade...")
    passed: bool | None = Field(
        description=(
            "null: not checked — the rule reads non-public data (the platform rating, the tax "
            "grade…) and the caller has no authorization covering it"
        )
    )
    reason: str = Field(description="why, in the caller's language")


ELIGIBLE = "no checked rule failed (rules not checked count neither way)"
COMPLETE = "every rule was checked; false: some were not (their passed is null)"
FIT = "fit, 0..100, over the checked rules; eligible products first, best first"


class MatchOut(BaseModel):
    product: ProductOut
    eligible: bool = Field(description=ELIGIBLE)
    complete: bool = Field(description=COMPLETE)
    score: int = Field(description=FIT)
    checks: list[Check]


class NeedMatchOut(BaseModel):
    need: NeedOut
    product_id: str
    eligible: bool = Field(description=ELIGIBLE)
    complete: bool = Field(description=COMPLETE)
    score: int = Field(description=FIT)
    checks: list[Check]


class EnterpriseFacts(BaseModel):
    """What eligibility looks at about a borrower; unknown facts are None."""

    credit_code: str
    region_code: str | None = None
    industry_code: str | None = None
    years_in_business: int | None = None
    grade: str | None = None
    dishonest: bool | None = None
    enforcement: bool | None = None
    tax_grade: str | None = None
    blacklisted: bool | None = None
    fraud_confirmed: bool | None = None
    loans_on_platform: int | None = None
    loan_in_good_standing: bool | None = None


# --------------------------------------------------------------------------- webhooks


class WebhookEndpointIn(BaseModel):
    url: str = Field(
        max_length=500,
        description=(
            "http(s) address that receives need.matched; its host must resolve to public "
            "addresses only (https only where the node requires it)"
        ),
    )


class WebhookRotateIn(BaseModel):
    grace_hours: int | None = Field(
        default=None,
        ge=0,
        le=720,
        description=(
            "hours the previous secret keeps signing beside the new one (default: the "
            "node's XYD_WEBHOOK_SECRET_GRACE_HOURS, 24); 0 retires it at once"
        ),
    )


class WebhookEndpointOut(BaseModel):
    """An endpoint as lists and reads show it: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="whk_…")
    url: str
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="until when the previous secret still signs, after a rotation"
    )


class WebhookSecretOut(WebhookEndpointOut):
    """The answer to registration and rotation: the only time the secret is shown."""

    secret: str = Field(
        description="Standard Webhooks signing secret (whsec_…): shown only in this answer"
    )


class WebhookDeliveryOut(BaseModel):
    id: str = Field(description="the webhook-id header, msg_…")
    endpoint_id: str
    event_type: str
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime | None = Field(description="when it is tried next (pending)")
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class WebhookAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    outcome: str = Field(description="delivered, rejected, unreachable, refused or unsignable")
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None = Field(description="the retry this attempt scheduled")


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    history: list[WebhookAttemptOut] = Field(description="every attempt, oldest first")


# --------------------------------------------------------------------------- applications

# The sensitivity levels an application's letter opens to the institution (not personal data).
APPLICATION_LEVELS = ("public", "restricted", "confidential")
APPLICATION_LETTER_DAYS = 90


class ApplicationIn(BaseModel):
    product_id: str
    need_id: str | None = Field(default=None, description="the need this answers, if any")
    amount: Decimal = Field(description="yuan")
    term_months: Int
    repayment_method: str = Field(description=", ".join(REPAYMENT_METHODS))
    purpose: str = Field(min_length=1, max_length=500)
    authorize: Flag = Field(
        default=False,
        description="must be true: the enterprise grants the institution an authorization "
        "letter to read its credit report for this application",
    )


class DecisionIn(BaseModel):
    """The institution's manual decision."""

    outcome: str = Field(description="approve or reject")
    amount: Decimal | None = Field(default=None, description="approved amount, yuan")
    rate: Decimal | None = Field(default=None, description="approved annual rate, percent")
    term_months: Int | None = None
    reason: str | None = Field(default=None, max_length=1000, description="required to reject")


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=1000)


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="app_…")
    product_id: str
    product_name: str
    need_id: str | None
    institution_id: str
    institution_name: str
    credit_code: str
    enterprise_name: str
    region_code: str | None
    amount: Decimal
    term_months: int
    repayment_method: str
    purpose: str
    letter_id: str | None
    state: str
    submitted_at: datetime
    state_changed_at: datetime
    state_changed_by: str
    info_request: str | None
    decision_mode: str | None
    decided_amount: Decimal | None
    decided_rate: Decimal | None
    decided_term: int | None
    decision_reason: str | None
    decision_trace: list[dict[str, Any]] | None
    decided_at: datetime | None
    decided_by: str | None
    decision_ms: int | None


class ApplicationDetailOut(ApplicationOut):
    transitions: list[TransitionOut]


class LatencyOut(BaseModel):
    mode: str
    count: int
    median_ms: int | None
    p95_ms: int | None


# --------------------------------------------------------------------------- decision rules

HARD_DECLINES = ("dishonest", "enforcement", "blacklisted", "fraud_confirmed")
# Hard declines whose fact another domain answers (risk: the financial blacklist, fraud
# cases confirmed), through ``rules.register_decline``.
PLATFORM_DECLINES = ("blacklisted", "fraud_confirmed")


class RulesIn(BaseModel):
    """Automatic-approval rules of one product."""

    enabled: Flag = True
    min_grade: str = Field(description="lowest grade approved automatically; below: rejected")
    amount_caps: dict[str, Decimal] = Field(
        default_factory=dict, description="grade → highest amount approved automatically"
    )
    rates: dict[str, Decimal] = Field(
        default_factory=dict, description="grade → annual rate, %; better grades pay less"
    )
    hard_declines: list[str] = Field(
        default_factory=lambda: list(HARD_DECLINES), description=", ".join(HARD_DECLINES)
    )


class RulesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    enabled: bool
    min_grade: str
    amount_caps: dict[str, Decimal]
    rates: dict[str, Decimal]
    hard_declines: list[str]
    updated_by: str
    updated_at: datetime


# --------------------------------------------------------------------------- loans


class DisburseIn(BaseModel):
    contract_number: str | None = Field(default=None, description="default: XYD-date-id")
    start_on: Day | None = Field(default=None, description="default: today")


class RepaymentIn(BaseModel):
    amount: Decimal = Field(description="yuan")
    paid_on: Day | None = Field(default=None, description="default: today")


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, max_length=1000)


class InstalmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    due_on: date
    principal: Decimal
    interest: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    paid_on: date | None


class RepaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="rpy_…")
    amount: Decimal
    principal: Decimal
    interest: Decimal
    paid_on: date
    recorded_at: datetime
    recorded_by: str


class LoanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="loan_…")
    contract_number: str
    application_id: str
    product_id: str
    product_type: str
    institution_id: str
    institution_name: str
    credit_code: str
    enterprise_name: str
    region_code: str | None
    principal: Decimal
    rate: Decimal
    term_months: int
    repayment_method: str
    start_on: date
    maturity_on: date
    balance: Decimal
    interest_paid: Decimal
    state: str
    state_changed_at: datetime
    state_changed_by: str
    overdue_days: int = 0


class LoanDetailOut(LoanOut):
    schedule: list[InstalmentOut]
    repayments: list[RepaymentOut]
    transitions: list[TransitionOut]


# How the states of products, needs, applications and loans read (message ids).
STATE_LABELS = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "paused": N_("Paused"),
    "withdrawn": N_("Withdrawn"),
    "open": N_("Open"),
    "closed": N_("Closed"),
    "submitted": N_("Submitted"),
    "accepted": N_("Under review"),
    "info_requested": N_("More information requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
    "current": N_("Current"),
    "overdue": N_("Overdue"),
    "repaid": N_("Repaid"),
    "defaulted": N_("Defaulted"),
    "written_off": N_("Written off"),
}

# How webhook deliveries and their attempts read (message ids).
WEBHOOK_LABELS = {
    "pending": N_("Pending"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "rejected": N_("Rejected by the receiver"),
    "unreachable": N_("Receiver unreachable"),
    "refused": N_("Refused: not a public address"),
    "unsignable": N_("Not signed: rotate the secret"),
}
