"""The summary against the rows it summarizes: figures recomputed from raw rows by hand
agree with the stored ones; a refresh after new events leaves exactly what a rebuild would;
months, quarters and years are sums of days."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tests.graph.records import register
from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.settings import get_settings
from xinyidai.market.models import (
    RUNNING_LOAN_STATES,
    Application,
    ApplicationState,
    Loan,
    LoanState,
    Repayment,
)
from xinyidai.records.models import CreditRecord
from xinyidai.registry.models import Enterprise
from xinyidai.stats.models import Dimension, FigureRow, Grain, Refresh, RefreshKind
from xinyidai.stats.service import figures, refresh
from xinyidai.stats.sources import SOURCES
from xinyidai.stats.sources.kit import Cell

EPOCH = date(2000, 1, 1)


def _by_period(values: list[figures.Value]) -> dict[tuple[str, str, str], Decimal | None]:
    return {(v.period, v.key, v.figure): v.value for v in values}


def _year(day: date) -> str:
    return str(day.year)


def test_loans_per_institution_are_the_loan_rows(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    loans = list(session.scalars(select(Loan)))
    assert loans
    count: Counter[tuple[str, str]] = Counter()
    amount: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for loan in loans:
        count[(_year(loan.start_on), loan.institution_id)] += 1
        amount[(_year(loan.start_on), loan.institution_id)] += loan.principal
    start = min(loan.start_on for loan in loans)
    got = _by_period(
        figures.table(
            session,
            figures=["loans_granted", "loans_amount"],
            grain=Grain.YEAR,
            start=start,
            end=clock.today(),
            dimension=Dimension.INSTITUTION,
        )
    )
    for (year, institution), n in count.items():
        assert got[(year, institution, "loans_granted")] == n
        assert got[(year, institution, "loans_amount")] == amount[(year, institution)]


def test_stocks_today_are_the_loans_as_they_stand(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    loans = list(session.scalars(select(Loan)))
    start = min(loan.start_on for loan in loans)
    got = figures.totals(
        session, ["balance", "live_loans", "overdue_loans", "defaulted_loans"], start, clock.today()
    )
    running = [loan for loan in loans if loan.state in RUNNING_LOAN_STATES]
    assert got["live_loans"] == len(running)
    assert got["overdue_loans"] == sum(loan.state == LoanState.OVERDUE for loan in loans)
    assert got["defaulted_loans"] == sum(loan.state == LoanState.DEFAULTED for loan in loans)
    assert got["balance"] == sum(
        (loan.balance for loan in loans if loan.state != LoanState.WRITTEN_OFF), Decimal(0)
    )


def test_approval_rate_and_registrations_are_the_rows(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    decided = [
        a
        for a in session.scalars(select(Application))
        if a.state in (ApplicationState.APPROVED, ApplicationState.REJECTED)
    ]
    approved = sum(a.state == ApplicationState.APPROVED for a in decided)
    got = figures.totals(
        session, ["approval_rate", "decisions", "enterprises_registered"], EPOCH, clock.today()
    )
    assert got["decisions"] == len(decided)
    assert got["approval_rate"] == (Decimal(approved) / len(decided) * 100).quantize(
        Decimal("0.01")
    )
    assert got["enterprises_registered"] == session.scalar(
        select(func.count()).select_from(Enterprise)
    )
    counties = Counter(e.region_code for e in session.scalars(select(Enterprise)) if e.region_code)
    by_county = figures.table(
        session,
        figures=["enterprises_registered"],
        grain=Grain.YEAR,
        start=clock.today(),
        end=clock.today(),
        dimension=Dimension.COUNTY,
    )
    assert {v.key: v.value for v in by_county if v.value} == {
        county: n for county, n in counties.items() if county[4:] != "00"
    }


def test_records_per_category_are_the_record_rows(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    expected = Counter(session.scalars(select(CreditRecord.category)))
    got = figures.table(
        session,
        figures=["records_collected"],
        grain=Grain.YEAR,
        start=clock.today(),
        end=clock.today(),
        dimension=Dimension.CATEGORY,
    )
    assert {v.key: v.value for v in got} == expected


def test_completeness_and_timeliness_are_the_record_rows(
    session: Session, lending: list[str]
) -> None:
    """Per category: the share of the catalogue's fields the records filled, and the share
    stored within ``stats.timely_days`` days of their event, recomputed by hand."""
    rows = session.scalars(select(CreditRecord).where(CreditRecord.event_on.is_not(None))).all()
    assert len(rows) >= 2
    today = clock.to_local(rows[0].created_at).date()
    # one record arrives a month after its event, one the same day
    rows[0].event_on = today - timedelta(days=30)
    rows[1].event_on = today
    session.commit()
    refresh.rebuild(session)
    specs = catalog_service.specs_in_force(session)
    timely_days = get_settings().stats.timely_days
    defined: Counter[str] = Counter()
    filled: Counter[str] = Counter()
    dated: Counter[str] = Counter()
    timely: Counter[str] = Counter()
    for record in session.scalars(select(CreditRecord)):
        names = [field.name for field in specs[record.category].fields]
        defined[record.category] += len(names)
        filled[record.category] += sum(
            1 for name in names if record.data.get(name) not in (None, "")
        )
        if record.event_on is not None:
            dated[record.category] += 1
            arrived = clock.to_local(record.created_at).date()
            timely[record.category] += (arrived - record.event_on).days <= timely_days

    def table(name: str) -> dict[str, Decimal | None]:
        got = figures.table(
            session,
            figures=[name],
            grain=Grain.YEAR,
            start=clock.today(),
            end=clock.today(),
            dimension=Dimension.CATEGORY,
        )
        return {v.key: v.value for v in got}

    completeness = table("records_completeness")
    for category, count in defined.items():
        expected = Decimal(filled[category]) * 100 / count
        assert abs(Decimal(completeness[category] or 0) - expected) < Decimal("0.01"), category
    timeliness = table("records_timeliness")
    for category, count in dated.items():
        expected = Decimal(timely[category]) * 100 / count
        assert abs(Decimal(timeliness[category] or 0) - expected) < Decimal("0.01"), category
    late = rows[0].category
    assert timeliness[late] is not None
    assert timeliness[late] < 100


def _all_rows(session: Session) -> dict[tuple[str, str, str, date], Decimal]:
    session.expire_all()
    return {
        (r.figure, r.dimension, r.key, r.day): r.value for r in session.scalars(select(FigureRow))
    }


def test_a_refresh_after_new_events_leaves_what_a_rebuild_would(
    session: Session, lending: list[str]
) -> None:
    refresh.rebuild(session)
    session.commit()
    # events after it: an enterprise registered, a repayment and a loan dated weeks back
    register(session, 40, region="450102")
    loan = session.scalars(select(Loan).where(Loan.state == LoanState.CURRENT)).first()
    assert loan is not None
    weeks_ago = clock.today() - timedelta(days=40)
    loan.start_on = weeks_ago
    session.add(
        Repayment(
            public_id="rep_stats_test",
            loan_id=loan.id,
            amount=Decimal("1000.00"),
            principal=Decimal("900.00"),
            interest=Decimal("100.00"),
            paid_on=weeks_ago + timedelta(days=10),
            recorded_at=clock.now(),
            recorded_by="test",
        )
    )
    session.commit()
    done = refresh.refresh(session)
    session.commit()
    assert done.kind == RefreshKind.REFRESH
    refreshed = _all_rows(session)
    refresh.rebuild(session)
    session.commit()
    assert refreshed == _all_rows(session)
    # and running it again changes nothing
    refresh.refresh(session)
    session.commit()
    assert _all_rows(session) == refreshed


def test_the_first_refresh_is_a_rebuild_and_each_is_recorded(
    session: Session, lending: list[str]
) -> None:
    assert refresh.refresh(session).kind == RefreshKind.REBUILD
    assert refresh.refresh(session).kind == RefreshKind.REFRESH
    kinds = [r.kind for r in session.scalars(select(Refresh).order_by(Refresh.id))]
    assert kinds == [RefreshKind.REBUILD, RefreshKind.REFRESH]


def test_every_stored_row_is_what_its_source_recomputes(
    session: Session, lending: list[str]
) -> None:
    refresh.rebuild(session)
    for source in SOURCES:
        assert refresh.stored(session, source.stored, None, None) == refresh.recompute(
            session, source, None, None
        )


def test_small_cells_are_suppressed_with_a_second_one(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    start = min(session.scalars(select(Loan.start_on)))
    args = {
        "figures": ["loans_granted"],
        "grain": Grain.YEAR,
        "start": start,
        "end": clock.today(),
        "dimension": Dimension.INSTITUTION,
    }
    open_values = figures.table(session, **args)  # type: ignore[arg-type]
    hidden = figures.table(session, min_cell=1000, **args)  # type: ignore[arg-type]
    assert all(
        v.suppressed and v.value is None for v in hidden if v.key and _nonzero(open_values, v)
    )
    # one small cell among large ones takes the next smallest with it
    few = figures.table(session, min_cell=2, **args)  # type: ignore[arg-type]
    for period in {v.period for v in few}:
        suppressed = [v for v in few if v.period == period and v.suppressed]
        assert len(suppressed) != 1


def _nonzero(values: list[figures.Value], value: figures.Value) -> bool:
    return any(v.period == value.period and v.key == value.key and v.value for v in values)


REGIONS = ("450102", "450103", "450202", "640104")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
            st.sampled_from(REGIONS),
            st.integers(min_value=1, max_value=50),
        ),
        max_size=60,
    ),
    st.sampled_from([Grain.MONTH, Grain.QUARTER, Grain.YEAR]),
)
def test_periods_are_sums_of_days(
    session: Session, cells: list[tuple[date, str, int]], grain: Grain
) -> None:
    session.execute(delete(FigureRow))
    rows = refresh.summarize(Cell("needs_posted", d, n, region=r) for d, r, n in cells)
    for (figure, dimension, key, day), value in rows.items():
        session.add(FigureRow(figure=figure, dimension=dimension, key=key, day=day, value=value))
    session.flush()
    got = figures.table(
        session,
        figures=["needs_posted"],
        grain=grain,
        start=date(2025, 1, 1),
        end=date(2026, 12, 31),
        dimension=Dimension.PROVINCE,
    )
    expected: Counter[tuple[str, str]] = Counter()
    for d, region, n in cells:
        expected[(figures.period_of(grain, d).label, region[:2] + "0000")] += n
    assert {(v.period, v.key): v.value for v in got if v.value} == +expected
    session.rollback()
