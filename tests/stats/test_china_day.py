"""A figure's day is China's: an enterprise registered at 16:30 UTC counts on the next day,
on SQLite as on PostgreSQL (tests/stats/test_postgres.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.registry import service as registry_service
from xinyidai.registry.creditcode import make
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import figures, refresh


def register_at(session: Session, moment: datetime, n: int) -> None:
    with clock.frozen_at(moment):
        registry_service.create(
            session,
            data=EnterpriseIn(
                credit_code=make(f"91450100MA5K{n:05d}"),
                name=f"测试企业{n}",
                region_code="450103",
            ),
        )
    session.flush()


def check_days(session: Session) -> None:
    register_at(session, datetime(2026, 3, 1, 15, 59, tzinfo=UTC), 90001)  # 23:59 in China
    register_at(session, datetime(2026, 3, 1, 16, 30, tzinfo=UTC), 90002)  # 00:30 on 2 March
    refresh.rebuild(session)
    got = figures.table(
        session,
        figures=["enterprises_registered"],
        grain=Grain.DAY,
        start=date(2026, 3, 1),
        end=date(2026, 3, 2),
        dimension=Dimension.CITY,
    )
    assert {(v.period, v.key): v.value for v in got} == {
        ("2026-03-01", "450100"): 1,
        ("2026-03-02", "450100"): 1,
    }


def test_a_figure_counts_on_chinas_day(session: Session) -> None:
    check_days(session)


def test_industry_cells_are_gb4754_sections(session: Session) -> None:
    from collections import Counter

    from xinyidai.registry import codes

    moment = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    classes = ["6511", "6512", "0111", "5111", "6513"]
    for n, industry in enumerate(classes):
        with clock.frozen_at(moment):
            registry_service.create(
                session,
                data=EnterpriseIn(
                    credit_code=make(f"91450100MA5K{91000 + n:05d}"),
                    name=f"行业企业{n}",
                    region_code="450103",
                    industry_code=industry,
                ),
            )
    session.flush()
    refresh.rebuild(session)
    got = figures.table(
        session,
        figures=["enterprises_registered"],
        grain=Grain.YEAR,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        dimension=Dimension.INDUSTRY,
    )
    expected = Counter(codes.industry_section(c).code for c in classes)  # type: ignore[union-attr]
    assert {v.key: v.value for v in got} == expected
