"""Association analysis over stored records: neighbourhoods, circles, bad neighbours."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.graph.records import code, guarantee, hold, list_as_dishonest, register
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.graph import links, service
from xinyidai.graph.models import AssociationKey, GraphAnalysis, GuaranteeStructure


@pytest.fixture
def circle_and_chain(session: Session) -> dict[str, str]:
    """A guarantees B, B guarantees C, C guarantees A (a circle); X → Y → Z (a chain)."""
    names = {}
    for n, label in enumerate(["A", "B", "C", "X", "Y", "Z"], start=1):
        names[label] = register(session, n, representative=f"法人{label}")
    guarantee(session, names["A"], names["B"], amount="1000000.00")
    guarantee(session, names["B"], names["C"], amount="2000000.00")
    guarantee(session, names["C"], names["A"], amount="3000000.00")
    guarantee(session, names["X"], names["Y"])
    guarantee(session, names["Y"], names["Z"])
    session.commit()
    return names


def test_a_cycle_of_guarantees_is_found_and_a_chain_is_not_flagged(
    session: Session, circle_and_chain: dict[str, str]
) -> None:
    n = circle_and_chain
    analysis = service.analyse(session)
    assert (analysis.circles, analysis.chains) == (1, 1)
    rows, total, latest = service.structures(session)
    assert latest is not None
    assert latest.id == analysis.id
    assert total == 2
    circle, chain = rows
    assert circle.kind == "circle"
    assert circle.members == [n["A"], n["B"], n["C"]]
    assert str(circle.total_amount) == "6000000.00"
    assert chain.kind == "chain"
    assert chain.members == [n["X"], n["Y"], n["Z"]]
    assert not {n["X"], n["Y"], n["Z"]} & {
        c for row in rows if row.kind == "circle" for c in row.members
    }


def test_a_neighbourhood_shows_the_circle_through_the_enterprise(
    session: Session, circle_and_chain: dict[str, str]
) -> None:
    n = circle_and_chain
    service.analyse(session)
    found = service.associations(session, code=n["B"], depth=1)
    assert {node.code: node.distance for node in found.nodes} == {n["A"]: 1, n["B"]: 0, n["C"]: 1}
    assert {(e.source, e.target, e.kind) for e in found.edges} == {
        (n["A"], n["B"], "guarantee"),
        (n["B"], n["C"], "guarantee"),
        (n["C"], n["A"], "guarantee"),
    }
    assert [c.members for c in found.circles] == [[n["A"], n["B"], n["C"]]]
    assert found.chains == []
    chain_member = service.associations(session, code=n["Y"], depth=1)
    assert chain_member.circles == []
    assert [c.members for c in chain_member.chains] == [[n["X"], n["Y"], n["Z"]]]


def test_depth_follows_links_of_every_kind(session: Session) -> None:
    a = register(session, 1, representative="王伟")
    b = register(session, 2, representative="王伟")  # same name, same county
    c = register(session, 3, representative="李娜", phone=f"139{2:08d}")  # b's phone
    d = register(session, 4, representative="赵强")
    hold(session, d, name="宁夏关联测试3有限公司", holder=c)  # c holds shares of d
    register(session, 5, representative="王伟", region="640105")  # another county
    session.commit()
    service.rebuild_index(session)
    session.commit()
    one = service.associations(session, code=a, depth=1)
    assert {node.code for node in one.nodes} == {a, b}
    three = service.associations(session, code=a, depth=3)
    assert {node.code: node.distance for node in three.nodes} == {a: 0, b: 1, c: 2, d: 3}
    kinds = {(e.source, e.target): e.kind for e in three.edges}
    assert kinds == {(a, b): "representative", (b, c): "phone", (c, d): "shareholding"}


def test_records_stored_after_the_index_are_found_before_it_catches_up(session: Session) -> None:
    a = register(session, 1, address="银川市兴庆区文化东街88号", representative="王伟")
    session.commit()
    service.rebuild_index(session)
    session.commit()
    b = register(session, 2, address="银川市兴庆区 文化东街８８号", representative="李娜")
    session.commit()
    found = service.associations(session, code=a, depth=1)
    assert {node.code for node in found.nodes} == {a, b}
    assert found.index_current
    assert service.refresh_index(session) == 1
    assert session.scalar(
        select(func.count()).select_from(AssociationKey).where(AssociationKey.credit_code == b)
    )
    assert {node.code for node in service.associations(session, code=a, depth=1).nodes} == {a, b}


def test_a_link_that_no_longer_holds_is_not_shown(session: Session) -> None:
    a = register(session, 1, address="银川市兴庆区文化东街88号", representative="王伟")
    register(session, 2, address="银川市兴庆区文化东街88号", representative="李娜")
    session.commit()
    service.rebuild_index(session)
    session.commit()
    register(session, 2, address="银川市金凤区新昌西路9号", representative="李娜")  # it moved
    session.commit()
    assert [node.code for node in service.associations(session, code=a, depth=1).nodes] == [a]


def test_a_hub_address_is_counted_not_followed(session: Session) -> None:
    agent = "银川市金凤区创业大厦8号楼1201室"
    first = register(session, 1, address=agent)
    for n in range(2, links.MAX_GROUP + 2):
        register(session, n, address=agent, representative=f"法人{n}")
    session.commit()
    service.rebuild_index(session)
    found = service.associations(session, code=first, depth=2)
    assert [node.code for node in found.nodes] == [first]
    assert [(h.kind, h.members) for h in found.hubs] == [("address", links.MAX_GROUP + 1)]


def test_bad_neighbours_by_distance_and_kind(session: Session) -> None:
    a = register(session, 1, representative="王伟")
    b = register(session, 2, representative="王伟")
    c = register(session, 3, representative="李娜")
    guarantee(session, b, c)
    list_as_dishonest(session, c)
    list_as_dishonest(session, b)
    session.commit()
    service.rebuild_index(session)
    signals = service.associated_bad_signals(session, code=a)
    assert [(s.code, s.distance, s.via, s.signals, s.since) for s in signals] == [
        (b, 1, ["representative"], ["dishonest_debtor"], date(2026, 6, 1)),
        (c, 2, ["guarantee"], ["dishonest_debtor"], date(2026, 6, 1)),
    ]
    counts = service.bad_neighbour_counts(session)
    assert (counts[a].depth1, counts[a].depth2) == (1, 1)
    assert (counts[b].depth1, counts[b].depth2) == (1, 0)
    assert (counts[c].depth1, counts[c].depth2) == (1, 0)
    for subject in (a, b, c):
        assert service.bad_neighbours_of(session, code=subject) == counts[subject]


def test_the_enterprise_itself_sees_people_masked_and_others_amounts_hidden(
    session: Session,
) -> None:
    a = register(session, 1, representative="王伟", phone="13900001111")
    b = register(session, 2, representative="王伟", phone="13900001111")
    c = register(session, 3, representative="李娜")
    guarantee(session, b, c, amount="5000000.00")
    guarantee(session, a, b, amount="1000000.00")
    session.commit()
    service.rebuild_index(session)
    viewer = service.Viewer(sees_everything=False, credit_code=a)
    found = service.associations(session, code=a, depth=2, viewer=viewer)
    details = {(e.source, e.target, e.kind): e.detail for e in found.edges}
    assert details[(a, b, "representative")]["value"] == "王*"
    assert details[(a, b, "phone")]["value"] == "139****1111"
    assert details[(a, b, "guarantee")]["amount"] == "1000000.00"
    assert details[(b, c, "guarantee")]["amount"] is None
    assert details[(b, c, "guarantee")]["contracts"] is None
    full = service.associations(session, code=a, depth=2)
    assert {e.detail["value"] for e in full.edges if e.kind == "representative"} == {"王伟"}


@pytest.mark.parametrize("depth", [0, 4])
def test_depth_outside_one_to_three_is_refused(session: Session, depth: int) -> None:
    a = register(session, 1)
    with pytest.raises(ValidationFailed) as caught:
        service.associations(session, code=a, depth=depth)
    assert caught.value.field == "depth"
    assert caught.value.translated("en") == "depth must be from 1 to 3"


def test_an_unknown_enterprise_has_no_associations(session: Session) -> None:
    with pytest.raises(NotFound) as caught:
        service.associations(session, code=code(99), depth=1)
    assert caught.value.field == "credit_code"


def test_a_new_analysis_replaces_the_circles_of_the_last(
    session: Session, circle_and_chain: dict[str, str]
) -> None:
    first = service.analyse(session)
    second = service.analyse(session)
    kept = session.scalars(select(GuaranteeStructure.analysis_id)).all()
    assert set(kept) == {second.id}
    assert session.scalar(select(func.count()).select_from(GraphAnalysis)) == 2
    assert service.latest_analysis_or_raise(session).id == second.id != first.id


def test_listing_refuses_an_unknown_kind(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.structures(session, kind="ring")
    assert caught.value.field == "kind"
    assert caught.value.translated("zh_CN") == "类型须为以下之一：circle, chain"


def test_the_periodic_tasks_refresh_the_index_and_analyse_the_region(
    session: Session, circle_and_chain: dict[str, str]
) -> None:
    from xinyidai.core import jobs as core_jobs
    from xinyidai.graph import jobs

    jobs.refresh_index()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AssociationKey)) > 0
    jobs.nightly_analysis()
    (job,) = core_jobs.list_recent(session, kind=service.JOB_KIND)
    assert job.state == "succeeded"
    assert job.actor == "system"
    assert job.result is not None
    assert job.result["circles"] == 1
    assert service.latest_analysis_or_raise(session).id == job.result["analysis_id"]


def test_a_person_link_is_raw_only_where_its_field_is_graded_raw(session: Session) -> None:
    """A viewer sees a public field (a legal representative's name) raw on every link, and
    a field its decision shows raw (its own phone) only on the subject's own links."""
    a = register(session, 1, representative="王伟", phone="13900001111")
    b = register(session, 2, representative="王伟", phone="13900001111")
    c = register(session, 3, representative="王伟", phone="13900002222")
    d = register(session, 4, representative="李娜", phone="13900002222")
    session.commit()
    service.rebuild_index(session)
    viewer = service.Viewer(
        sees_everything=False,
        credit_code=a,
        subject=a,
        raw_people=frozenset({"representative", "phone"}),
        public_people=frozenset({"representative"}),
    )
    found = service.associations(session, code=a, depth=2, viewer=viewer)
    details = {(e.source, e.target, e.kind): e.detail["value"] for e in found.edges}
    assert details[(a, b, "representative")] == "王伟"
    assert details[(a, b, "phone")] == "13900001111"
    assert details[(c, d, "phone")] == "139****2222"  # not the subject's: masked
