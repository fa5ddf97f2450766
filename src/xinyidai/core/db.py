"""The database engine and sessions. SQLite embedded by default, PostgreSQL in production.

The caller owns the transaction: services add and flush, the edge (a request, a job,
a CLI command) commits or rolls back through ``session_scope``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, any_, bindparam, create_engine, event, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from xinyidai.core.settings import get_settings, normalize_database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the settings XYD relies on for that backend."""
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_built: dict[str, Engine] = {}


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    engine = build_engine(url)
    _built[url] = engine
    return engine


def after_fork() -> None:
    """In a forked child: leave the parent's pooled connections alone, open fresh ones.

    ``dispose(close=False)`` drops the inherited pool without closing its sockets, which
    the parent still uses; the next ``new_session`` builds a new engine in the child.
    """
    for engine in _built.values():
        engine.dispose(close=False)
    _built.clear()
    _sessionmaker.cache_clear()
    engine_for.cache_clear()


def get_engine() -> Engine:
    """The process's engine for the configured database."""
    return engine_for(get_settings().effective_database_url)


@lru_cache(maxsize=8)
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False, autoflush=True)


def new_session() -> Session:
    return _sessionmaker(get_settings().effective_database_url)()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


def lookup_chunks(
    session: Session, column: Any, values: list[Any]
) -> Iterator[ColumnElement[bool]]:
    """``column`` among ``values``, as conditions for one query each.

    On PostgreSQL one ``= ANY(array)`` condition, a single prepared statement whatever the
    count; elsewhere ``IN`` lists of at most 500 values (SQLite's variable limit).
    """
    if not values:
        return
    if is_postgres(session):
        yield column == any_(bindparam("among", values, type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 500):
        yield column.in_(values[start : start + 500])


class RawJSON(str):
    """JSON text already encoded: bulk inserts write it as it is instead of encoding again."""


def bulk_insert(
    session: Session, table: Any, rows: list[dict[str, Any]], *, json_columns: Iterable[str] = ()
) -> None:
    """Insert many rows at once: COPY on PostgreSQL, a multi-row INSERT elsewhere.

    Every row has the same keys. ``json_columns`` hold Python values (or ``RawJSON``) that
    COPY must receive as JSON text.
    """
    if not rows:
        return
    if not is_postgres(session):
        session.execute(
            insert(table),
            [
                {k: json.loads(v) if isinstance(v, RawJSON) else v for k, v in row.items()}
                for row in rows
            ],
        )
        return
    columns = list(rows[0])
    encoded = set(json_columns)
    json_positions = [i for i, c in enumerate(columns) if c in encoded]
    connection = session.connection().connection.driver_connection
    assert connection is not None  # a live psycopg connection inside the transaction
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        for row in rows:
            values = [row[c] for c in columns]
            for i in json_positions:
                value = values[i]
                if value is not None and not isinstance(value, RawJSON):
                    values[i] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            write(values)


def database_status() -> dict[str, str]:
    """What ``/healthz`` reports about the database."""
    engine = get_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"; the message says why
        return {"status": "down", "backend": engine.dialect.name, "error": str(exc)[:200]}
    return {"status": "ok", "backend": engine.dialect.name}


def reset_engines() -> None:
    """Dispose and forget cached engines (tests and commands that switch databases)."""
    get_settings.cache_clear()
    _built.clear()
    _sessionmaker.cache_clear()
    engine_for.cache_clear()


def insert_missing(session: Session, table: Any, rows: list[dict[str, Any]], key: str) -> None:
    """Insert ``rows`` whose ``key`` is not there yet; rows another writer added are skipped.

    Rows go in key order, so two writers adding overlapping sets wait on each other in the
    same order and never deadlock.
    """
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    ordered = sorted(rows, key=lambda row: row[key])
    if is_postgres(session):
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    session.execute(statement, ordered)
