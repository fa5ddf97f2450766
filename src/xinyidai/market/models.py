"""Tables of the financing marketplace: products institutions publish, needs enterprises
post, applications, decision rules, loans and repayments (their moves are recorded in
``core.transitions``).

Institutions and enterprises are named by their public ids and credit codes (plain
values), never by foreign keys into another domain's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, TimestampMixin, UTCDateTime

MONEY = Numeric(20, 2)
RATE = Numeric(7, 4)  # annual rate in percent, e.g. 4.3500


class ProductState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class NeedState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ApplicationState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# An application still waiting for its decision.
OPEN_APPLICATION_STATES = (
    ApplicationState.SUBMITTED,
    ApplicationState.ACCEPTED,
    ApplicationState.INFO_REQUESTED,
)


class DecisionMode(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class LoanState(StrEnum):
    CURRENT = "current"
    OVERDUE = "overdue"
    REPAID = "repaid"
    DEFAULTED = "defaulted"
    WRITTEN_OFF = "written_off"


# A loan still being repaid (or collected): it takes repayments and counts days overdue.
RUNNING_LOAN_STATES = (LoanState.CURRENT, LoanState.OVERDUE, LoanState.DEFAULTED)


class EndpointState(StrEnum):
    """A webhook endpoint's state as its history records it (the row keeps ``active``)."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Outcome(StrEnum):
    """What came of one attempt at a webhook delivery."""

    DELIVERED = "delivered"  # a 2xx answer
    REJECTED = "rejected"  # any other answer (a redirect is not followed)
    UNREACHABLE = "unreachable"  # no answer: connection refused, timeout, TLS failure
    REFUSED = "refused"  # the URL no longer passes the outbound check (not sent)
    UNSIGNABLE = "unsignable"  # the secret does not open with this node's key (not sent)


class Product(TimestampMixin, Base):
    """A financing product an institution publishes in the product supermarket."""

    __tablename__ = "market_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    institution_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    product_type: Mapped[str] = mapped_column(String(30), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    amount_min: Mapped[Decimal] = mapped_column(MONEY)
    amount_max: Mapped[Decimal] = mapped_column(MONEY)
    term_min: Mapped[int] = mapped_column(Integer)
    term_max: Mapped[int] = mapped_column(Integer)
    rate_min: Mapped[Decimal] = mapped_column(RATE)
    rate_max: Mapped[Decimal] = mapped_column(RATE)
    repayment_methods: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
    industries: Mapped[list[str]] = mapped_column(JSON)
    collateral: Mapped[list[str]] = mapped_column(JSON)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON)
    documents: Mapped[list[str]] = mapped_column(JSON)
    zones: Mapped[list[str]] = mapped_column(JSON)
    # A policy product names the risk-sharing and subsidy schemes it is eligible for (their
    # public ids; the sharing domain says which exist, through ``products.scheme_finders``).
    policy_schemes: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))


class Need(TimestampMixin, Base):
    """A financing need an enterprise posts: how much, how long, what for, on what terms."""

    __tablename__ = "market_need"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    industry_code: Mapped[str | None] = mapped_column(String(5))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(500))
    max_rate: Mapped[Decimal | None] = mapped_column(RATE)
    collateral: Mapped[list[str]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(120))


class Application(TimestampMixin, Base):
    """An enterprise's application to a product, from a need or directly, and its decision."""

    __tablename__ = "market_application"
    __table_args__ = (
        Index("ix_market_application_key", "credit_code", "idempotency_key", unique=True),
        Index("ix_market_application_institution_state", "institution_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[str] = mapped_column(String(40), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    need_id: Mapped[str | None] = mapped_column(String(40))
    institution_id: Mapped[str] = mapped_column(String(40))
    institution_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    term_months: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(500))
    letter_id: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    info_request: Mapped[str | None] = mapped_column(Text)
    decision_mode: Mapped[str | None] = mapped_column(String(10))
    decided_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    decided_rate: Mapped[Decimal | None] = mapped_column(RATE)
    decided_term: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_trace: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_ms: Mapped[int | None] = mapped_column(Integer)


class DecisionRule(TimestampMixin, Base):
    """An institution's automatic-approval rules for one product."""

    __tablename__ = "market_decision_rule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(String(40), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    min_grade: Mapped[str] = mapped_column(String(3))
    amount_caps: Mapped[dict[str, str]] = mapped_column(JSON)
    rates: Mapped[dict[str, str]] = mapped_column(JSON)
    hard_declines: Mapped[list[str]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(120))


class Loan(TimestampMixin, Base):
    """A disbursed loan: the contract's terms, the balance and the state of repayment."""

    __tablename__ = "market_loan"
    __table_args__ = (Index("ix_market_loan_institution_state", "institution_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    contract_number: Mapped[str] = mapped_column(String(60), unique=True)
    application_id: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[str] = mapped_column(String(40))
    product_type: Mapped[str] = mapped_column(String(30))
    institution_id: Mapped[str] = mapped_column(String(40))
    institution_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    principal: Mapped[Decimal] = mapped_column(MONEY)
    rate: Mapped[Decimal] = mapped_column(RATE)
    term_months: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(30))
    start_on: Mapped[date] = mapped_column(Date)
    maturity_on: Mapped[date] = mapped_column(Date)
    balance: Mapped[Decimal] = mapped_column(MONEY)
    interest_paid: Mapped[Decimal] = mapped_column(MONEY)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))


class Instalment(Base):
    """One line of a loan's repayment schedule and how much of it is paid."""

    __tablename__ = "market_instalment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("market_loan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(MONEY)
    interest: Mapped[Decimal] = mapped_column(MONEY)
    paid_principal: Mapped[Decimal] = mapped_column(MONEY)
    paid_interest: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date | None] = mapped_column(Date)


class Repayment(Base):
    """Money the borrower paid on a loan, split into interest and principal."""

    __tablename__ = "market_repayment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("market_loan.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    principal: Mapped[Decimal] = mapped_column(MONEY)
    interest: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(120))


class WebhookEndpoint(TimestampMixin, Base):
    """Where an institution wants to hear of new matching needs, with its signing secret.

    The secret is stored sealed (``core.sealing``, bound to the endpoint's public id) and
    shown once, when it is made. After a rotation the previous secret still signs beside
    the new one until ``previous_secret_expires_at``."""

    __tablename__ = "market_webhook_endpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebhookDelivery(TimestampMixin, Base):
    """One event sent (or being sent) to an endpoint: its state and when it is tried next.

    ``round_attempts`` counts the attempts since the delivery was queued (or queued again
    by hand, a row of ``core.transitions``); the back-off schedule is read from it.
    ``attempts`` counts them all."""

    __tablename__ = "market_webhook_delivery"
    __table_args__ = (Index("ix_market_webhook_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("market_webhook_endpoint.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    """One try at a delivery: when, what came of it, and when the next try is due."""

    __tablename__ = "market_webhook_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("market_webhook_delivery.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
