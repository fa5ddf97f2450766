"""Regional compensation pools (风险补偿资金池): top-ups, the balance, money reserved for
claims under review, payouts and recoveries, leverage, the floor that stops enrolment, the
pro-rata rule when claims exceed the balance, and statements per period.

A pool's row is locked while its money moves (``lock=True``): two payouts never read the
same balance. The balance never goes below zero.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock, exports
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import codes
from xinyidai.sharing.models import Enrolment, Movement, MovementKind, Pool, Scheme
from xinyidai.sharing.schemas import PoolIn, PoolOut
from xinyidai.sharing.service import money
from xinyidai.sharing.service.split import FEN, ZERO

AMOUNT_MAX = Decimal("1e15")
STATEMENT_COLUMNS = ("movement_id", "time", "kind", "party", "amount", "note")


def _operator(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator may do this", field="pool_id")


def checked_amount(amount: Decimal, *, field: str = "amount") -> Decimal:
    """A positive amount in yuan, to the fen."""
    if (
        not amount.is_finite()
        or amount <= 0
        or amount != amount.quantize(FEN)
        or amount >= AMOUNT_MAX
    ):
        raise ValidationFailed("a positive amount in yuan, to the fen", field=field)
    return amount


def create(session: Session, *, principal: Principal, data: PoolIn) -> Pool:
    """A region's pool, empty (operator); one per region."""
    _operator(principal)
    if not codes.is_region(data.region_code):
        raise ValidationFailed("not a region code (GB/T 2260)", field="region_code")
    if not data.name.strip():
        raise ValidationFailed("give a name", field="name")
    if not data.floor.is_finite() or data.floor < 0 or data.floor != data.floor.quantize(FEN):
        raise ValidationFailed("an amount in yuan, to the fen, not negative", field="floor")
    if session.scalar(select(Pool.id).where(Pool.region_code == data.region_code)):
        raise Conflict(
            "region {region} has a pool already", field="region_code", region=data.region_code
        )
    pool = Pool(
        public_id=new_id("pool"),
        region_code=data.region_code,
        name=data.name.strip(),
        balance=ZERO,
        reserved=ZERO,
        topped_up=ZERO,
        paid_out=ZERO,
        recovered=ZERO,
        floor=data.floor,
        created_by=principal.actor,
    )
    session.add(pool)
    session.flush()
    return pool


def get_or_raise(session: Session, *, pool_id: str, lock: bool = False) -> Pool:
    stmt = select(Pool).where(Pool.public_id == pool_id)
    if lock:
        stmt = stmt.with_for_update()
    pool = session.scalar(stmt)
    if pool is None:
        raise NotFound("no pool {pool}", field="pool_id", pool=pool_id)
    return pool


def of_region(session: Session, *, region_code: str, lock: bool = False) -> Pool | None:
    stmt = select(Pool).where(Pool.region_code == region_code)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def statement() -> Select[Any]:
    return select(Pool).order_by(Pool.region_code)


def available(pool: Pool) -> Decimal:
    """Money in the pool not held for claims under review."""
    return pool.balance - pool.reserved


def top_up(
    session: Session, *, principal: Principal, pool_id: str, amount: Decimal, note: str | None
) -> Pool:
    """Money put into the pool (operator)."""
    _operator(principal)
    amount = checked_amount(amount)
    pool = get_or_raise(session, pool_id=pool_id, lock=True)
    pool.balance += amount
    pool.topped_up += amount
    money.record(
        session,
        kind=MovementKind.TOP_UP,
        amount=amount,
        actor=principal.actor,
        pool=pool,
        note=note,
    )
    return pool


def reserve(session: Session, *, pool: Pool, amount: Decimal, actor: str, claim: Any) -> None:
    """Hold the pool's part of a claim under review."""
    if amount <= 0:
        return
    pool.reserved += amount
    money.record(
        session, kind=MovementKind.RESERVE, amount=amount, actor=actor, pool=pool, claim=claim
    )


def release(session: Session, *, pool: Pool, amount: Decimal, actor: str, claim: Any) -> None:
    if amount <= 0:
        return
    pool.reserved -= amount
    money.record(
        session, kind=MovementKind.RELEASE, amount=amount, actor=actor, pool=pool, claim=claim
    )


def pay(
    session: Session, *, pool: Pool, amount: Decimal, actor: str, claim: Any, party: str
) -> None:
    """Debit the pool; never below zero."""
    if amount > pool.balance:
        raise Conflict(
            "the pool holds {balance}; it cannot pay {amount}",
            field="pool_id",
            balance=str(pool.balance),
            amount=str(amount),
        )
    if amount <= 0:
        return
    pool.balance -= amount
    pool.paid_out += amount
    money.record(
        session,
        kind=MovementKind.POOL_PAYOUT,
        amount=amount,
        actor=actor,
        pool=pool,
        claim=claim,
        party=party,
    )


def credit(
    session: Session, *, pool: Pool, amount: Decimal, actor: str, claim: Any, party: str
) -> None:
    """A recovery's pool part back into the pool."""
    if amount <= 0:
        return
    pool.balance += amount
    pool.recovered += amount
    money.record(
        session,
        kind=MovementKind.POOL_RECOVERY,
        amount=amount,
        actor=actor,
        pool=pool,
        claim=claim,
        party=party,
    )


def covered(session: Session, pool: Pool) -> Decimal:
    """Principal of the loans enrolled under the schemes of the pool's region."""
    total = session.scalar(
        select(func.coalesce(func.sum(Enrolment.principal), 0))
        .join(Scheme, Scheme.id == Enrolment.scheme_id)
        .where(Scheme.region_code == pool.region_code)
    )
    return Decimal(total or 0).quantize(FEN)


def out(session: Session, pool: Pool) -> PoolOut:
    loans = covered(session, pool)
    return PoolOut(
        public_id=pool.public_id,
        region_code=pool.region_code,
        name=pool.name,
        balance=pool.balance,
        reserved=pool.reserved,
        available=available(pool),
        topped_up=pool.topped_up,
        paid_out=pool.paid_out,
        recovered=pool.recovered,
        floor=pool.floor,
        covered=loans,
        leverage=None if pool.balance <= 0 else (loans / pool.balance).quantize(FEN),
    )


def below_floor(pool: Pool) -> bool:
    """Whether the free money is below the floor: no new loan is enrolled."""
    return available(pool) < pool.floor


# --------------------------------------------------------------------------- statements


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ValidationFailed("the period ends before it begins", field="end")
    if (end - start).days > 3660:
        raise ValidationFailed("a period of ten years at most", field="end")
    first = datetime.combine(start, time.min, tzinfo=clock.SHANGHAI)
    last = datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)
    return clock.as_utc(first), clock.as_utc(last)


def movements_statement(pool: Pool, *, start: date, end: date) -> Select[Any]:
    """The pool's movements in a period (China's days, both included), oldest first."""
    first, last = _bounds(start, end)
    return (
        select(Movement)
        .where(Movement.pool_id == pool.id, Movement.at >= first, Movement.at < last)
        .order_by(Movement.at, Movement.id)
    )


def statement_rows(session: Session, pool: Pool, *, start: date, end: date) -> list[list[object]]:
    return [
        [
            row.public_id,
            clock.to_local(row.at).isoformat(timespec="seconds"),
            row.kind,
            row.party or "",
            row.amount,
            row.note or "",
        ]
        for row in session.scalars(movements_statement(pool, start=start, end=end))
    ]


def statement_csv(session: Session, pool: Pool, *, start: date, end: date) -> str:
    return exports.csv_text(STATEMENT_COLUMNS, statement_rows(session, pool, start=start, end=end))


def statement_xlsx(session: Session, pool: Pool, *, start: date, end: date) -> bytes:
    return exports.xlsx_bytes(
        "statement",
        STATEMENT_COLUMNS,
        statement_rows(session, pool, start=start, end=end),
        number_formats={4: "#,##0.00"},
    )
