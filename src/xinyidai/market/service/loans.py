"""Loans: an approved application becomes a loan on disbursement, with its schedule;
repayments pay interest then principal instalment by instalment; the clock moves a loan
between current and overdue; the institution defaults and writes off; the loan book."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock, exports
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import SYSTEM, Machine, Move, Transition
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import schedules
from xinyidai.market.models import (
    RUNNING_LOAN_STATES,
    Application,
    ApplicationState,
    Instalment,
    Loan,
    LoanState,
    Repayment,
)
from xinyidai.market.service import applications, visibility
from xinyidai.market.service import products as products_service

_INSTITUTION = (OrgKind.INSTITUTION,)

LOANS: Machine[LoanState] = Machine(
    kind="loan",
    states=LoanState,
    subject=Loan,
    moves=(
        Move("disburse", (), LoanState.CURRENT),  # the lender pays an approved application out
        Move("fall_overdue", (LoanState.CURRENT,), LoanState.OVERDUE, (SYSTEM,)),  # the clock
        Move("cure", (LoanState.OVERDUE,), LoanState.CURRENT, (SYSTEM,)),  # arrears paid
        Move("repay", RUNNING_LOAN_STATES, LoanState.REPAID, _INSTITUTION),  # paid off
        Move(
            "default",
            (LoanState.OVERDUE,),
            LoanState.DEFAULTED,
            _INSTITUTION,
            reason_required=True,
        ),
        Move(
            "write_off",
            (LoanState.DEFAULTED,),
            LoanState.WRITTEN_OFF,
            _INSTITUTION,
            reason_required=True,
        ),
    ),
    refusal=N_("the loan is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the lending institution may do this"),
    forbidden_field="loan_id",
)
# The moves the lender declares by hand.
DECLARATIONS = ("default", "write_off")
SYSTEM_CLOCK = "system:clock"
ZERO = Decimal("0.00")

# Who hears of a loan's moves without the marketplace knowing them (post-loan monitoring):
# ``listener(session, loan, move)`` inside the transaction that made the move.
MovedListener = Callable[[Session, Loan, str], None]
_moved_listeners: list[MovedListener] = []


def on_moved(listener: MovedListener) -> None:
    """Call ``listener(session, loan, move)`` after every move of a loan (disbursed,
    overdue, cured, repaid, defaulted, written off), in the same transaction."""
    if listener not in _moved_listeners:
        _moved_listeners.append(listener)


def _tell(session: Session, loan: Loan, move: str) -> None:
    for listener in list(_moved_listeners):
        listener(session, loan, move)


def _institution(principal: Principal, loan_or_institution: str) -> None:
    if (
        principal.organization_kind != OrgKind.INSTITUTION
        or principal.organization_public_id != loan_or_institution
    ):
        raise Forbidden("only the lending institution may do this", field="loan_id")


def contract_number(application_id: str, start: date) -> str:
    return f"XYD-{start:%Y%m%d}-{application_id.rsplit('_', 1)[-1][-10:].upper()}"


def disburse(
    session: Session,
    *,
    principal: Principal,
    application_id: str,
    start_on: date | None = None,
    contract: str | None = None,
) -> Loan:
    """The institution pays out an approved application: the loan and its schedule."""
    application = applications.visible_or_raise(
        session, principal=principal, application_id=application_id, lock=True
    )
    _institution(principal, application.institution_id)
    if application.state != ApplicationState.APPROVED:
        raise Conflict(
            "only an approved application is disbursed; this one is {state}",
            field="state",
            state=application.state,
        )
    if session.scalar(select(Loan.id).where(Loan.application_id == application.public_id)):
        raise Conflict("this application was disbursed already", field="application_id")
    start = start_on or clock.today()
    number = (contract or "").strip() or contract_number(application.public_id, start)
    if len(number) > 60:
        raise ValidationFailed("at most {maximum} characters", field="contract_number", maximum=60)
    if session.scalar(select(Loan.id).where(Loan.contract_number == number)):
        raise Conflict("contract number {number} is taken", field="contract_number", number=number)
    amount = application.decided_amount or application.amount
    rate = application.decided_rate
    term = application.decided_term or application.term_months
    if rate is None:
        raise Conflict("the approval names no rate", field="rate")
    lines = schedules.schedule(amount, rate, term, application.repayment_method, start)
    product = products_service.get_or_raise(session, product_id=application.product_id)
    now = clock.now()
    loan = Loan(
        public_id=new_id("loan"),
        contract_number=number,
        application_id=application.public_id,
        product_id=application.product_id,
        product_type=product.product_type,
        institution_id=application.institution_id,
        institution_name=application.institution_name,
        credit_code=application.credit_code,
        enterprise_name=application.enterprise_name,
        region_code=application.region_code,
        principal=amount,
        rate=rate,
        term_months=term,
        repayment_method=application.repayment_method,
        start_on=start,
        maturity_on=lines[-1].due_on,
        balance=amount,
        interest_paid=ZERO,
    )
    session.add(loan)
    LOANS.begin(
        session,
        loan,
        "disburse",
        actor=principal.actor,
        reason=f"{application.public_id} {number}",
        at=now,
    )
    for line in lines:
        session.add(
            Instalment(
                loan_id=loan.id,
                number=line.number,
                due_on=line.due_on,
                principal=line.principal,
                interest=line.interest,
                paid_principal=ZERO,
                paid_interest=ZERO,
            )
        )
    session.flush()
    _tell(session, loan, "disburse")
    return loan


def get_or_raise(session: Session, *, loan_id: str, lock: bool = False) -> Loan:
    stmt = select(Loan).where(Loan.public_id == loan_id)
    if lock:
        stmt = stmt.with_for_update()
    loan = session.scalar(stmt)
    if loan is None:
        raise NotFound("no loan {loan}", field="loan_id", loan=loan_id)
    return loan


def visible_or_raise(
    session: Session, *, principal: Principal, loan_id: str, lock: bool = False
) -> Loan:
    loan = get_or_raise(session, loan_id=loan_id, lock=lock)
    if visibility.may_see_loan(principal, loan):
        return loan
    raise NotFound("no loan {loan}", field="loan_id", loan=loan_id)


def of_application(session: Session, *, application_id: str) -> Loan | None:
    """The loan an application was paid out as, if it was."""
    return session.scalar(select(Loan).where(Loan.application_id == application_id))


def running_statement() -> Select[Any]:
    """Every loan still being repaid or collected, oldest first."""
    return select(Loan).where(Loan.state.in_(RUNNING_LOAN_STATES)).order_by(Loan.id)


def by_ids(session: Session, *, loan_ids: Iterable[str]) -> dict[str, Loan]:
    """Loans by their public ids (those that exist)."""
    wanted = sorted(set(loan_ids))
    found: dict[str, Loan] = {}
    for start in range(0, len(wanted), 500):
        for loan in session.scalars(
            select(Loan).where(Loan.public_id.in_(wanted[start : start + 500]))
        ):
            found[loan.public_id] = loan
    return found


def of_borrowers(session: Session, *, credit_codes: Iterable[str]) -> list[Loan]:
    """Every loan of these enterprises on the platform, in any state, oldest first."""
    wanted = sorted(set(credit_codes))
    found: list[Loan] = []
    for start in range(0, len(wanted), 500):
        found += session.scalars(
            select(Loan).where(Loan.credit_code.in_(wanted[start : start + 500])).order_by(Loan.id)
        )
    return found


def instalments_of(session: Session, *, loan: Loan) -> list[Instalment]:
    return list(
        session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
        )
    )


def repayments_of(session: Session, *, loan: Loan) -> list[Repayment]:
    return list(
        session.scalars(
            select(Repayment).where(Repayment.loan_id == loan.id).order_by(Repayment.id)
        )
    )


def repayments_between(*, institution_id: str, start: date, end: date) -> Select[Any]:
    """The institution's repayments paid from ``start`` to ``end`` (both included) with
    their loans, oldest first (interest subsidies are worked out from them)."""
    stmt: Select[Any] = (
        select(Repayment, Loan)  # type: ignore[assignment]
        .join(Loan, Loan.id == Repayment.loan_id)
        .where(
            Loan.institution_id == institution_id,
            Repayment.paid_on >= start,
            Repayment.paid_on <= end,
        )
        .order_by(Repayment.paid_on, Repayment.id)
    )
    return stmt


def first_loan_ids(session: Session, *, credit_codes: Iterable[str]) -> dict[str, int]:
    """The id of each enterprise's first loan on the platform (its 首贷)."""
    wanted = sorted(set(credit_codes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(Loan.credit_code, func.min(Loan.id))
            .where(Loan.credit_code.in_(wanted[start : start + 500]))
            .group_by(Loan.credit_code)
        )
        found.update({code: first for code, first in rows})
    return found


def outstanding(lines: list[Instalment]) -> Decimal:
    """What pays the loan off: unpaid principal and the scheduled interest not yet paid."""
    return sum((i.principal - i.paid_principal + i.interest - i.paid_interest for i in lines), ZERO)


def overdue_days(lines: list[Instalment], today: date) -> int:
    """Days since the earliest instalment due before today that is not fully paid."""
    for line in lines:
        unpaid = line.principal - line.paid_principal + line.interest - line.paid_interest
        if unpaid > 0 and line.due_on < today:
            return (today - line.due_on).days
    return 0


def days_overdue(session: Session, *, loan: Loan, today: date | None = None) -> int:
    """A loan's days overdue as its lists show them: counted while it runs, 0 after."""
    if loan.state not in RUNNING_LOAN_STATES:
        return 0
    return overdue_days(instalments_of(session, loan=loan), today or clock.today())


def history(session: Session, *, loan: Loan) -> list[Transition]:
    """The loan's recorded moves, oldest first."""
    return LOANS.history(session, loan)


def refresh(session: Session, *, loan: Loan, today: date | None = None) -> Loan:
    """Move a running loan between current and overdue as the clock says."""
    if loan.state not in (LoanState.CURRENT, LoanState.OVERDUE):
        return loan
    days = overdue_days(instalments_of(session, loan=loan), today or clock.today())
    if days > 0 and loan.state == LoanState.CURRENT:
        LOANS.move(
            session,
            loan,
            "fall_overdue",
            actor=SYSTEM_CLOCK,
            actor_kind=SYSTEM,
            reason=f"{days} days overdue",
        )
        session.flush()
        _tell(session, loan, "fall_overdue")
    elif days == 0 and loan.state == LoanState.OVERDUE:
        LOANS.move(session, loan, "cure", actor=SYSTEM_CLOCK, actor_kind=SYSTEM)
        session.flush()
        _tell(session, loan, "cure")
    session.flush()
    return loan


def refresh_all(session: Session, *, today: date | None = None) -> int:
    """Refresh every running loan; how many changed state (the daily sweep)."""
    changed = 0
    for loan in session.scalars(
        select(Loan).where(Loan.state.in_((LoanState.CURRENT, LoanState.OVERDUE))).order_by(Loan.id)
    ):
        before = loan.state
        refresh(session, loan=loan, today=today)
        changed += loan.state != before
    return changed


def repay(
    session: Session,
    *,
    principal: Principal,
    loan_id: str,
    amount: Decimal,
    paid_on: date | None = None,
) -> Repayment:
    """Record a repayment: interest then principal, instalment by instalment, oldest first.
    A payment larger than what pays the loan off is refused; the loan row is locked."""
    loan = visible_or_raise(session, principal=principal, loan_id=loan_id, lock=True)
    _institution(principal, loan.institution_id)
    if loan.state not in RUNNING_LOAN_STATES:
        raise Conflict(
            "the loan is {state}; it takes no repayments", field="state", state=loan.state
        )
    amount = products_service.check_amount(amount, field="amount")
    day = paid_on or clock.today()
    if day < loan.start_on or day > clock.today():
        raise ValidationFailed("must be between the loan's start and today", field="paid_on")
    lines = instalments_of(session, loan=loan)
    payoff = outstanding(lines)
    if amount > payoff:
        raise ValidationFailed(
            "is larger than the {payoff} yuan that pays the loan off",
            field="amount",
            payoff=payoff,
        )
    left = amount
    paid_interest = paid_principal = ZERO
    for line in lines:
        if left <= 0:
            break
        interest = min(left, line.interest - line.paid_interest)
        line.paid_interest += interest
        left -= interest
        part = min(left, line.principal - line.paid_principal)
        line.paid_principal += part
        left -= part
        paid_interest += interest
        paid_principal += part
        if line.paid_interest == line.interest and line.paid_principal == line.principal:
            line.paid_on = line.paid_on or day
    loan.balance -= paid_principal
    loan.interest_paid += paid_interest
    repayment = Repayment(
        public_id=new_id("rpy"),
        loan_id=loan.id,
        amount=amount,
        principal=paid_principal,
        interest=paid_interest,
        paid_on=day,
        recorded_at=clock.now(),
        recorded_by=principal.actor,
    )
    session.add(repayment)
    session.flush()
    if outstanding(lines) == 0:
        LOANS.move(
            session,
            loan,
            "repay",
            actor=principal.actor,
            actor_kind=principal.organization_kind,
            reason=repayment.public_id,
        )
        session.flush()
        _tell(session, loan, "repay")
    else:
        refresh(session, loan=loan)
    return repayment


def declare(
    session: Session, *, principal: Principal, loan_id: str, transition: str, reason: str | None
) -> Loan:
    """The institution declares an overdue loan defaulted, or writes a defaulted one off."""
    LOANS.named(transition, among=DECLARATIONS)
    loan = visible_or_raise(session, principal=principal, loan_id=loan_id, lock=True)
    _institution(principal, loan.institution_id)
    refresh(session, loan=loan)
    LOANS.move(
        session,
        loan,
        transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    session.flush()
    _tell(session, loan, transition)
    return loan


BOOK_COLUMNS = (
    "contract_number",
    "loan_id",
    "enterprise_name",
    "credit_code",
    "region_code",
    "product_type",
    "principal",
    "rate",
    "term_months",
    "repayment_method",
    "start_on",
    "maturity_on",
    "balance",
    "interest_paid",
    "overdue_days",
    "state",
)


def book_rows(session: Session, loans: list[Loan]) -> list[list[object]]:
    today = clock.today()
    rows: list[list[object]] = []
    for loan in loans:
        days = days_overdue(session, loan=loan, today=today)
        rows.append(
            [
                loan.contract_number,
                loan.public_id,
                loan.enterprise_name,
                loan.credit_code,
                loan.region_code or "",
                loan.product_type,
                loan.principal,
                loan.rate,
                loan.term_months,
                loan.repayment_method,
                loan.start_on.isoformat(),
                loan.maturity_on.isoformat(),
                loan.balance,
                loan.interest_paid,
                days,
                loan.state,
            ]
        )
    return rows


def book_csv(session: Session, loans: list[Loan]) -> str:
    """The loan book as CSV (UTF-8 with a BOM so that spreadsheet programs read Chinese)."""
    return exports.csv_text(BOOK_COLUMNS, book_rows(session, loans))


# Principal, balance and interest paid: exact Decimals shown with two decimals.
_MONEY_COLUMNS = ("principal", "balance", "interest_paid")


def book_xlsx(session: Session, loans: list[Loan]) -> bytes:
    """The loan book as an Excel workbook; money stays exact (numbers, not text, shown
    with two decimals)."""
    money = {BOOK_COLUMNS.index(name): "#,##0.00" for name in _MONEY_COLUMNS}
    return exports.xlsx_bytes(
        "loan book", BOOK_COLUMNS, book_rows(session, loans), number_formats=money
    )


FINANCING_ALL, FINANCING_OWN = "all", "own"


def financing_of(
    session: Session, *, principal: Principal, credit_code: str
) -> tuple[str, list[Application], list[Loan]] | None:
    """An enterprise's applications and loans on the platform as ``principal`` may see
    them: all of them for the enterprise itself and the operator, those it received or made
    for an institution, None for anyone else. Returns the scope and both lists, newest first."""
    party = visibility.party_of(principal)
    if party is None or (party[0] == visibility.ENTERPRISE and party[1] != credit_code):
        return None
    scope = FINANCING_OWN if party[0] == visibility.INSTITUTION else FINANCING_ALL
    found = session.scalars(
        visibility.applications(principal).where(Application.credit_code == credit_code)
    )
    lent = session.scalars(visibility.loans(principal).where(Loan.credit_code == credit_code))
    return scope, list(found), list(lent)
