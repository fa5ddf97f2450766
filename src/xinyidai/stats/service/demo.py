"""A year of history in the demo, so that the dashboard's trends move: each of the last
twelve months, a growing number of applications to the demo shelf, decided after hours or
days, most approved and paid out, their instalments repaid on their due days (a few stop
paying and fall overdue). Everything goes through the marketplace's own services with the
clock set back (``clock.frozen_at``), so every row is dated as if it had happened then;
the summary is rebuilt at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import XydError
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import (
    OPEN_APPLICATION_STATES,
    Application,
    ApplicationState,
    Product,
    ProductState,
)
from xinyidai.market.schemas import ApplicationIn
from xinyidai.market.service import applications, loans, rules
from xinyidai.stats.service import refresh

PURPOSE = "经营周转（演示历史）"  # marks the history's applications: the demo makes it once
LENDERS = ("bank", "bank-rural", "guarantor", "insurer")  # the market demo's institutions
BORROWERS = ("enterprise", *(f"enterprise{n}" for n in range(2, 7)))
DECISION_HOURS = (2, 20, 52, 100)
MONTHS = 12  # how far back the history goes
EPOCH_MONTHS = MONTHS


@dataclass(frozen=True)
class DemoHistory:
    applications: int
    loans: int
    created: bool


def _principal(session: Session, username: str) -> Principal | None:
    user = iam_service.get_user(session, username=username)
    return iam_service.principal_for_user(user, via="token") if user else None


def _month_start(today: date, months_ago: int) -> date:
    index = today.year * 12 + today.month - 1 - months_ago
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.SHANGHAI)


def ensure_demo_history(session: Session) -> DemoHistory:
    """Make the year of history once (nothing when it exists or the shelf is empty)."""
    if session.scalar(select(Application.id).where(Application.purpose == PURPOSE).limit(1)):
        return DemoHistory(0, 0, False)
    lenders = {p.organization_public_id: p for u in LENDERS if (p := _principal(session, u))}
    borrowers = [p for u in BORROWERS if (p := _principal(session, u))]
    shelf = [
        p
        for p in session.scalars(
            select(Product).where(Product.state == ProductState.PUBLISHED).order_by(Product.id)
        )
        if p.institution_id in lenders
    ]
    if not shelf or not borrowers:
        return DemoHistory(0, 0, False)
    today = clock.today()
    made = lent = 0
    for months_ago in range(MONTHS, 0, -1):
        first = _month_start(today, months_ago)
        for n in range(3 + MONTHS - months_ago):
            day = first + timedelta(days=(n * 7 + months_ago * 3) % 27)
            product = shelf[(n + months_ago) % len(shelf)]
            borrower = borrowers[(n * 5 + months_ago) % len(borrowers)]
            try:
                with session.begin_nested():
                    if _story(
                        session, day, n, product, borrower, lenders[product.institution_id], today
                    ):
                        lent += 1
                made += 1
            except XydError:  # a product the borrower is not eligible for: the next one
                continue
    refresh.rebuild(session)
    return DemoHistory(made, lent, True)


def _story(
    session: Session,
    day: date,
    n: int,
    product: Product,
    borrower: Principal,
    lender: Principal,
    today: date,
) -> bool:
    """One application from submission to its last repayment; whether it was paid out."""
    amount = min(product.amount_min * (2 + n % 3), product.amount_max)
    data = ApplicationIn(
        product_id=product.public_id,
        amount=amount,
        term_months=product.term_min,
        repayment_method=product.repayment_methods[0],
        purpose=PURPOSE,
        authorize=True,
    )
    with clock.frozen_at(_at(day)):
        application, _ = rules.submit_and_decide(session, principal=borrower, data=data)
    decided_at = _at(day) + timedelta(hours=DECISION_HOURS[n % len(DECISION_HOURS)])
    if application.state in OPEN_APPLICATION_STATES:
        with clock.frozen_at(decided_at):
            applications.decide(
                session,
                principal=lender,
                application_id=application.public_id,
                outcome="reject" if n % 5 == 4 else "approve",
                rate=None if n % 5 == 4 else product.rate_min + Decimal("0.25") * (n % 4),
                reason="资料不全，暂不授信" if n % 5 == 4 else "资料齐全，同意授信",
            )
    if application.state != ApplicationState.APPROVED:
        return False
    start = clock.to_local(decided_at).date() + timedelta(days=1)
    if start >= today:
        return False
    with clock.frozen_at(_at(start, 9)):
        loan = loans.disburse(
            session, principal=lender, application_id=application.public_id, start_on=start
        )
    stops_after = 2 if n % 9 == 4 else None  # a few borrowers stop paying
    for line in loans.instalments_of(session, loan=loan):
        if line.due_on >= today or (stops_after is not None and line.number > stops_after):
            break
        with clock.frozen_at(_at(line.due_on, 15)):
            loans.repay(
                session,
                principal=lender,
                loan_id=loan.public_id,
                amount=line.principal + line.interest,
                paid_on=line.due_on,
            )
    loans.refresh(session, loan=loan)
    return True
