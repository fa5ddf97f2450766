"""The models and the migrations agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from xinyidai.core import migrate
from xinyidai.core.db import build_engine
from xinyidai.migrations.models import include_name, include_object, metadata


def _differences(url: str) -> list[object]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "target_metadata": metadata,
                    "include_name": include_name,
                    "include_object": include_object,
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_sqlite_migrations_match_models(db_url: str) -> None:
    assert _differences(db_url) == []


def test_migrations_cover_every_table(db_url: str) -> None:
    engine = build_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(metadata.tables) <= tables


def test_sqlite_downgrade_to_base_and_back(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/roundtrip.db"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    assert migrate.current_revision(url) is not None
    assert _differences(url) == []


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_url: str) -> None:
    assert _differences(pg_url) == []


@pytest.mark.postgres
def test_postgres_downgrade_to_base_and_back(pg_url: str) -> None:
    migrate.downgrade(pg_url, "base")
    assert migrate.current_revision(pg_url) is None
    migrate.upgrade(pg_url)
    assert _differences(pg_url) == []


_OLD_RECORD = (
    "INSERT INTO credit_record (id, category, subject_code, data, digest, category_version, "
    "version, provider, sources, created_at, updated_at) VALUES ('r1', 'honour', 'S', "
    "'{\"amount\": \"2\"}', 'd2', 1, 2, 'p', '[\"p\"]', :t, :t)"
)
_OLD_VERSION = (
    "INSERT INTO credit_record_version (id, record_id, version, subject_code, category, data, "
    "digest, category_version, provider, created_at) VALUES (:id, 'r1', :v, 'S', 'honour', "
    ":data, :digest, 1, 'p', :t)"
)


def _carry_history_through_0013(url: str) -> None:
    """Before 0013 a record's current version was also a version row; after, its row alone
    holds it, the past stays, and the record's change mark is its newest version's id."""
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    migrate.downgrade(url, "0012_ingest_indexes")
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(_OLD_RECORD), {"t": moment})
            for number, (data, digest) in enumerate(
                [('{"amount": "1"}', "d1"), ('{"amount": "2"}', "d2")], start=1
            ):
                connection.execute(
                    text(_OLD_VERSION),
                    {"id": 40 + number, "v": number, "data": data, "digest": digest, "t": moment},
                )
        migrate.upgrade(url)
        with engine.connect() as connection:
            past = connection.execute(
                text("SELECT record_id, version, digest FROM credit_record_version")
            ).all()
            assert [tuple(row) for row in past] == [("r1", 1, "d1")]
            assert connection.scalar(text("SELECT change_id FROM credit_record")) == 42
        migrate.downgrade(url, "0012_ingest_indexes")
        with engine.connect() as connection:
            versions = connection.execute(
                text("SELECT version, digest FROM credit_record_version ORDER BY version")
            ).all()
            assert [tuple(row) for row in versions] == [(1, "d1"), (2, "d2")]
        migrate.upgrade(url)
    finally:
        engine.dispose()
    assert _differences(url) == []


def test_sqlite_0013_keeps_past_versions_and_marks(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/history.db"
    migrate.upgrade(url)
    _carry_history_through_0013(url)


@pytest.mark.postgres
def test_postgres_0013_keeps_past_versions_and_marks(pg_url: str) -> None:
    _carry_history_through_0013(pg_url)
    from xinyidai.core.db import new_session
    from xinyidai.records.service import writes as records

    session = new_session()
    try:
        # The sequence starts past every mark the old version ids gave.
        highest = session.scalar(text("SELECT max(change_id) FROM credit_record"))
        assert records._next_change_id(session) > highest
    finally:
        session.close()
