"""Bad neighbours: counted set-based from the index of keys, stored by the region analysis,
read back for the rating, counted again around an enterprise that turns bad."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.graph.records import _push, guarantee, hold, list_as_dishonest, register
from xinyidai.graph import contagion, links, region, service
from xinyidai.graph.models import BadNeighbourCount
from xinyidai.graph.schemas import BadNeighbours
from xinyidai.ingest import service as ingest_service
from xinyidai.records import service as records_service
from xinyidai.synth import generate

BAD_FEEDS = ("court_enforcement", "dishonest_debtor", "abnormal_operation")
LINK_FEEDS = ("registration", "shareholder", "guarantee")


def _stored(session: Session) -> dict[str, tuple[int, int, str | None]]:
    rows = session.scalars(select(BadNeighbourCount))
    return {r.credit_code: (r.depth1, r.depth2, r.analysis_id) for r in rows}


@pytest.fixture
def related(session: Session) -> dict[str, str]:
    """a and b share a legal representative, b guarantees c, c holds shares of d; e alone."""
    names = {
        "a": register(session, 1, representative="王伟"),
        "b": register(session, 2, representative="王伟"),
        "c": register(session, 3, representative="李娜"),
        "d": register(session, 4, representative="赵强"),
        "e": register(session, 5, representative="孙丽"),
    }
    guarantee(session, names["b"], names["c"])
    hold(session, names["d"], name="宁夏关联测试3有限公司", holder=names["c"])
    session.commit()
    return names


def test_the_analysis_stores_every_enterprises_bad_neighbours(
    session: Session, related: dict[str, str]
) -> None:
    n = related
    list_as_dishonest(session, n["c"])
    session.commit()
    analysis = service.analyse(session, on=date(2026, 7, 1))
    session.commit()
    assert _stored(session) == {
        n["a"]: (0, 1, analysis.id),  # a - b - c
        n["b"]: (1, 0, analysis.id),
        n["d"]: (1, 0, analysis.id),  # c holds shares of d
    }
    assert analysis.bad_neighbours == 3
    assert analysis.counts_as_of == date(2026, 7, 1)
    frame = service.stored_bad_neighbours(session, credit_codes=[n["a"], n["e"], n["d"]])
    assert sorted(frame.rows()) == sorted([(n["a"], 0, 1), (n["d"], 1, 0)])
    assert contagion.as_mapping(service.stored_bad_neighbours(session)) == {
        n["a"]: BadNeighbours(0, 1),
        n["b"]: BadNeighbours(1, 0),
        n["d"]: BadNeighbours(1, 0),
    }


def test_bad_signals_are_read_as_of_the_analysis_day(
    session: Session, related: dict[str, str]
) -> None:
    n = related
    list_as_dishonest(session, n["c"])  # published 2026-06-01
    session.commit()
    service.analyse(session, on=date(2026, 5, 31))
    assert _stored(session) == {}
    service.analyse(session, on=date(2026, 6, 1))
    assert set(_stored(session)) == {n["a"], n["b"], n["d"]}
    # past its disclosure period (five years) the listing no longer makes c bad
    service.analyse(session, on=date(2031, 6, 2))
    assert _stored(session) == {}


def test_a_new_analysis_replaces_the_counts_of_the_last(
    session: Session, related: dict[str, str]
) -> None:
    n = related
    list_as_dishonest(session, n["c"])
    session.commit()
    service.analyse(session)
    list_as_dishonest(session, n["e"])
    _push(  # a's only enforcement case is closed: a is not bad
        session,
        "court",
        "court_enforcement",
        [
            {
                "credit_code": n["a"],
                "enterprise_name": "被执行企业",
                "case_number": "(2025)宁0104执1号",
                "filed_on": "2025-03-01",
                "amount": "1000.00",
                "status": "已结案",
                "region_code": "640104",
            }
        ],
    )
    session.commit()
    second = service.analyse(session)
    assert _stored(session) == {
        n["a"]: (0, 1, second.id),
        n["b"]: (1, 0, second.id),
        n["d"]: (1, 0, second.id),
    }


def test_closed_cases_and_removed_listings_are_not_bad(session: Session) -> None:
    closed, open_case, removed, listed = (register(session, k) for k in (1, 2, 3, 4))
    rows = [
        (closed, "已结案"),
        (open_case, "执行中"),
    ]
    for subject, status in rows:
        _push(
            session,
            "court",
            "court_enforcement",
            [
                {
                    "credit_code": subject,
                    "enterprise_name": "被执行企业",
                    "case_number": f"(2025)宁0104执{subject[-4:]}号",
                    "filed_on": "2025-03-01",
                    "amount": "1000.00",
                    "status": status,
                    "region_code": "640104",
                }
            ],
        )
    for subject, removed_on in ((removed, "2025-09-01"), (listed, None)):
        _push(
            session,
            "market",
            "abnormal_operation",
            [
                {
                    "credit_code": subject,
                    "enterprise_name": "异常企业",
                    "reason": "通过登记的住所无法联系",
                    "listed_on": "2025-01-10",
                    "removed_on": removed_on,
                    "region_code": "640104",
                }
            ],
        )
    session.commit()
    assert contagion.bad_subjects(session, on=date(2026, 1, 1)) == {open_case, listed}


def test_a_hub_links_nobody_in_the_counts(session: Session) -> None:
    agent = "银川市金凤区创业大厦8号楼1201室"
    members = [
        register(session, k, address=agent, representative=f"法人{k}")
        for k in range(1, links.MAX_GROUP + 2)
    ]
    pair = [register(session, k, representative="周平") for k in (100, 101)]
    list_as_dishonest(session, members[0])
    list_as_dishonest(session, pair[0])
    session.commit()
    service.rebuild_index(session)
    assert service.bad_neighbour_counts(session) == {pair[1]: BadNeighbours(1, 0)}


def test_a_shareholding_and_a_guarantee_link_both_ways(session: Session) -> None:
    owner, holder, guarantor, borrower = (
        register(session, k, representative=f"人{k}") for k in (1, 2, 3, 4)
    )
    hold(session, owner, name="持股企业", holder=holder)
    guarantee(session, guarantor, borrower)
    list_as_dishonest(session, owner)
    list_as_dishonest(session, borrower)
    session.commit()
    service.rebuild_index(session)
    assert service.bad_neighbour_counts(session) == {
        holder: BadNeighbours(1, 0),
        guarantor: BadNeighbours(1, 0),
    }


def test_counting_again_around_an_enterprise_that_turns_bad(
    session: Session, related: dict[str, str]
) -> None:
    n = related
    service.analyse(session)
    session.commit()
    assert _stored(session) == {}
    with records_service.listeners_paused():  # counted here, not by a listener (the rating's)
        list_as_dishonest(session, n["c"])
    changed = service.recount_around(session, codes=[n["c"]])
    assert sorted(changed) == sorted([n["a"], n["b"], n["d"]])
    assert {c: v[:2] for c, v in _stored(session).items()} == {
        n["a"]: (0, 1),
        n["b"]: (1, 0),
        n["d"]: (1, 0),
    }
    assert {v[2] for v in _stored(session).values()} == {None}  # counted on arrival
    assert service.recount_around(session, codes=[n["c"]]) == []  # nothing changed since
    assert service.recount_around(session, codes=[n["e"]]) == []  # nobody around e


def test_set_based_counts_agree_with_walking_the_records(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "region"
    generate(folder, enterprises=4000, seed=9)
    with records_service.listeners_paused():  # a bulk load: the analysis counts after
        for feed in ingest_service.feeds_in(folder, provider=None, category=None):
            if feed.category in LINK_FEEDS + BAD_FEEDS:
                ingest_service.ingest_file(session, feed=feed, actor="test")
                session.commit()
    service.analyse(session)
    session.commit()
    walked = {
        code: value
        for code, value in region.bad_neighbour_counts_from_records(session).items()
        if value.depth1 or value.depth2
    }
    stored = contagion.as_mapping(service.stored_bad_neighbours(session))
    assert stored == walked
    assert sum(1 for v in stored.values() if v.depth1) > 20
    assert sum(1 for v in stored.values() if v.depth2) > 5
    for code in random.Random(3).sample(sorted(stored), 15):
        assert service.bad_neighbours_of(session, code=code) == stored[code]
