"""Tables of risk sharing: schemes and their versions, loans enrolled under them, claims
and each party's part of a claim, regional compensation pools, and the money movements
(each also a leaf of the ledger)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, StoredFileMixin, TimestampMixin, UTCDateTime

MONEY = Numeric(20, 2)
RATE = Numeric(7, 4)  # a percentage, e.g. 40.0000 (a share) or 1.0000 (a fee a year)


class SchemeState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class LossBasis(StrEnum):
    """What a claim's loss counts."""

    PRINCIPAL = "principal"  # unpaid principal only
    PRINCIPAL_INTEREST = "principal_interest"  # plus unpaid interest due, up to N days of it


class ClaimState(StrEnum):
    FILED = "filed"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    REJECTED = "rejected"
    PAID = "paid"
    RECOVERING = "recovering"
    CLOSED = "closed"


# A claim whose amount still counts against the scheme's caps.
COUNTED_CLAIM_STATES = (
    ClaimState.FILED,
    ClaimState.UNDER_REVIEW,
    ClaimState.APPROVED,
    ClaimState.PARTLY_APPROVED,
    ClaimState.PAID,
    ClaimState.RECOVERING,
    ClaimState.CLOSED,
)


class MovementKind(StrEnum):
    """One movement of money the platform records."""

    TOP_UP = "top_up"  # money put into a pool
    RESERVE = "reserve"  # a pool's money held for a claim under review
    RELEASE = "release"  # a reserve given back (claim decided or rejected)
    SHARE = "share"  # a party's part of a claim's payout
    POOL_PAYOUT = "pool_payout"  # the pool's part of a payout, debited from the pool
    RECOVERY = "recovery"  # a party's part of money recovered after payout
    POOL_RECOVERY = "pool_recovery"  # the pool's part of a recovery, credited back
    FEE = "fee"  # a guarantee fee charged at enrolment
    SUBSIDY = "subsidy"  # an interest subsidy paid to an enterprise
    CLAWBACK = "clawback"  # a subsidy taken back when the loan defaulted


class Scheme(TimestampMixin, Base):
    """One version of a risk-sharing scheme. ``family_id`` is the first version's id: every
    version of a scheme shares it; editing an active scheme makes a new version."""

    __tablename__ = "sharing_scheme"
    __table_args__ = (UniqueConstraint("family_id", "version", name="uq_sharing_scheme_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    product_ids: Mapped[list[str]] = mapped_column(JSON)
    product_types: Mapped[list[str]] = mapped_column(JSON)
    zones: Mapped[list[str]] = mapped_column(JSON)
    # [{"role", "name", "organization_id", "share" (percent, text), "pool_pays"}]
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cap_per_loan: Mapped[Decimal | None] = mapped_column(MONEY)
    cap_per_enterprise: Mapped[Decimal | None] = mapped_column(MONEY)
    cap_per_institution_year: Mapped[Decimal | None] = mapped_column(MONEY)
    loss_basis: Mapped[str] = mapped_column(String(30))
    interest_days: Mapped[int] = mapped_column(Integer)
    claim_deadline_days: Mapped[int] = mapped_column(Integer)
    guarantor_id: Mapped[str | None] = mapped_column(String(40))
    fee_rate: Mapped[Decimal] = mapped_column(RATE)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class Pool(TimestampMixin, Base):
    """A region's compensation pool (风险补偿资金池). ``balance`` is the money in it;
    ``reserved`` the part held for claims under review; below ``floor`` free money, no new
    loan is enrolled under a scheme the pool pays into."""

    __tablename__ = "sharing_pool"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    balance: Mapped[Decimal] = mapped_column(MONEY)
    reserved: Mapped[Decimal] = mapped_column(MONEY)
    topped_up: Mapped[Decimal] = mapped_column(MONEY)
    paid_out: Mapped[Decimal] = mapped_column(MONEY)
    recovered: Mapped[Decimal] = mapped_column(MONEY)
    floor: Mapped[Decimal] = mapped_column(MONEY)
    created_by: Mapped[str] = mapped_column(String(120))


class Enrolment(TimestampMixin, Base):
    """A loan covered by one version of a scheme, with its guarantee contract."""

    __tablename__ = "sharing_enrolment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    loan_id: Mapped[str] = mapped_column(String(40), unique=True)
    contract_number: Mapped[str] = mapped_column(String(60))
    scheme_id: Mapped[int] = mapped_column(BigId, ForeignKey("sharing_scheme.id"), index=True)
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    guarantor_id: Mapped[str | None] = mapped_column(String(40), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    product_id: Mapped[str] = mapped_column(String(40))
    principal: Mapped[Decimal] = mapped_column(MONEY)
    fee_rate: Mapped[Decimal] = mapped_column(RATE)
    fee: Mapped[Decimal] = mapped_column(MONEY)
    reguarantee: Mapped[bool] = mapped_column(Boolean)
    enrolled_on: Mapped[date] = mapped_column(Date)
    enrolled_by: Mapped[str] = mapped_column(String(120))


class Claim(TimestampMixin, Base):
    """A lender's compensation claim for one defaulted enrolled loan (one per loan)."""

    __tablename__ = "sharing_claim"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    loan_id: Mapped[str] = mapped_column(String(40), unique=True)
    contract_number: Mapped[str] = mapped_column(String(60))
    enrolment_id: Mapped[int] = mapped_column(BigId, ForeignKey("sharing_enrolment.id"))
    scheme_id: Mapped[int] = mapped_column(BigId, ForeignKey("sharing_scheme.id"), index=True)
    pool_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sharing_pool.id"), index=True)
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    guarantor_id: Mapped[str | None] = mapped_column(String(40), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    defaulted_on: Mapped[date] = mapped_column(Date)
    deadline_on: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date] = mapped_column(Date)
    principal_loss: Mapped[Decimal] = mapped_column(MONEY)
    interest_loss: Mapped[Decimal] = mapped_column(MONEY)
    claimed_loss: Mapped[Decimal] = mapped_column(MONEY)
    approved_loss: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_total: Mapped[Decimal] = mapped_column(MONEY)
    recovered_total: Mapped[Decimal] = mapped_column(MONEY)
    pool_reserved: Mapped[Decimal] = mapped_column(MONEY)
    pool_shortfall: Mapped[Decimal] = mapped_column(MONEY)
    endorsed_by: Mapped[str | None] = mapped_column(String(120))
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    documents_requested: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class ClaimDocument(StoredFileMixin, Base):
    """A file sent with a claim (the loan contract, the default's proof, what a reviewer
    asked for); its bytes are kept under the data folder by their SHA-256 (``core.blobs``)."""

    __tablename__ = "sharing_claim_document"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    claim_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sharing_claim.id", ondelete="CASCADE"), index=True
    )


class ClaimShare(Base):
    """One party's part of a claim: its share, what it paid and what came back to it."""

    __tablename__ = "sharing_claim_share"
    __table_args__ = (UniqueConstraint("claim_id", "position", name="uq_sharing_claim_share"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sharing_claim.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[str | None] = mapped_column(String(40))
    share: Mapped[Decimal] = mapped_column(RATE)
    pool_pays: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    recovered: Mapped[Decimal] = mapped_column(MONEY)


class Movement(Base):
    """One movement of money (a top-up, a reserve, a party's part of a payout or of a
    recovery); each is a salted leaf of the ledger (``sharing.money``) whose ref is its id."""

    __tablename__ = "sharing_movement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    pool_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sharing_pool.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sharing_claim.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sharing_enrolment.id"))
    party: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    digest: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


# --------------------------------------------------------------------------- interest subsidies


class SubsidyRule(StrEnum):
    """How a subsidy is worked out from the interest an enterprise actually paid."""

    SHARE = "share"  # a share of the interest paid, in percent
    POINTS = "points"  # percentage points of the loan's rate


class BatchState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class SubsidyScheme(TimestampMixin, Base):
    """An interest-subsidy scheme (贴息): its rule, its cap per enterprise a year and who is
    eligible; draft → active → closed."""

    __tablename__ = "sharing_subsidy_scheme"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    rule: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal] = mapped_column(RATE)
    cap_per_enterprise_year: Mapped[Decimal | None] = mapped_column(MONEY)
    first_loans_only: Mapped[bool] = mapped_column(Boolean)
    credit_loans_only: Mapped[bool] = mapped_column(Boolean)
    regions: Mapped[list[str]] = mapped_column(JSON)
    industries: Mapped[list[str]] = mapped_column(JSON)
    clawback_on_default: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class SubsidyBatch(TimestampMixin, Base):
    """A bank's application for the subsidies of one period's repayments under a scheme."""

    __tablename__ = "sharing_subsidy_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    scheme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sharing_subsidy_scheme.id"), index=True
    )
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    lines: Mapped[int] = mapped_column(Integer)
    interest: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class SubsidyLine(Base):
    """The subsidy of one repayment: the interest actually paid and what it earns. A
    repayment is subsidised once per scheme."""

    __tablename__ = "sharing_subsidy_line"
    __table_args__ = (
        UniqueConstraint("scheme_id", "repayment_id", name="uq_sharing_subsidy_line_repayment"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sharing_subsidy_batch.id", ondelete="CASCADE"), index=True
    )
    scheme_id: Mapped[int] = mapped_column(BigId, ForeignKey("sharing_subsidy_scheme.id"))
    loan_id: Mapped[str] = mapped_column(String(40), index=True)
    repayment_id: Mapped[str] = mapped_column(String(40))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    paid_on: Mapped[date] = mapped_column(Date)
    interest: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    clawed_back: Mapped[bool] = mapped_column(Boolean, default=False)
