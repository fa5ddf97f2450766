"""The models and the migrations agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

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
