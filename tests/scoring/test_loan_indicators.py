"""以贷促信: repayment on the platform's own loans as rating indicators, computed from the
marketplace's tables as the rating computes every indicator, and from a synthetic loan book
in the same shape."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session
from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World
from tests.risk.loans import make_loan, months_ago

from xinyidai.core import clock
from xinyidai.market.models import LoanState
from xinyidai.market.service import behaviour
from xinyidai.scoring import features, indicators, loan_behaviour
from xinyidai.synth import generate


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def test_loan_indicators_are_indicators_with_reasons() -> None:
    for name in loan_behaviour.LOAN_INDICATORS:
        indicator = indicators.BY_NAME[name]
        assert indicator.source == "loans"
        assert indicator.reason.code.startswith("LOANS_")
        assert indicator.missing_label["en"]


def test_indicators_from_the_platforms_loans(session: Session, world: World) -> None:
    make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(5),
        paid_late_days={1: 12, 2: 40, 4: None},
    )
    make_loan(
        session,
        institution_id=world.other_bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(2),
        principal="80000.00",
    )
    make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(20),
        state=LoanState.DEFAULTED,
        paid_late_days={n: None for n in range(1, 13)},
    )
    session.commit()
    today = clock.today()
    loans = behaviour.loan_frame(session, today, [ENTERPRISE_CODE])
    assert loans.height == 3
    assert loans.columns == [name for name, _ in loan_behaviour.LOAN_COLUMNS]

    table = features.compute(session, on=today, credit_codes=[ENTERPRISE_CODE, OTHER_CODE])
    mine = table.filter(pl.col("credit_code") == ENTERPRISE_CODE).row(0, named=True)
    # two live loans (the defaulted one is not live); 5 + 2 + 12 instalments due, 1 + 2
    # + 0 of them paid on time (the first loan: 1 on time, 2 late, 1 unpaid, 1 on time)
    assert mine["loans_live"] == 2
    assert mine["loans_defaulted"] == 1
    assert mine["loans_max_days_overdue"] >= 40
    live = loans.filter(pl.col("live"))
    assert mine["loans_days_overdue_now"] == live["days_overdue_now"].max()
    assert mine["loans_days_overdue_now"] > 0
    due = loans["instalments_due"].sum()
    assert mine["loans_on_time_share"] == loans["instalments_on_time"].sum() / due
    assert 0 < mine["loans_on_time_share"] < 1
    assert mine["loans_outstanding"] == live["outstanding"].sum()
    # an enterprise that never borrowed here has none of them: missing, its own bin
    other = table.filter(pl.col("credit_code") == OTHER_CODE).row(0, named=True)
    assert all(_missing(other[name]) for name in loan_behaviour.LOAN_INDICATORS)


def test_a_loan_starting_later_is_not_seen_as_of_an_earlier_day(
    session: Session, world: World
) -> None:
    make_loan(session, institution_id=world.bank_id, credit_code=OTHER_CODE, start_on=months_ago(1))
    session.commit()
    assert behaviour.loan_frame(session, months_ago(2), [OTHER_CODE]).height == 0
    assert behaviour.loan_frame(session, clock.today(), [OTHER_CODE]).height == 1


def test_a_synthetic_loan_book_reads_into_the_same_shape(tmp_path: Path) -> None:
    generate(tmp_path, enterprises=200, seed=5)
    book = loan_behaviour.from_book(tmp_path / "loans" / "loans.csv")
    assert book.columns == [name for name, _ in loan_behaviour.LOAN_COLUMNS]
    per = loan_behaviour.aggregate(book)
    assert per.height == book["credit_code"].n_unique()
    assert set(per.columns) == {"credit_code", *loan_behaviour.LOAN_INDICATORS}
    assert per["loans_live"].sum() == book.height
    shares = per["loans_on_time_share"].drop_nulls()
    assert ((shares >= 0) & (shares <= 1)).all()
