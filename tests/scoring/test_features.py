"""The rating's indicators computed from hand-built records, as of a given day."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.orm import Session
from tests.ingest.tables import code
from tests.scoring.records import build_enterprise_a, push, register

from xinyidai.core.errors import NotFound
from xinyidai.records import service as records_service
from xinyidai.scoring import features
from xinyidai.scoring.indicators import INDICATORS, NAMES

ON = date(2025, 12, 31)


@pytest.fixture
def region(session: Session) -> dict[str, str]:
    """Enterprise A (everything), B (newly registered, no records), C (only mentioned)."""
    a = build_enterprise_a(session)
    b = register(session, 2, established_on="2025-06-30", capital=None)
    c = code(3)
    push(
        session,
        "admin_penalty",
        [
            {
                "credit_code": c,
                "decision_number": "PC",
                "fine_amount": "0",
                "penalty_type": "警告",
                "decided_on": "2025-12-01",
            },
        ],
    )
    session.commit()
    return {"a": a, "b": b, "c": c}


def _row(table: pl.DataFrame, credit_code: str) -> dict[str, object]:
    rows = table.filter(pl.col("credit_code") == credit_code).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_every_indicator_of_an_enterprise_with_records(
    session: Session, region: dict[str, str]
) -> None:
    a = _row(features.compute(session, on=ON), region["a"])
    assert a["as_of"] == ON
    assert a["age_years"] == pytest.approx((ON - date(2015, 6, 1)).days / 365.25)
    assert a["registered_capital"] == 1_000_000
    assert a["tax_grade"] == "B"  # the latest year's grade
    assert a["tax_paid_last_year"] == 300  # 2025's two periods, not 2024's
    assert a["tax_payment_trend"] == 2.0  # 300 against 150 the year before
    assert a["tax_overdue"] == 50
    assert (a["insured_count"], a["si_arrears_months"]) == (12, 3)
    # P3 is past its disclosure period and P4 after the as-of day
    assert (a["penalties"], a["penalty_fines"], a["penalty_severity"]) == (2, 6000, 3)
    assert a["days_since_penalty"] == (ON - date(2025, 6, 1)).days
    assert (a["enforcement_cases"], a["enforcement_open"], a["enforcement_amount"]) == (
        2,
        1,
        3000,
    )
    assert a["dishonest_listings"] == 1
    assert (a["abnormal_current"], a["abnormal_removed"]) == (1, 1)
    # the 2023 period of account E1 is not in the latest year
    assert (a["utility_arrears_months"], a["utility_arrears_amount"]) == (2, 300)
    assert a["guarantee_exposure"] == 0.5  # in force 500,000 of 1,000,000 capital
    assert a["hf_depositors"] is None
    assert a["customs_grade"] is None


def test_absent_records_count_as_zero_and_latest_values_as_missing(
    session: Session, region: dict[str, str]
) -> None:
    table = features.compute(session, on=ON)
    b = _row(table, region["b"])
    assert b["age_years"] == pytest.approx((ON - date(2025, 6, 30)).days / 365.25)
    assert b["registered_capital"] is None
    assert b["guarantee_exposure"] is None
    assert b["penalties"] == 0
    assert b["enforcement_amount"] == 0
    assert b["honours"] == 0
    assert b["tax_grade"] is None
    assert b["insured_count"] is None
    assert b["days_since_penalty"] is None
    assert b["utility_arrears_months"] is None
    c = _row(table, region["c"])  # known only from a penalty: pending verification
    assert c["age_years"] is None
    assert c["penalties"] == 1
    assert c["penalty_severity"] == 1
    assert list(table.columns) == ["credit_code", "as_of", *NAMES]
    assert {i.name for i in INDICATORS} == set(NAMES)


def test_an_earlier_as_of_day_sees_only_what_had_happened(
    session: Session, region: dict[str, str]
) -> None:
    a = _row(features.compute(session, on=date(2024, 12, 31)), region["a"])
    assert a["tax_grade"] == "D"  # the 2024 grade was published in 2025
    assert a["penalties"] == 1  # P2 (2024); P3 (2021) was already past three years
    assert a["abnormal_current"] == 1
    assert a["abnormal_removed"] == 0
    assert a["dishonest_listings"] == 0


def test_one_enterprise_is_computed_exactly_as_in_bulk(
    session: Session, region: dict[str, str]
) -> None:
    bulk = features.compute(session, on=ON).sort("credit_code")
    for wanted in ([region["a"]], [region["b"], region["c"]], list(region.values())):
        some = features.compute(session, on=ON, credit_codes=wanted).sort("credit_code")
        assert_frame_equal(some, bulk.filter(pl.col("credit_code").is_in(wanted)))


def test_an_unknown_subject_gives_no_row(session: Session, region: dict[str, str]) -> None:
    assert features.compute(session, on=ON, credit_codes=[code(77)]).height == 0


def test_records_are_read_in_bulk_per_category(session: Session, region: dict[str, str]) -> None:
    frames = records_service.category_frames(
        session, fields={"admin_penalty": ("fine_amount",), "honour": ("honour_name",)}, on=ON
    )
    penalties = frames["admin_penalty"].sort("fine_amount")
    assert penalties.columns == ["subject_code", "fine_amount"]
    assert penalties["fine_amount"].to_list() == ["0.00", "1000.00", "5000.00"]
    assert frames["honour"].height == 0
    with pytest.raises(NotFound) as caught:
        records_service.category_frames(session, fields={"no_such": ("x",)})
    assert caught.value.field == "category"
