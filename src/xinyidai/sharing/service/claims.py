"""Compensation claims: the lender files for a defaulted enrolled loan, the loss worked out
from the loan's own schedule and repayments; the guarantor and the operator review it; the
payout is split among the scheme's parties exactly (``split``), the pool's part debited
from the pool; later recoveries go back in the same ratio, never more than was paid.

filed → under_review → approved / partly_approved / rejected → paid → recovering → closed.
Filing is idempotent by key; a claim after the deadline or over a cap is refused, with the
reason. Every movement of money is a ledger leaf (``money``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from xinyidai.core import blobs, clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import service as market_service
from xinyidai.market.models import Instalment, Loan, LoanState
from xinyidai.sharing.models import (
    COUNTED_CLAIM_STATES,
    Claim,
    ClaimDocument,
    ClaimShare,
    ClaimState,
    Enrolment,
    LossBasis,
    MovementKind,
    Pool,
    Scheme,
)
from xinyidai.sharing.schemas import (
    REASON_MAX,
    ClaimDetailOut,
    ClaimDocumentOut,
    ClaimOut,
    ShareOut,
)
from xinyidai.sharing.service import enrolment as enrolment_service
from xinyidai.sharing.service import money, pools, schemes
from xinyidai.sharing.service.split import FEN, ZERO, pro_rata, recovery_parts, split, to_fen

_LENDER = (OrgKind.INSTITUTION,)
_REVIEWERS = (OrgKind.INSTITUTION, OrgKind.OPERATOR)
_OPERATOR = (OrgKind.OPERATOR,)
_COLLECTORS = (OrgKind.INSTITUTION, OrgKind.OPERATOR)
CLAIMABLE_LOAN_STATES = (LoanState.DEFAULTED, LoanState.WRITTEN_OFF)
DAYS_A_YEAR = 360  # interest counted by the day as the loan's schedule does (rate ÷ 360)

CLAIMS: Machine[ClaimState] = Machine(
    kind="sharing_claim",
    states=ClaimState,
    subject=Claim,
    moves=(
        Move("file", (), ClaimState.FILED, _LENDER),
        Move("review", (ClaimState.FILED,), ClaimState.UNDER_REVIEW, _REVIEWERS),
        Move(
            "request_documents",
            (ClaimState.UNDER_REVIEW,),
            ClaimState.FILED,
            _REVIEWERS,
            reason_required=True,
        ),
        Move("endorse", (ClaimState.UNDER_REVIEW,), ClaimState.UNDER_REVIEW, _LENDER),
        Move("approve", (ClaimState.UNDER_REVIEW,), ClaimState.APPROVED, _OPERATOR),
        Move(
            "approve_part",
            (ClaimState.UNDER_REVIEW,),
            ClaimState.PARTLY_APPROVED,
            _OPERATOR,
            reason_required=True,
        ),
        Move(
            "reject",
            (ClaimState.FILED, ClaimState.UNDER_REVIEW),
            ClaimState.REJECTED,
            _REVIEWERS,
            reason_required=True,
        ),
        Move("pay", (ClaimState.APPROVED, ClaimState.PARTLY_APPROVED), ClaimState.PAID, _OPERATOR),
        Move(
            "recover", (ClaimState.PAID, ClaimState.RECOVERING), ClaimState.RECOVERING, _COLLECTORS
        ),
        Move(
            "close",
            (ClaimState.PAID, ClaimState.RECOVERING, ClaimState.REJECTED),
            ClaimState.CLOSED,
            _OPERATOR,
        ),
    ),
    refusal=N_("the claim is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a claim"),
    forbidden_field="claim_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
)
# The moves a reviewer asks for by name (``recover`` has its own call with an amount).
MOVES = (
    "review",
    "request_documents",
    "endorse",
    "approve",
    "approve_part",
    "reject",
    "pay",
    "close",
)
# The moves the claim's guarantor (an institution) makes; the lender makes none of them.
GUARANTOR_MOVES = ("review", "request_documents", "endorse", "reject")


# --------------------------------------------------------------------------- the loss


def default_day(session: Session, loan: Loan) -> date:
    """The day (China's) the lender declared the loan defaulted."""
    for step in reversed(market_service.loans.history(session, loan=loan)):
        if step.transition == "default":
            return clock.to_local(step.at).date()
    return clock.to_local(loan.state_changed_at).date()


def loss_of(
    lines: list[Instalment], *, rate: Decimal, basis: str, interest_days: int, defaulted_on: date
) -> tuple[Decimal, Decimal]:
    """The loss counted from a loan's schedule as repaid: its unpaid principal and, where
    the scheme counts it, the unpaid interest due by the default day, at most
    ``interest_days`` days of interest on that principal."""
    principal = sum((line.principal - line.paid_principal for line in lines), ZERO)
    if basis != LossBasis.PRINCIPAL_INTEREST or interest_days <= 0:
        return principal, ZERO
    due = sum(
        (line.interest - line.paid_interest for line in lines if line.due_on <= defaulted_on),
        ZERO,
    )
    limit = to_fen(principal * rate / 100 * interest_days / DAYS_A_YEAR)
    return principal, max(ZERO, min(due, limit))


# --------------------------------------------------------------------------- filing


def _claimed_sum(session: Session, *conditions: Any) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(Claim.claimed_loss), 0))
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(Claim.state.in_(COUNTED_CLAIM_STATES), *conditions)
    )
    return Decimal(total or 0)


def _check_caps(
    session: Session, *, scheme: Scheme, loan: Loan, loss: Decimal, today: date
) -> None:
    if scheme.cap_per_loan is not None and loss > scheme.cap_per_loan:
        raise Conflict(
            "the loss of {loss} is over the scheme's cap of {cap} per loan",
            field="loan_id",
            loss=str(loss),
            cap=str(scheme.cap_per_loan),
        )
    if scheme.cap_per_enterprise is not None:
        claimed = _claimed_sum(
            session, Scheme.family_id == scheme.family_id, Claim.credit_code == loan.credit_code
        )
        if claimed + loss > scheme.cap_per_enterprise:
            raise Conflict(
                "the enterprise's claims would pass the scheme's cap of {cap} per enterprise",
                field="loan_id",
                cap=str(scheme.cap_per_enterprise),
            )
    if scheme.cap_per_institution_year is not None:
        claimed = _claimed_sum(
            session,
            Scheme.family_id == scheme.family_id,
            Claim.institution_id == loan.institution_id,
            Claim.filed_on >= date(today.year, 1, 1),
            Claim.filed_on <= date(today.year, 12, 31),
        )
        if claimed + loss > scheme.cap_per_institution_year:
            raise Conflict(
                "your claims this year would pass the scheme's cap of {cap} per institution",
                field="loan_id",
                cap=str(scheme.cap_per_institution_year),
            )


def file(
    session: Session, *, principal: Principal, loan_id: str, idempotency_key: str | None = None
) -> tuple[Claim, bool]:
    """The lender files a claim for its defaulted enrolled loan; the claim and whether it is
    new (the same key files it once: filing again answers the first claim)."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only the lending institution may file a claim", field="loan_id")
    key = (idempotency_key or "").strip() or None
    if key is not None:
        earlier = session.scalar(
            select(Claim).where(
                Claim.idempotency_key == key,
                Claim.institution_id == principal.organization_public_id,
            )
        )
        if earlier is not None:
            if earlier.loan_id != loan_id:
                raise Conflict(
                    "the idempotency key was used for another loan", field="idempotency_key"
                )
            return earlier, False
    loan = market_service.loans.visible_or_raise(
        session, principal=principal, loan_id=loan_id, lock=True
    )
    if loan.institution_id != principal.organization_public_id:
        raise Forbidden("only the lending institution may file a claim", field="loan_id")
    enrolment = enrolment_service.of_loan(session, loan_id=loan.public_id)
    if enrolment is None:
        raise Conflict(
            "loan {loan} is not enrolled in a risk-sharing scheme",
            field="loan_id",
            loan=loan.public_id,
        )
    if loan.state not in CLAIMABLE_LOAN_STATES:
        raise Conflict(
            "only a defaulted loan is claimed; this one is {state}",
            field="loan_id",
            state=loan.state,
        )
    earlier = session.scalar(select(Claim).where(Claim.loan_id == loan.public_id))
    if earlier is not None:
        raise Conflict(
            "a claim for this loan was filed already: {claim}",
            field="loan_id",
            claim=earlier.public_id,
        )
    scheme = session.get(Scheme, enrolment.scheme_id)
    assert scheme is not None  # a foreign key
    today = clock.today()
    defaulted_on = default_day(session, loan)
    deadline = defaulted_on + timedelta(days=scheme.claim_deadline_days)
    if today > deadline:
        raise Conflict(
            "the deadline to claim for this loan passed on {deadline}",
            field="loan_id",
            deadline=deadline.isoformat(),
        )
    principal_loss, interest_loss = loss_of(
        market_service.loans.instalments_of(session, loan=loan),
        rate=loan.rate,
        basis=scheme.loss_basis,
        interest_days=scheme.interest_days,
        defaulted_on=defaulted_on,
    )
    loss = principal_loss + interest_loss
    if loss <= 0:
        raise Conflict("the loan shows no loss to claim", field="loan_id")
    _check_caps(session, scheme=scheme, loan=loan, loss=loss, today=today)
    claim = Claim(
        public_id=new_id("clm"),
        loan_id=loan.public_id,
        contract_number=loan.contract_number,
        enrolment_id=enrolment.id,
        scheme_id=scheme.id,
        institution_id=loan.institution_id,
        guarantor_id=enrolment.guarantor_id,
        credit_code=loan.credit_code,
        enterprise_name=loan.enterprise_name,
        idempotency_key=key,
        defaulted_on=defaulted_on,
        deadline_on=deadline,
        filed_on=today,
        principal_loss=principal_loss,
        interest_loss=interest_loss,
        claimed_loss=loss,
        approved_loss=None,
        paid_total=ZERO,
        recovered_total=ZERO,
        pool_reserved=ZERO,
        pool_shortfall=ZERO,
    )
    session.add(claim)
    CLAIMS.begin(session, claim, "file", actor=principal.actor, reason=loan.contract_number)
    _add_shares(session, claim, scheme)
    return claim, True


def _add_shares(session: Session, claim: Claim, scheme: Scheme) -> None:
    """The claim's parties as the scheme's version names them, nothing paid yet."""
    for position, party in enumerate(scheme.parties):
        session.add(
            ClaimShare(
                claim_id=claim.id,
                position=position,
                role=party["role"],
                name=party["name"],
                organization_id=party.get("organization_id"),
                share=Decimal(party["share"]),
                pool_pays=bool(party["pool_pays"]),
                amount=ZERO,
                recovered=ZERO,
            )
        )
    session.flush()


# --------------------------------------------------------------------------- reading


def visible(principal: Principal) -> Select[Any]:
    """The claims the principal may list, newest first: the lender's and the guarantor's
    own, every one for the operator."""
    stmt = select(Claim).order_by(Claim.id.desc())
    if principal.organization_kind == OrgKind.OPERATOR:
        return stmt
    if principal.organization_kind == OrgKind.INSTITUTION:
        org = principal.organization_public_id
        return stmt.where(or_(Claim.institution_id == org, Claim.guarantor_id == org))
    raise Forbidden("claims are for their parties and the operator", field="claim_id")


def statement(principal: Principal, *, state: str | None = None) -> Select[Any]:
    stmt = visible(principal)
    if state:
        stmt = stmt.where(Claim.state == state)
    return stmt


def visible_or_raise(
    session: Session, *, principal: Principal, claim_id: str, lock: bool = False
) -> Claim:
    stmt = visible(principal).where(Claim.public_id == claim_id)
    if lock:
        stmt = stmt.with_for_update()
    claim: Claim | None = session.scalar(stmt)
    if claim is None:
        raise NotFound("no claim {claim}", field="claim_id", claim=claim_id)
    return claim


def shares_of(session: Session, claim: Claim) -> list[ClaimShare]:
    return list(
        session.scalars(
            select(ClaimShare).where(ClaimShare.claim_id == claim.id).order_by(ClaimShare.position)
        )
    )


def out(claim: Claim) -> ClaimOut:
    return ClaimOut.model_validate(claim)


def detail(session: Session, claim: Claim) -> ClaimDetailOut:
    scheme = session.get(Scheme, claim.scheme_id)
    assert scheme is not None
    return ClaimDetailOut(
        **ClaimOut.model_validate(claim).model_dump(),
        public_id=claim.public_id,
        scheme_id=scheme.public_id,
        scheme_version=scheme.version,
        shares=[ShareOut.model_validate(share) for share in shares_of(session, claim)],
        documents=[ClaimDocumentOut.model_validate(d) for d in documents_of(session, claim)],
    )


# --------------------------------------------------------------------------- documents

DOCUMENTS_MAX = 10  # files in one upload
DOCUMENT_MAX_MB = 10
# A claim takes documents until it is decided: filed (also after a reviewer asked for more)
# or under review.
DOCUMENT_STATES = (ClaimState.FILED, ClaimState.UNDER_REVIEW)


def documents_dir() -> Path:
    return get_settings().data_dir / "sharing" / "documents"


def add_documents(
    session: Session, *, principal: Principal, claim_id: str, uploads: Sequence[blobs.Upload]
) -> list[ClaimDocument]:
    """The claiming lender sends files with its claim (the contract, proof of the default,
    what a reviewer asked for); each is checked by its first bytes and kept once."""
    claim = visible_or_raise(session, principal=principal, claim_id=claim_id, lock=True)
    if principal.organization_public_id != claim.institution_id:
        raise Forbidden("only the claiming lender sends documents", field="claim_id")
    if claim.state not in DOCUMENT_STATES:
        raise Conflict(
            "the claim is {state}; it takes no more documents", field="state", state=claim.state
        )
    checked = blobs.check(uploads, field="files", max_files=DOCUMENTS_MAX, max_mb=DOCUMENT_MAX_MB)
    if not checked:
        raise ValidationFailed("must not be empty", field="files")
    rows = []
    for upload, kind in checked:
        row = ClaimDocument(
            public_id=new_id("doc"),
            claim_id=claim.id,
            filename=blobs.clean_name(upload.filename),
            content_type=kind,
            size=len(upload.content),
            sha256=blobs.store(documents_dir(), upload.content),
            uploaded_by=principal.actor,
            uploaded_at=clock.now(),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def documents_of(session: Session, claim: Claim) -> list[ClaimDocument]:
    return list(
        session.scalars(
            select(ClaimDocument)
            .where(ClaimDocument.claim_id == claim.id)
            .order_by(ClaimDocument.id)
        )
    )


def document_or_raise(
    session: Session, *, principal: Principal, claim_id: str, document_id: str
) -> tuple[ClaimDocument, Path]:
    """A document of a claim the caller may see, and where its bytes are."""
    claim = visible_or_raise(session, principal=principal, claim_id=claim_id)
    row = session.scalar(
        select(ClaimDocument).where(
            ClaimDocument.claim_id == claim.id, ClaimDocument.public_id == document_id
        )
    )
    path = None if row is None else blobs.path_of(documents_dir(), row.sha256)
    if row is None or path is None or not path.exists():
        raise NotFound("no document {id}", field="document_id", id=document_id)
    return row, path


# --------------------------------------------------------------------------- moving


def _pool_for(session: Session, claim: Claim, *, lock: bool) -> Pool | None:
    scheme = session.get(Scheme, claim.scheme_id)
    assert scheme is not None
    if not schemes.pool_pays(scheme):
        return None
    pool = pools.of_region(session, region_code=scheme.region_code, lock=lock)
    if pool is None:
        raise Conflict("the region has no compensation pool", field="claim_id")
    return pool


def _pool_part(shares: list[ClaimShare], loss: Decimal) -> Decimal:
    parts = split(loss, [share.share for share in shares])
    return sum((part for part, share in zip(parts, shares, strict=True) if share.pool_pays), ZERO)


def _release(session: Session, claim: Claim, actor: str) -> None:
    if claim.pool_reserved <= 0:
        return
    pool = _pool_for(session, claim, lock=True)
    assert pool is not None
    pools.release(session, pool=pool, amount=claim.pool_reserved, actor=actor, claim=claim)
    claim.pool_reserved = ZERO


def _checked_part(amount: Decimal | None, claim: Claim) -> Decimal:
    if amount is None:
        raise ValidationFailed("give the loss approved", field="amount")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(FEN):
        raise ValidationFailed("a positive amount in yuan, to the fen", field="amount")
    if amount >= claim.claimed_loss:
        raise ValidationFailed(
            "less than the loss claimed ({loss}); approve it whole otherwise",
            field="amount",
            loss=str(claim.claimed_loss),
        )
    return amount


def _pay(session: Session, claim: Claim, actor: str) -> None:
    """Split the approved loss among the parties, the pool's part from the pool (pro rata
    when the claims it holds money for exceed its balance)."""
    loss = claim.approved_loss
    assert loss is not None
    shares = shares_of(session, claim)
    parts = split(loss, [share.share for share in shares])
    pool = _pool_for(session, claim, lock=True)
    shortfall = ZERO
    for share, part in zip(shares, parts, strict=True):
        share.amount = part
        if share.pool_pays and pool is not None:
            paid = pro_rata(part, pool.balance, max(pool.reserved, part))
            pools.release(session, pool=pool, amount=claim.pool_reserved, actor=actor, claim=claim)
            claim.pool_reserved = ZERO
            pools.pay(session, pool=pool, amount=paid, actor=actor, claim=claim, party=share.name)
            shortfall += part - paid
        else:
            money.record(
                session,
                kind=MovementKind.SHARE,
                amount=part,
                actor=actor,
                claim=claim,
                party=share.name,
                note=share.role,
            )
    claim.pool_shortfall = shortfall
    claim.paid_total = loss - shortfall


def move(
    session: Session,
    *,
    principal: Principal,
    claim_id: str,
    transition: str,
    reason: str | None = None,
    amount: Decimal | None = None,
) -> Claim:
    """A reviewer's move of a claim; the money each move reserves, releases or pays."""
    CLAIMS.named(transition, among=MOVES)
    claim = visible_or_raise(session, principal=principal, claim_id=claim_id, lock=True)
    kind = principal.organization_kind
    if kind == OrgKind.INSTITUTION and (
        transition not in GUARANTOR_MOVES or principal.organization_public_id != claim.guarantor_id
    ):
        raise Forbidden("only the claim's guarantor or the operator may do this", field="claim_id")
    if kind == OrgKind.OPERATOR and transition == "endorse":
        raise Forbidden("only the claim's guarantor may endorse it", field="claim_id")
    reason = CLAIMS.check(claim, transition, actor_kind=kind, reason=reason)
    actor = principal.actor
    if transition == "review":
        pool = _pool_for(session, claim, lock=True)
        if pool is not None:
            # The pool's whole part is held, even past its free money: when the claims held
            # for exceed the balance, each is paid its part pro rata (``pro_rata``).
            held = _pool_part(shares_of(session, claim), claim.claimed_loss)
            pools.reserve(session, pool=pool, amount=held, actor=actor, claim=claim)
            claim.pool_reserved = held
            claim.pool_id = pool.id
        claim.documents_requested = None
    elif transition == "request_documents":
        _release(session, claim, actor)
        claim.documents_requested = reason
        claim.endorsed_by = None
        claim.endorsed_at = None
    elif transition == "endorse":
        claim.endorsed_by = actor
        claim.endorsed_at = clock.now()
    elif transition in ("approve", "approve_part"):
        if claim.guarantor_id is not None and claim.endorsed_by is None:
            raise Conflict("the guarantor has not endorsed the claim yet", field="state")
        claim.approved_loss = (
            claim.claimed_loss if transition == "approve" else _checked_part(amount, claim)
        )
    elif transition == "reject":
        _release(session, claim, actor)
    elif transition == "pay":
        _pay(session, claim, actor)
    CLAIMS.move(session, claim, transition, actor=actor, actor_kind=kind, reason=reason)
    return claim


def recover(
    session: Session,
    *,
    principal: Principal,
    claim_id: str,
    amount: Decimal,
    note: str | None = None,
) -> Claim:
    """Money recovered from the borrower after payout, shared back to the parties in
    proportion to what each still has out: none ever gets back more than it paid."""
    claim = visible_or_raise(session, principal=principal, claim_id=claim_id, lock=True)
    kind = principal.organization_kind
    if kind == OrgKind.INSTITUTION and principal.organization_public_id != claim.institution_id:
        raise Forbidden("only the lender or the operator records a recovery", field="claim_id")
    CLAIMS.check(claim, "recover", actor_kind=kind)
    amount = pools.checked_amount(amount)
    shares = shares_of(session, claim)
    paid = [share.amount - (claim.pool_shortfall if share.pool_pays else ZERO) for share in shares]
    out_now = claim.paid_total - claim.recovered_total
    if amount > out_now:
        raise ValidationFailed(
            "at most {maximum} is still to recover", field="amount", maximum=str(out_now)
        )
    parts = recovery_parts(amount, paid, [share.recovered for share in shares])
    pool = (
        _pool_for(session, claim, lock=True) if any(share.pool_pays for share in shares) else None
    )
    for share, part in zip(shares, parts, strict=True):
        if part <= 0:
            continue
        share.recovered += part
        if share.pool_pays and pool is not None:
            pools.credit(
                session,
                pool=pool,
                amount=part,
                actor=principal.actor,
                claim=claim,
                party=share.name,
            )
        else:
            money.record(
                session,
                kind=MovementKind.RECOVERY,
                amount=part,
                actor=principal.actor,
                claim=claim,
                party=share.name,
                note=note,
            )
    claim.recovered_total += amount
    CLAIMS.move(
        session, claim, "recover", actor=principal.actor, actor_kind=kind, reason=str(amount)
    )
    return claim


def in_enrolment(session: Session, enrolment: Enrolment) -> Claim | None:
    return session.scalar(select(Claim).where(Claim.enrolment_id == enrolment.id))
