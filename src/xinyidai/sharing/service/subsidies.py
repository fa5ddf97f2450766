"""Interest subsidies (贴息): schemes with a rule (a share of the interest paid, or a
number of percentage points of the loan's rate), a cap per enterprise a year, and who is
eligible (first loans, credit loans, regions, industries); a bank applies in bulk for one
period's repayments, each subsidy worked out from the interest actually paid on the
platform; the operator approves and pays (each payment a ledger leaf); a scheme that says
so takes a subsidy back when its loan defaults.

A repayment is subsidised once per scheme (a unique key): applying twice for a period
finds nothing new, and two applications at the same moment give the later one a 409 that
asks to apply again, never a half-written batch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import service as market_service
from xinyidai.market.models import Loan
from xinyidai.registry import codes
from xinyidai.registry import service as registry_service
from xinyidai.sharing.models import (
    BatchState,
    MovementKind,
    SchemeState,
    SubsidyBatch,
    SubsidyLine,
    SubsidyRule,
    SubsidyScheme,
)
from xinyidai.sharing.schemas import (
    REASON_MAX,
    BatchDetailOut,
    BatchOut,
    SubsidyLineOut,
    SubsidySchemeIn,
)
from xinyidai.sharing.service import money
from xinyidai.sharing.service.schemes import region_prefix
from xinyidai.sharing.service.split import FEN, HUNDRED, ZERO, to_fen

_OPERATOR = (OrgKind.OPERATOR,)
_INSTITUTION = (OrgKind.INSTITUTION,)
CREDIT_PRODUCT = "credit"
PERIOD_MAX_DAYS = 366

SUBSIDY_SCHEMES: Machine[SchemeState] = Machine(
    kind="subsidy_scheme",
    states=SchemeState,
    subject=SubsidyScheme,
    moves=(
        Move("draft", (), SchemeState.DRAFT, _OPERATOR),
        Move("activate", (SchemeState.DRAFT,), SchemeState.ACTIVE, _OPERATOR),
        Move("close", (SchemeState.DRAFT, SchemeState.ACTIVE), SchemeState.CLOSED, _OPERATOR),
    ),
    refusal=N_("the scheme is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a scheme"),
    keeps_reason=True,
    reason_max=REASON_MAX,
)
BATCHES: Machine[BatchState] = Machine(
    kind="subsidy_batch",
    states=BatchState,
    subject=SubsidyBatch,
    moves=(
        Move("apply", (), BatchState.SUBMITTED, _INSTITUTION),
        Move("approve", (BatchState.SUBMITTED,), BatchState.APPROVED, _OPERATOR),
        Move(
            "reject", (BatchState.SUBMITTED,), BatchState.REJECTED, _OPERATOR, reason_required=True
        ),
        Move("pay", (BatchState.APPROVED,), BatchState.PAID, _OPERATOR),
    ),
    refusal=N_("the batch is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a batch"),
    forbidden_field="batch_id",
    keeps_reason=True,
    reason_max=REASON_MAX,
)
SCHEME_MOVES = ("activate", "close")
BATCH_MOVES = ("approve", "reject", "pay")


# --------------------------------------------------------------------------- the rule


def subsidy_of(*, rule: str, rate: Decimal, interest: Decimal, loan_rate: Decimal) -> Decimal:
    """The subsidy earned by ``interest`` actually paid on a loan at ``loan_rate`` (% a
    year): a share of it, or ``rate`` points of the loan's rate (interest × points ÷ rate),
    never more than the interest itself; rounded down to the fen."""
    if interest <= 0:
        return ZERO
    if rule == SubsidyRule.SHARE:
        amount = interest * rate / HUNDRED
    elif loan_rate <= 0:
        return ZERO
    else:
        amount = interest * rate / loan_rate
    return min(to_fen(amount), interest)


# --------------------------------------------------------------------------- schemes


def _checked(data: SubsidySchemeIn) -> dict[str, Any]:
    if not data.name.strip():
        raise ValidationFailed("give a name", field="name")
    if not codes.is_region(data.region_code):
        raise ValidationFailed("not a region code (GB/T 2260)", field="region_code")
    if data.rule not in tuple(SubsidyRule):
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="rule",
            value=data.rule,
            allowed=", ".join(SubsidyRule),
        )
    if not data.rate.is_finite() or data.rate <= 0 or data.rate > HUNDRED:
        raise ValidationFailed("a percentage between 0 and 100", field="rate")
    if data.rate != data.rate.quantize(Decimal("0.0001")):
        raise ValidationFailed("at most four decimals", field="rate")
    cap = data.cap_per_enterprise_year
    if cap is not None and (not cap.is_finite() or cap <= 0 or cap != cap.quantize(FEN)):
        raise ValidationFailed(
            "a positive amount in yuan, to the fen", field="cap_per_enterprise_year"
        )
    for value in data.regions:
        if not codes.is_region(value):
            raise ValidationFailed("not a region code (GB/T 2260)", field="regions")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise ValidationFailed("the scheme ends before it begins", field="valid_to")
    return {
        "name": data.name.strip()[:200],
        "region_code": data.region_code,
        "rule": data.rule,
        "rate": data.rate,
        "cap_per_enterprise_year": cap,
        "first_loans_only": data.first_loans_only,
        "credit_loans_only": data.credit_loans_only,
        "regions": sorted(set(data.regions))[:50],
        "industries": sorted({code.strip() for code in data.industries if code.strip()})[:50],
        "clawback_on_default": data.clawback_on_default,
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
    }


def create_scheme(
    session: Session, *, principal: Principal, data: SubsidySchemeIn
) -> SubsidyScheme:
    """A subsidy scheme in draft (operator)."""
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator may do this", field="scheme_id")
    scheme = SubsidyScheme(public_id=new_id("sub"), created_by=principal.actor, **_checked(data))
    session.add(scheme)
    SUBSIDY_SCHEMES.begin(session, scheme, "draft", actor=principal.actor)
    return scheme


def scheme_or_raise(session: Session, *, scheme_id: str) -> SubsidyScheme:
    scheme = session.scalar(select(SubsidyScheme).where(SubsidyScheme.public_id == scheme_id))
    if scheme is None:
        raise NotFound("no scheme {scheme}", field="scheme_id", scheme=scheme_id)
    return scheme


def move_scheme(
    session: Session, *, principal: Principal, scheme_id: str, transition: str, reason: str | None
) -> SubsidyScheme:
    SUBSIDY_SCHEMES.named(transition, among=SCHEME_MOVES)
    scheme = scheme_or_raise(session, scheme_id=scheme_id)
    SUBSIDY_SCHEMES.move(
        session,
        scheme,
        transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    return scheme


def schemes_statement() -> Select[Any]:
    return select(SubsidyScheme).order_by(SubsidyScheme.id.desc())


# --------------------------------------------------------------------------- applying


def _eligible(
    scheme: SubsidyScheme, loan: Loan, *, first: dict[str, int], industry: dict[str, str | None]
) -> bool:
    if scheme.credit_loans_only and loan.product_type != CREDIT_PRODUCT:
        return False
    if scheme.first_loans_only and first.get(loan.credit_code) != loan.id:
        return False
    region = loan.region_code or ""
    if not region.startswith(region_prefix(scheme.region_code)):
        return False
    if scheme.regions and not any(region.startswith(region_prefix(r)) for r in scheme.regions):
        return False
    if scheme.industries:
        code = industry.get(loan.credit_code) or ""
        if not any(code.startswith(wanted) for wanted in scheme.industries):
            return False
    return True


def _received_this_year(
    session: Session, scheme: SubsidyScheme, year: int, credit_codes: list[str]
) -> dict[str, Decimal]:
    """What each enterprise has been granted under the scheme in ``year`` (batches not
    rejected)."""
    found: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for start in range(0, len(credit_codes), 500):
        rows = session.execute(
            select(SubsidyLine.credit_code, func.sum(SubsidyLine.amount))
            .join(SubsidyBatch, SubsidyBatch.id == SubsidyLine.batch_id)
            .where(
                SubsidyLine.scheme_id == scheme.id,
                SubsidyLine.credit_code.in_(credit_codes[start : start + 500]),
                SubsidyLine.paid_on >= date(year, 1, 1),
                SubsidyLine.paid_on <= date(year, 12, 31),
                SubsidyBatch.state != BatchState.REJECTED,
                SubsidyLine.clawed_back.is_(False),
            )
            .group_by(SubsidyLine.credit_code)
        )
        for code, total in rows:
            found[code] = Decimal(total or 0)
    return found


def apply(
    session: Session, *, principal: Principal, scheme_id: str, start: date, end: date
) -> SubsidyBatch:
    """A bank's bulk application: every repayment of its loans paid in the period, not yet
    subsidised under the scheme, on an eligible loan, with the subsidy its interest earns
    (within the enterprise's cap for the year)."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only a lending institution applies for subsidies", field="scheme_id")
    if end < start:
        raise ValidationFailed("the period ends before it begins", field="end")
    if (end - start).days > PERIOD_MAX_DAYS or start.year != end.year:
        raise ValidationFailed("one period within one calendar year", field="end")
    scheme = scheme_or_raise(session, scheme_id=scheme_id)
    if scheme.state != SchemeState.ACTIVE:
        raise ValidationFailed("the scheme is not active", field="scheme_id")
    rows = list(
        session.execute(
            market_service.loans.repayments_between(
                institution_id=principal.organization_public_id, start=start, end=end
            )
        )
    )
    done = set(
        session.scalars(
            select(SubsidyLine.repayment_id).where(
                SubsidyLine.scheme_id == scheme.id,
                SubsidyLine.paid_on >= start,
                SubsidyLine.paid_on <= end,
            )
        )
    )
    in_force = [
        (repayment, loan)
        for repayment, loan in rows
        if repayment.public_id not in done
        and repayment.paid_on >= scheme.valid_from
        and (scheme.valid_to is None or repayment.paid_on <= scheme.valid_to)
    ]
    borrowers = sorted({loan.credit_code for _, loan in in_force})
    first = (
        market_service.loans.first_loan_ids(session, credit_codes=borrowers)
        if scheme.first_loans_only
        else {}
    )
    industry: dict[str, str | None] = {}
    if scheme.industries:
        found = registry_service.get_many_by_code(session, credit_codes=borrowers)
        industry = {
            code: found[code].industry_code if code in found else None for code in borrowers
        }
    received = (
        _received_this_year(session, scheme, start.year, borrowers)
        if scheme.cap_per_enterprise_year
        else {}
    )
    batch = SubsidyBatch(
        public_id=new_id("sbt"),
        scheme_id=scheme.id,
        institution_id=principal.organization_public_id,
        period_start=start,
        period_end=end,
        lines=0,
        interest=ZERO,
        total=ZERO,
    )
    session.add(batch)
    BATCHES.begin(session, batch, "apply", actor=principal.actor, reason=f"{start}…{end}")
    lines: list[dict[str, Any]] = []
    for repayment, loan in in_force:
        if repayment.interest <= 0 or not _eligible(scheme, loan, first=first, industry=industry):
            continue
        amount = subsidy_of(
            rule=scheme.rule, rate=scheme.rate, interest=repayment.interest, loan_rate=loan.rate
        )
        if scheme.cap_per_enterprise_year is not None:
            room = scheme.cap_per_enterprise_year - received.get(loan.credit_code, ZERO)
            amount = max(ZERO, min(amount, room))
            received[loan.credit_code] = received.get(loan.credit_code, ZERO) + amount
        if amount <= 0:
            continue
        lines.append(
            {
                "batch_id": batch.id,
                "scheme_id": scheme.id,
                "loan_id": loan.public_id,
                "repayment_id": repayment.public_id,
                "credit_code": loan.credit_code,
                "enterprise_name": loan.enterprise_name,
                "paid_on": repayment.paid_on,
                "interest": repayment.interest,
                "amount": amount,
                "clawed_back": False,
            }
        )
    if lines:
        try:
            with session.begin_nested():
                session.execute(insert(SubsidyLine), lines)
        except IntegrityError as exc:
            # Another application for the same scheme and repayments committed between
            # this one's reading of what is done and its writing: the unique key holds.
            raise Conflict(
                "another application for these repayments was made at the same moment: "
                "apply again and only what is left is claimed",
                field="scheme_id",
            ) from exc
    batch.lines = len(lines)
    batch.interest = sum((line["interest"] for line in lines), ZERO)
    batch.total = sum((line["amount"] for line in lines), ZERO)
    session.flush()
    return batch


# --------------------------------------------------------------------------- reading


def batches_statement(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """Batches, newest first: an institution's own, every one for the operator."""
    stmt = select(SubsidyBatch).order_by(SubsidyBatch.id.desc())
    if principal.organization_kind == OrgKind.INSTITUTION:
        stmt = stmt.where(SubsidyBatch.institution_id == principal.organization_public_id)
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("subsidy batches are for the applicant and the operator", field="batch_id")
    if state:
        stmt = stmt.where(SubsidyBatch.state == state)
    return stmt


def batch_or_raise(
    session: Session, *, principal: Principal, batch_id: str, lock: bool = False
) -> SubsidyBatch:
    stmt = batches_statement(principal).where(SubsidyBatch.public_id == batch_id)
    if lock:
        stmt = stmt.with_for_update()
    batch: SubsidyBatch | None = session.scalar(stmt)
    if batch is None:
        raise NotFound("no batch {batch}", field="batch_id", batch=batch_id)
    return batch


def lines_of(session: Session, batch: SubsidyBatch) -> list[SubsidyLine]:
    return list(
        session.scalars(
            select(SubsidyLine).where(SubsidyLine.batch_id == batch.id).order_by(SubsidyLine.id)
        )
    )


def received_statement(principal: Principal) -> Select[Any]:
    """The subsidies an enterprise was paid, newest first."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise lists the subsidies it received", field="credit_code")
    return (
        select(SubsidyLine)
        .join(SubsidyBatch, SubsidyBatch.id == SubsidyLine.batch_id)
        .where(
            SubsidyLine.credit_code == principal.credit_code, SubsidyBatch.state == BatchState.PAID
        )
        .order_by(SubsidyLine.paid_on.desc(), SubsidyLine.id.desc())
    )


def batch_out(batch: SubsidyBatch) -> BatchOut:
    return BatchOut.model_validate(batch)


def detail(session: Session, batch: SubsidyBatch) -> BatchDetailOut:
    scheme = session.get(SubsidyScheme, batch.scheme_id)
    assert scheme is not None
    return BatchDetailOut(
        **BatchOut.model_validate(batch).model_dump(),
        public_id=batch.public_id,
        scheme_id=scheme.public_id,
        items=[SubsidyLineOut.model_validate(line) for line in lines_of(session, batch)],
    )


# --------------------------------------------------------------------------- deciding, paying


def move_batch(
    session: Session, *, principal: Principal, batch_id: str, transition: str, reason: str | None
) -> SubsidyBatch:
    """The operator approves, rejects (with a reason) or pays a batch; paying records one
    payment (a ledger leaf) per subsidy."""
    BATCHES.named(transition, among=BATCH_MOVES)
    batch = batch_or_raise(session, principal=principal, batch_id=batch_id, lock=True)
    reason = BATCHES.check(batch, transition, actor_kind=principal.organization_kind, reason=reason)
    if transition == "pay":
        for line in lines_of(session, batch):
            money.record(
                session,
                kind=MovementKind.SUBSIDY,
                amount=line.amount,
                actor=principal.actor,
                party=line.credit_code,
                note=line.repayment_id,
            )
    BATCHES.move(
        session,
        batch,
        transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    return batch


def on_loan_moved(session: Session, loan: Loan, move: str) -> None:
    """Take back the paid subsidies of a loan that defaulted, where the scheme says so."""
    if move != "default":
        return
    rows = session.execute(
        select(SubsidyLine, SubsidyScheme)
        .join(SubsidyScheme, SubsidyScheme.id == SubsidyLine.scheme_id)
        .join(SubsidyBatch, SubsidyBatch.id == SubsidyLine.batch_id)
        .where(
            SubsidyLine.loan_id == loan.public_id,
            SubsidyLine.clawed_back.is_(False),
            SubsidyScheme.clawback_on_default.is_(True),
            SubsidyBatch.state == BatchState.PAID,
        )
    )
    for line, _ in rows:
        line.clawed_back = True
        money.record(
            session,
            kind=MovementKind.CLAWBACK,
            amount=line.amount,
            actor="system:sharing",
            party=line.credit_code,
            note=line.repayment_id,
        )


market_service.loans.on_moved(on_loan_moved)
