"""The database engine and sessions. SQLite embedded by default, PostgreSQL in production.

The caller owns the transaction: services add and flush, the edge (a request, a job,
a CLI command) commits or rolls back through ``session_scope``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import orjson
from sqlalchemy import (
    ColumnElement,
    Engine,
    Text,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from xinyidai.core.errors import RefusedAtCommit
from xinyidai.core.settings import get_settings, normalize_database_url

if TYPE_CHECKING:
    import polars as pl

T = TypeVar("T")


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
        settings = get_settings()
        pool: dict[str, Any] = {}
        if database and database != ":memory:" and not database.startswith("file:"):
            # Opened read-write, never created: a mistyped path is an error that names it,
            # not a new empty database (``create_sqlite_file`` makes one, for migrations).
            url = parsed.set(
                database=f"file:{quote(str(Path(database).absolute()))}",
                query={**parsed.query, "mode": "rw", "uri": "true"},
            ).render_as_string(hide_password=False)
            pool = {
                "pool_size": settings.effective_pool_size,
                "max_overflow": settings.db.pool_overflow,
                "pool_timeout": settings.db.pool_timeout_seconds,
            }
        # pysqlite begins a transaction at the first write of a unit of work, not at its
        # reads: a writer takes SQLite's write lock at its first INSERT/UPDATE and keeps it
        # to the commit, later writers wait for it (busy_timeout), and readers never wait
        # (WAL). A read never turns into a write on a stale snapshot, so SQLite never
        # answers "database is locked" at once; the admission limit keeps the line short.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.effective_pool_size,
        max_overflow=settings.db.pool_overflow,
        pool_timeout=settings.db.pool_timeout_seconds,
    )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database address; None for any other database (or memory)."""
    parsed = make_url(normalize_database_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_sqlite_file(url: str) -> None:
    """Make the (empty) file of a SQLite database and its folder where missing: the one
    place a database file is created (by migrations, ``xyd db upgrade``, ``xyd demo``)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


class MissingDatabase(RuntimeError):
    """A SQLite database file that does not exist: the address is mistyped or the node was
    never set up."""


def check_database_exists(url: str) -> None:
    """Raise ``MissingDatabase`` naming the file when ``url`` is a SQLite file not there."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise MissingDatabase(
            f"the SQLite database {path} does not exist; correct XYD_DATABASE_URL, or create "
            "it with `xyd db upgrade` (an empty node) or `xyd demo` (a demo region)"
        )


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return build_engine(url)


def get_engine() -> Engine:
    """The process's engine for the configured database."""
    return engine_for(get_settings().effective_database_url)


@lru_cache(maxsize=8)
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False, autoflush=True)


def new_session() -> Session:
    return _sessionmaker(get_settings().effective_database_url)()


def commit(session: Session) -> None:
    """Commit the unit of work; when a rule checked at commit time refuses it
    (``RefusedAtCommit``), roll it back, commit what the refusal records, and raise it."""
    try:
        session.commit()
    except RefusedAtCommit as refusal:
        settle_refusal(session, refusal)
        raise


def settle_refusal(session: Session, refusal: RefusedAtCommit) -> None:
    """Roll back the unit of work a commit-time rule refused, then commit what the refusal
    records (once: an edge that sees the refusal again records nothing more)."""
    session.rollback()
    record, refusal.record = refusal.record, None
    if record is not None:
        record(session)
        session.commit()


E = TypeVar("E", bound=Exception)


def commit_refusal(session: Session, refusal: E) -> E:
    """Keep what a refused unit of work recorded, then hand the refusal back to raise or show.

    The one way an edge (an API route, a portal page, a command) answers a refusal whose
    record must outlive it: a read the access decision refused has written its audit event,
    which is committed here (through ``commit``, so a commit-time refusal is settled too)
    before the edge raises ``refusal`` or renders it: ``raise commit_refusal(session, err)``.
    """
    commit(session)
    return refusal


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = new_session()
    try:
        yield session
        commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def streamed(read: Callable[[Session], Iterable[T]]) -> Iterator[T]:
    """What ``read`` yields, read through a session of its own opened on the first item.

    For an answer streamed after the request's own session was committed and closed (an
    export of every matching row): the request still holds one connection at a time.
    """
    with session_scope() as session:
        yield from read(session)


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
        if all(value.__class__ is str and value and _SEPARATOR not in value for value in values):
            # Text keys go as one string split on the server: the driver would otherwise
            # inspect and quote every element of an array (microseconds a row on ingest).
            joined = bindparam("among_text", _SEPARATOR.join(values), type_=Text())
            yield column == any_(func.string_to_array(joined, _SEPARATOR))
            return
        yield column == any_(bindparam("among", values, type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 500):
        yield column.in_(values[start : start + 500])


_SEPARATOR = "\x1f"  # the unit separator: no key a lookup names holds it


def missing_keys(session: Session, column: Any, values: list[str]) -> set[str]:
    """Those of ``values`` (text keys) that no row of ``column``'s table holds.

    On PostgreSQL the server answers with what is missing alone, from one string of keys: a
    chunk of a feed whose subjects are all known brings back no rows at all. Each key is
    looked up in ``column``'s index (a subquery per key, which the planner cannot turn into
    a join). Written as an anti-join, the query was planned from the table's statistics:
    taken while a registry was still loading, they made the planner hash the whole table
    for every chunk (108 ms against 25 ms for 5,000 keys among 200,000 enterprises), a cost
    that grows with the registry instead of the chunk.
    """
    if not values:
        return set()
    if is_postgres(session) and all(_SEPARATOR not in value for value in values):
        statement = text(
            "SELECT key FROM unnest(string_to_array(:keys, :separator)) AS key WHERE "
            f"(SELECT 1 FROM {column.table.name} WHERE {column.name} = key LIMIT 1) IS NULL"
        )
        found = session.scalars(
            statement, {"keys": _SEPARATOR.join(values), "separator": _SEPARATOR}
        )
        return set(found)
    present: set[str] = set()
    for condition in lookup_chunks(session, column, values):
        present.update(session.scalars(select(column).where(condition)))
    return set(values) - present


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


COPY_NULL = "\\N"


def copy_text(value: str) -> str:
    """``value`` as one field of COPY's text format: backslash, tab, newline and carriage
    return escaped, everything else as it is."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_bytes(value: bytes) -> str:
    """``value`` as one bytea field of COPY's text format (hex, its backslash escaped)."""
    return "\\\\x" + value.hex()


def copy_lines(session: Session, table: Any, columns: Sequence[str], lines: list[str]) -> None:
    """Write ``lines`` of COPY's text format (tab-separated fields in ``columns`` order,
    each line ending in a newline, fields made with ``copy_text``, ``copy_bytes`` or
    ``COPY_NULL``) into ``table`` (PostgreSQL only).

    The bulk paths that write hundreds of thousands of rows build their lines themselves:
    the fields that are the same for a whole chunk are spelled once, not once per row.
    """
    if not lines:
        return
    connection = session.connection().connection.driver_connection
    assert connection is not None  # a live psycopg connection inside the transaction
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write("".join(lines))


def statement_sql(session: Session, statement: Any) -> str:
    """The SQL text of a statement with its parameters written in (for COPY)."""
    return str(
        statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
    )


# Unit and record separators: JSON text never holds them raw, so with these as delimiter
# and quote character COPY writes a JSON column exactly as stored, one value per line.
_RAW_LINES = "FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e'"


def copy_out(session: Session, statement: Any, *, raw_lines: bool = False) -> io.BytesIO:
    """The rows of a SELECT as CSV bytes, by ``COPY ... TO STDOUT`` (PostgreSQL only).

    ``raw_lines`` is for one text column holding JSON: each row comes out as its text,
    unquoted, one per line (newline-delimited JSON).
    """
    options = _RAW_LINES if raw_lines else "FORMAT csv"
    sql = f"COPY ({statement_sql(session, statement)}) TO STDOUT WITH ({options})"
    connection = session.connection().connection.driver_connection
    assert connection is not None  # a live psycopg connection inside the transaction
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return buffer


def read_frame(
    session: Session, statement: Any, schema: dict[str, pl.DataType], *, copy: bool = True
) -> pl.DataFrame:
    """A SELECT's rows as a polars frame with ``schema`` (its columns in order).

    On PostgreSQL by COPY (``copy=False`` for a small, selective query); elsewhere the
    fetched rows. Values are read as text and cast, so both paths give the same frame.
    """
    import polars as pl

    names = list(schema)
    text = {name: pl.String for name in names}
    if copy and is_postgres(session):
        buffer = copy_out(session, statement)
        if buffer.getbuffer().nbytes == 0:
            return pl.DataFrame(schema=schema)
        frame = pl.read_csv(buffer, has_header=False, new_columns=names, schema=text)
    else:
        rows = session.execute(statement).all()
        frame = pl.DataFrame(
            [[None if v is None else str(v) for v in row] for row in rows],
            schema=text,
            orient="row",
        )
    return frame.with_columns(_cast(name, dtype) for name, dtype in schema.items())


def _cast(name: str, dtype: Any) -> pl.Expr:
    import polars as pl

    column = pl.col(name)
    if dtype == pl.Date:
        return column.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return column.cast(dtype, strict=False)


def read_json_lines(
    session: Session, statement: Any, fields: Sequence[str], *, copy: bool = True
) -> pl.DataFrame:
    """A SELECT of one JSON text column as a frame of the ``fields`` of each value (text).

    On PostgreSQL the values stream out by COPY as newline-delimited JSON; elsewhere they
    are fetched. Either way polars parses them, so a missing field is null in both.
    """
    import polars as pl

    schema = {name: pl.String for name in fields}
    if copy and is_postgres(session):
        buffer = copy_out(session, statement, raw_lines=True)
    else:
        lines = [row[0] for row in session.execute(statement) if row[0] is not None]
        buffer = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
    if buffer.getbuffer().nbytes == 0:
        return pl.DataFrame(schema=schema)
    return pl.read_ndjson(buffer, schema=schema)


def insert_frame(
    session: Session, table: Any, frame: pl.DataFrame, *, json_columns: Iterable[str] = ()
) -> None:
    """Insert a polars frame's rows (columns named as the table's): COPY on PostgreSQL.

    ``json_columns`` hold JSON text, written as it is.
    """
    if frame.height == 0:
        return
    if not is_postgres(session):
        encoded = set(json_columns)
        rows = frame.to_dicts()
        for row in rows:
            for name in encoded:
                if row[name] is not None:
                    row[name] = json.loads(row[name])
        session.execute(insert(table), rows)
        return
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="")
    buffer.seek(0)
    connection = session.connection().connection.driver_connection
    assert connection is not None
    statement = f"COPY {table.name} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


# SQLite result codes (the low byte of an extended code) that say the file cannot be used
# just now, not that a statement is wrong: busy, locked, an I/O error, cannot open.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 10, 14})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used just now (down,
    restarting, refusing connections, a connection lost mid-request, every pooled
    connection taken) rather than that a statement is wrong: an outage to wait out, not a
    fault of the caller's or of the code's.

    On PostgreSQL every ``OperationalError`` is of that kind (psycopg raises
    ``ProgrammingError`` and ``DataError`` for statements at fault); SQLite raises
    ``OperationalError`` for both, so its result code decides.
    """
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_UNAVAILABLE
    return True


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


def upsert_rows(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    key: str,
    update: Sequence[str],
    keep: Iterable[str] = (),
) -> None:
    """Insert ``rows``; where a row with the same ``key`` is there already (another writer
    may just have added it), set its ``update`` columns to the new values instead, except
    that a ``keep`` column keeps its value where the new one is null.

    Rows go in key order, so writers adding overlapping sets never deadlock. On PostgreSQL
    the rows travel as one JSON text that the server reads into the table's own types.
    """
    if not rows:
        return
    kept = set(keep)
    ordered = sorted(rows, key=lambda row: row[key])
    if is_postgres(session):
        columns = ", ".join(ordered[0])
        name = table.name
        sets = ", ".join(
            f"{c} = COALESCE(EXCLUDED.{c}, {name}.{c})" if c in kept else f"{c} = EXCLUDED.{c}"
            for c in update
        )
        session.execute(
            text(
                f"INSERT INTO {name} ({columns}) SELECT {columns} FROM "
                f"json_populate_recordset(NULL::{name}, CAST(:rows AS json)) ORDER BY {key} "
                f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
            ),
            {"rows": orjson.dumps(ordered, default=str).decode()},
        )
        return
    from sqlalchemy.dialects import sqlite

    statement = sqlite.insert(table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={
            c: func.coalesce(excluded[c], table.c[c]) if c in kept else excluded[c] for c in update
        },
    )
    session.execute(statement, ordered)
