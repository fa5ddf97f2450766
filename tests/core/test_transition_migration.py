"""Migration 0017 makes the marketplace's transitions the one ``transition`` table: every row
stays readable with its id, new rows follow them, and the downgrade gives the old table back
(on SQLite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from xinyidai.core import migrate

BEFORE, AFTER = "0016_webhook_hardening", "0017_transitions"
COLUMNS = "id, subject_kind, subject_id, transition, from_state, to_state, actor, reason, at"


def _rows(url: str, table: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(text(f"SELECT {COLUMNS} FROM {table} ORDER BY id"))
            return [tuple(row) for row in found]
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {i["name"] for i in inspect(engine).get_indexes("transition") if i["name"]}
    finally:
        engine.dispose()


def _insert(url: str, table: str, kind: str, subject: str, move: str, target: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    f"INSERT INTO {table} (subject_kind, subject_id, transition, from_state, "
                    "to_state, actor, at) VALUES (:kind, :subject, :move, NULL, :target, "
                    "'user:bank', :at)"
                ),
                {
                    "kind": kind,
                    "subject": subject,
                    "move": move,
                    "target": target,
                    "at": datetime(2026, 12, 1, tzinfo=UTC),
                },
            )
    finally:
        engine.dispose()


def _check(url: str) -> None:
    migrate.upgrade(url, BEFORE)
    _insert(url, "market_transition", "application", "app_1", "submit", "submitted")
    _insert(url, "market_transition", "loan", "loan_1", "disburse", "current")
    _insert(url, "market_transition", "webhook_endpoint", "whk_1", "register", "active")
    before = _rows(url, "market_transition")
    migrate.upgrade(url, AFTER)
    assert "market_transition" not in _tables(url)
    assert _rows(url, "transition") == before  # every row, with its id
    assert "ix_transition_subject" in _indexes(url)
    # a new row takes the next id after the old ones (the sequence went with the table)
    _insert(url, "transition", "product", "prd_1", "create", "draft")
    after = _rows(url, "transition")
    assert after[-1][:3] == (before[-1][0] + 1, "product", "prd_1")  # type: ignore[operator]

    migrate.downgrade(url, BEFORE)
    assert "transition" not in _tables(url)
    assert _rows(url, "market_transition") == after
    migrate.upgrade(url, AFTER)
    assert _rows(url, "transition") == after


def test_the_marketplace_rows_become_the_transition_table_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_the_marketplace_rows_become_the_transition_table_on_postgres(
    pg_database: Callable[[], str],
) -> None:
    _check(pg_database())
