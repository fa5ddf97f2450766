"""The partitions of ``credit_record``: none on SQLite (adding one is refused by field), on
PostgreSQL listed with their rows, added for a category, analyzed when rows first land."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.records.facts import code, put
from xinyidai.catalog import service as catalog_service
from xinyidai.core.db import new_session
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.records import service as records


def test_sqlite_has_no_partitions_and_refuses_to_add_one(session: Session) -> None:
    assert records.partitions(session) == []
    with pytest.raises(ValidationFailed) as refused:
        records.add_partition(session, category="tax_rating")
    assert refused.value.field == "database"
    assert "sqlite" in str(refused.value)


def _honour(n: int, name: str) -> dict[str, str]:
    return {"credit_code": code(n), "enterprise_name": f"测试{n}", "honour_name": name}


def _analyzed_rows(session: Session, table: str) -> float:
    """The planner's row estimate of a table: -1 (or 0) until it is first analyzed."""
    return float(
        session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})
    )


@pytest.mark.postgres
def test_partitions_are_listed_by_category_beside_the_default(pg_url: str) -> None:
    session = new_session()
    try:
        found = {p.category: p for p in records.partitions(session)}
        codes = {c.code for c in catalog_service.list_categories(session, include_inactive=True)}
        assert None in found
        assert {"registration", "tax_rating", "guarantee"} <= set(found) - {None} <= codes
        assert found[None].name == records.DEFAULT_PARTITION
        assert found["tax_rating"].name == f"{records.PARTITION_PREFIX}tax_rating"
        assert all(p.rows == 0 for p in found.values())
        with pytest.raises(NotFound) as unknown:
            records.add_partition(session, category="no_such_category")
        assert unknown.value.field == "category"
        with pytest.raises(Conflict) as already:
            records.add_partition(session, category="tax_rating")
        assert already.value.field == "category"
    finally:
        session.close()


@pytest.mark.postgres
def test_a_new_categorys_partition_is_analyzed_when_its_first_rows_land(pg_url: str) -> None:
    session = new_session()
    try:
        honour = catalog_service.spec_of(
            catalog_service.get_by_code_or_raise(session, code="honour")
        )
        catalog_service.create(
            session, spec=honour.model_copy(update={"code": "honour_city"}), actor="test"
        )
        added = records.add_partition(session, category="honour_city")
        assert (added.name, added.category, added.rows) == (
            f"{records.PARTITION_PREFIX}honour_city",
            "honour_city",
            0,
        )
        session.commit()
        assert _analyzed_rows(session, added.name) <= 0
        result = put(session, "honour_city", [_honour(1, "诚信企业"), _honour(2, "诚信企业")])
        assert result.accepted == 2
        session.commit()
        # Analyzed in the same transaction as the first rows: the planner counts them.
        assert _analyzed_rows(session, added.name) == 2
        stored = records.records_of(session, subject_code=code(1), categories=["honour_city"])
        assert [g.records[0].data["honour_name"] for g in stored] == ["诚信企业"]
    finally:
        session.close()


@pytest.mark.postgres
def test_rows_of_a_category_without_its_own_partition_land_in_the_default_one(
    pg_url: str,
) -> None:
    session = new_session()
    try:
        honour = catalog_service.spec_of(
            catalog_service.get_by_code_or_raise(session, code="honour")
        )
        catalog_service.create(
            session, spec=honour.model_copy(update={"code": "honour_town"}), actor="test"
        )
        put(session, "honour_town", [_honour(1, "文明单位")])
        session.commit()
        waiting = session.scalar(
            text(f"SELECT count(*) FROM {records.DEFAULT_PARTITION} WHERE category = 'honour_town'")
        )
        assert waiting == 1
        assert _analyzed_rows(session, records.DEFAULT_PARTITION) == 1
        # Its rows are in the default partition: a partition of its own is a window's job.
        with pytest.raises(Conflict) as moved:
            records.add_partition(session, category="honour_town")
        assert moved.value.field == "category"
        assert "1" in str(moved.value)
    finally:
        session.close()
