"""What a node's database holds, as the manifest records it and a restore checks it: the
schema revision, the rows of the main tables, the ledger's head.

Plain SQL by table name, not the domains' models: an archive may come from an older schema
revision than the code's, and these few reads mean the same at every revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from xinyidai.backup.archive import first_line
from xinyidai.backup.schemas import DatabaseKind
from xinyidai.core.errors import Conflict, Unavailable, ValidationFailed
from xinyidai.core.settings import normalize_database_url
from xinyidai.ledger import tree
from xinyidai.ledger.models import HEAD_ID

# The tables whose rows the manifest counts and a restore checks: the node's own data.
MAIN_TABLES = (
    "enterprise",
    "catalog_category",
    "catalog_category_version",
    "credit_record",
    "credit_record_version",
    "credit_record_conflict",
    "ingest_batch",
    "ingest_rejection",
    "iam_organization",
    "iam_user",
    "iam_api_key",
    "consent_commitment_text",
    "consent_commitment_signature",
    "consent_letter",
    "consent_letter_transition",
    "audit_access_event",
    "ledger_entry",
    "ledger_node",
    "ledger_checkpoint",
    "ledger_cosignature",
    "ledger_witness",
    "credit_rating",
    "rating_run",
    "rating_model",
    "graph_association_key",
    "market_product",
    "market_need",
    "market_application",
    "market_loan",
    "market_repayment",
    "market_webhook_endpoint",
)
# What ``xyd db upgrade`` puts in a new database: a database holding nothing else is empty.
REFERENCE_TABLES = frozenset(
    {
        "alembic_version",
        "catalog_category",
        "catalog_category_version",
        "consent_commitment_text",
        "graph_index_state",
        "ledger_head",
        "stats_lock",
        "supervision_agreement",
        "supervision_checklist_item",
    }
)


@dataclass
class DatabaseContent:
    revision: str
    counts: dict[str, int]
    ledger_size: int
    ledger_root: str
    ledger_pending: int


def database_kind(url: str) -> DatabaseKind:
    try:
        backend = make_url(normalize_database_url(url)).get_backend_name()
    except ArgumentError as exc:
        raise ValidationFailed(
            "the database URL is not valid: {reason}", field="database_url", reason=str(exc)
        ) from exc
    if backend in set(DatabaseKind):
        return DatabaseKind(backend)
    raise ValidationFailed(
        "the database URL is not valid: {reason}",
        field="database_url",
        reason=f"{backend} is neither SQLite nor PostgreSQL",
    )


def sqlite_path(url: str) -> Path:
    return Path(make_url(normalize_database_url(url)).database or ":memory:")


def own_engine(url: str) -> Engine:
    """An engine of its own (no pool) for one run: nothing of it outlives the run."""
    return create_engine(normalize_database_url(url), poolclass=NullPool)


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection; ``Unavailable`` with the driver's reason when none can be made."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise Unavailable(
            "cannot connect to the database: {reason}",
            field="database_url",
            reason=first_line(exc),
        ) from exc
    with connection:
        yield connection


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _tables(connection: Connection) -> set[str]:
    names = inspect(connection).get_table_names()
    return {name for name in names if not name.startswith("sqlite_")}


def _revision(connection: Connection, tables: set[str]) -> str | None:
    if "alembic_version" not in tables:
        return None
    found = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
    return ", ".join(sorted(found)) or None


def _count(connection: Connection, table: str) -> int:
    return int(
        connection.execute(text(f"SELECT count(*) FROM {_quote(connection, table)}")).scalar_one()
    )


def _ledger_head(connection: Connection) -> tuple[int, str, int]:
    """The tree's size and root as the head row says, and the entries not sequenced yet."""
    row = connection.execute(
        text("SELECT size, root_hash FROM ledger_head WHERE id = :id"), {"id": HEAD_ID}
    ).first()
    size, root = (int(row[0]), bytes(row[1])) if row is not None else (0, tree.EMPTY_ROOT)
    pending = connection.execute(
        text("SELECT count(*) FROM ledger_entry WHERE idx IS NULL")
    ).scalar_one()
    return size, root.hex(), int(pending)


def read_content(connection: Connection) -> DatabaseContent:
    """The revision, row counts and ledger head of the database as ``connection`` sees it."""
    tables = _tables(connection)
    revision = _revision(connection, tables)
    if revision is None:
        raise Conflict(
            "the database has no XYD schema: run xyd db upgrade first", field="database_url"
        )
    size, root, pending = _ledger_head(connection)
    return DatabaseContent(
        revision=revision,
        counts={name: _count(connection, name) for name in MAIN_TABLES if name in tables},
        ledger_size=size,
        ledger_root=root,
        ledger_pending=pending,
    )


def first_table_with_rows(connection: Connection) -> str | None:
    """A table holding rows beyond the reference data a new database starts with, if any."""
    for name in sorted(_tables(connection) - REFERENCE_TABLES):
        if connection.execute(text(f"SELECT 1 FROM {_quote(connection, name)} LIMIT 1")).first():
            return name
    return None
