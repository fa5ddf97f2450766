"""The association indicators: how many bad enterprises are one and two links away, as
association analysis stored them, read by the rating, kept current when a partner turns
bad, and used when the model is trained."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.graph.records import hold, list_as_dishonest, register

from xinyidai.consent.schemas import Decision
from xinyidai.graph import service as graph_service
from xinyidai.graph.models import BadNeighbourCount, GraphAnalysis
from xinyidai.records.models import CreditRecord
from xinyidai.scoring import features, platform_model, service, training
from xinyidai.scoring.models import CreditRating

ON = date(2026, 7, 1)  # after the dishonest listing of the test records (2026-06-01)


def _indicators(session: Session, codes: list[str] | None = None) -> dict[str, tuple[float, float]]:
    table = features.compute(session, on=ON, credit_codes=codes)
    return {
        row["credit_code"]: (row["bad_associates_1"], row["bad_associates_2"])
        for row in table.iter_rows(named=True)
    }


def _triggers(session: Session, code: str) -> list[str]:
    return list(
        session.scalars(
            select(CreditRating.trigger)
            .where(CreditRating.credit_code == code)
            .order_by(CreditRating.id)
        )
    )


@pytest.fixture
def group(session: Session) -> dict[str, str]:
    """b holds shares of a; a and c have a natural-person shareholder of the same name in
    the same county (so b is two links from c); d stands alone. Nobody is bad yet."""
    with service.arrival_paused():
        names = {
            label: register(session, n, representative=f"法人{label}")
            for n, label in enumerate("abcd", start=1)
        }
        hold(session, names["a"], name="宁夏关联测试2有限公司", holder=names["b"])
        hold(session, names["a"], name="张伟")
        hold(session, names["c"], name="张伟")
    session.commit()
    return names


def test_a_shareholder_on_the_dishonest_list_counts_one_link_away_and_two(
    session: Session, group: dict[str, str]
) -> None:
    n = group
    with service.arrival_paused():
        list_as_dishonest(session, n["b"])
    graph_service.analyse(session, on=ON)
    session.commit()
    assert _indicators(session) == {
        n["a"]: (1.0, 0.0),  # b holds shares of a
        n["b"]: (0.0, 0.0),  # b itself: its neighbours are not bad
        n["c"]: (0.0, 1.0),  # c - a (张伟) - b
        n["d"]: (0.0, 0.0),  # nobody around
    }
    for code in n.values():  # one enterprise reads exactly what the bulk read gives
        assert _indicators(session, [code]) == {code: _indicators(session)[code]}


def test_without_an_analysis_nobody_has_bad_associates(
    session: Session, group: dict[str, str]
) -> None:
    with service.arrival_paused():
        list_as_dishonest(session, group["b"])
    session.commit()
    assert set(_indicators(session).values()) == {(0.0, 0.0)}


def test_a_partner_turning_bad_recounts_and_re_rates_its_associates(
    session: Session, group: dict[str, str]
) -> None:
    n = group
    graph_service.analyse(session, on=ON)
    service.rate_all(session, on=ON)
    session.commit()
    assert session.scalar(select(func.count()).select_from(BadNeighbourCount)) == 0
    list_as_dishonest(session, n["b"])  # arrives with re-rating on
    session.commit()
    stored = {r.credit_code: r for r in session.scalars(select(BadNeighbourCount))}
    assert {c: (r.depth1, r.depth2) for c, r in stored.items()} == {
        n["a"]: (1, 0),
        n["c"]: (0, 1),
    }
    assert {r.analysis_id for r in stored.values()} == {None}
    assert _triggers(session, n["b"]) == ["run", "arrival"]  # its own negative record
    assert _triggers(session, n["a"]) == ["run", "arrival"]  # its counts changed
    assert _triggers(session, n["c"]) == ["run", "arrival"]
    assert _triggers(session, n["d"]) == ["run"]
    assert _indicators(session, [n["a"], n["c"]]) == {n["a"]: (1.0, 0.0), n["c"]: (0.0, 1.0)}
    # the shipped model uses the depth-1 count: a's new rating gives it as a reason
    assert "bad_associates_1" in platform_model.current().feature_names
    ratings = list(
        session.scalars(
            select(CreditRating).where(CreditRating.credit_code == n["a"]).order_by(CreditRating.id)
        )
    )
    assert ratings[-1].score < ratings[0].score
    assert "bad_associates_1" in {name for name, _, _ in ratings[-1].reasons}


def test_a_failed_recount_never_loses_the_record(
    session: Session,
    group: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = group

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(graph_service, "recount_around", broken)
    with caplog.at_level(logging.ERROR, logger="xinyidai.scoring.service"):
        list_as_dishonest(session, n["b"])
    session.commit()
    kept = session.scalar(
        select(func.count())
        .select_from(CreditRecord)
        .where(CreditRecord.subject_code == n["b"], CreditRecord.category == "dishonest_debtor")
    )
    assert kept == 1
    assert session.scalar(select(func.count()).select_from(CreditRating)) == 0
    assert "re-rating on arrival" in caplog.text


def test_training_counts_the_associations_as_of_the_regions_day(
    region_url: str, region_folder: Path
) -> None:
    from xinyidai.core.db import new_session

    outcomes = training.outcomes_of(region_folder)
    with new_session() as session:
        frame = training.labelled_features(session, outcomes)
        assert (frame["bad_associates_1"] == 0).all()  # not counted yet
        evaluation = training.train(session, outcomes)
        analysis = session.scalar(select(GraphAnalysis).order_by(GraphAnalysis.started_at.desc()))
        assert analysis is not None
        assert analysis.counts_as_of == outcomes.as_of
        stored = graph_service.stored_bad_neighbours(session)
        frame = training.labelled_features(session, outcomes)
    assert stored.height == analysis.bad_neighbours > 0
    counted = pl.DataFrame(
        {
            name: frame[name].to_list()
            for name in ("credit_code", "bad_associates_1", "bad_associates_2")
        }
    )
    joined = counted.join(stored, on="credit_code", how="left").fill_null(0)
    assert (joined["bad_associates_1"] == joined["depth1"]).all()
    assert (joined["bad_associates_2"] == joined["depth2"]).all()
    assert joined["bad_associates_1"].sum() > 0
    assert "bad_associates_1" in evaluation.card.iv_


def test_a_rating_is_withheld_unless_the_links_it_counts_are_granted() -> None:
    """The association indicators reveal the subject's links: a decision that withholds its
    shareholders (or registration) withholds the rating too."""
    assert {"registration", "shareholder"} <= set(features.rated_categories())
    assert "shareholder" not in features.source_categories()  # not read by the indicators
    decision = Decision(
        outcome="allow",
        subject="91640104MA00000010",
        purpose="credit_assessment",
        categories=tuple(features.rated_categories()),
        basis="letter",
        letter_id="L1",
        grants={},
        withheld={},
        event_id="e1",
    )
    assert service.withheld_from(decision) is None
    lacking = dataclasses.replace(decision, withheld={"shareholder": "not_in_letter"})
    assert service.withheld_from(lacking) == "not_in_letter"
