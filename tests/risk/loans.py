"""Loans written straight into the marketplace's tables, with a schedule and a repayment
history, for the early-warning and loan-indicator tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.market import schedules
from xinyidai.market.models import Instalment, Loan, LoanState

ZERO = Decimal("0.00")
_numbers = count(1)


def months_ago(months: int) -> date:
    today = clock.today()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, min(today.day, 28))


def make_loan(
    session: Session,
    *,
    institution_id: str,
    credit_code: str,
    start_on: date,
    principal: str = "120000.00",
    term: int = 12,
    paid_late_days: dict[int, int | None] | None = None,
    state: LoanState = LoanState.CURRENT,
) -> Loan:
    """A loan started on ``start_on``: every instalment due before today is paid on its
    due day, or ``paid_late_days[number]`` days late, or not at all when that is None
    (then the loan is overdue)."""
    number = next(_numbers)
    amount = Decimal(principal)
    lines = schedules.schedule(amount, Decimal("4.0000"), term, "equal_principal", start_on)
    loan = Loan(
        public_id=f"loan_test{number:05d}",
        contract_number=f"XYD-TEST-{number:05d}",
        application_id=f"app_test{number:05d}",
        product_id="prd_test",
        product_type="credit",
        institution_id=institution_id,
        institution_name="测试银行",
        credit_code=credit_code,
        enterprise_name=f"测试企业{credit_code[-4:]}",
        region_code="450100",
        principal=amount,
        rate=Decimal("4.0000"),
        term_months=term,
        repayment_method="equal_principal",
        start_on=start_on,
        maturity_on=lines[-1].due_on,
        balance=amount,
        interest_paid=ZERO,
        state=state,
        state_changed_at=clock.now(),
        state_changed_by="test",
    )
    session.add(loan)
    session.flush()
    late = paid_late_days or {}
    today = clock.today()
    overdue = False
    for line in lines:
        row = Instalment(
            loan_id=loan.id,
            number=line.number,
            due_on=line.due_on,
            principal=line.principal,
            interest=line.interest,
            paid_principal=ZERO,
            paid_interest=ZERO,
        )
        if line.due_on < today:
            delay = late.get(line.number, 0)
            paid_on = None if delay is None else line.due_on + timedelta(days=delay)
            if paid_on is not None and paid_on <= today:
                row.paid_principal, row.paid_interest, row.paid_on = (
                    line.principal,
                    line.interest,
                    paid_on,
                )
                loan.balance -= line.principal
            else:
                overdue = True
        session.add(row)
    if overdue and state == LoanState.CURRENT:
        loan.state = LoanState.OVERDUE
    session.flush()
    return loan
