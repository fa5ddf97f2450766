"""PostgreSQL: the index of keys by COPY and by upsert, circles and a neighbourhood."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.graph.records import guarantee, list_as_dishonest, register
from xinyidai.core import db as core_db
from xinyidai.graph import contagion, service
from xinyidai.graph.models import AssociationKey
from xinyidai.graph.schemas import BadNeighbours

pytestmark = pytest.mark.postgres


def test_the_index_circles_and_neighbourhoods_work_on_postgres(pg_url: str) -> None:
    with core_db.session_scope() as session:
        a = register(session, 1, representative="王伟", address="银川市兴庆区文化东街88号")
        b = register(session, 2, representative="王伟")
        c = register(session, 3, representative="李娜")
        guarantee(session, a, b)
        guarantee(session, b, c)
        guarantee(session, c, a)
    with core_db.session_scope() as session:
        analysis = service.analyse(session)
        assert analysis.circles == 1
        keys = session.scalar(select(func.count()).select_from(AssociationKey))
        assert keys == analysis.index_keys > 0
    with core_db.session_scope() as session:
        d = register(session, 4, representative="赵强", address="银川市兴庆区 文化东街８８号")
    with core_db.session_scope() as session:
        found = service.associations(session, code=a, depth=1)
        assert {n.code for n in found.nodes} == {a, b, c, d}
        assert [circle.members for circle in found.circles] == [[a, b, c]]
    with core_db.session_scope() as session:
        assert service.refresh_index(session) == 1
        assert service.refresh_index(session) == 0
    with core_db.session_scope() as session:
        again = service.associations(session, code=d, depth=1)
        assert {n.code for n in again.nodes} == {a, d}
        assert service.bad_neighbour_counts(session) == {}  # nobody is bad
    with core_db.session_scope() as session:
        list_as_dishonest(session, c)
    with core_db.session_scope() as session:
        analysis = service.analyse(session)
        assert analysis.bad_neighbours == 3  # a, b and d are linked to c
        stored = contagion.as_mapping(service.stored_bad_neighbours(session))
        assert stored == service.bad_neighbour_counts(session)
        assert stored[a] == BadNeighbours(1, 0)  # a guaranteed by c
        assert stored[d] == BadNeighbours(0, 1)  # d - a - c
        assert service.stored_bad_neighbours(session, credit_codes=[d]).rows() == [(d, 0, 1)]
