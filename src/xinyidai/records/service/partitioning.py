"""The partitions of ``credit_record`` on PostgreSQL: one per catalogue category that has
its own, the rest in the default one; listed, added, and analyzed when rows first land.

SQLite has no partitions: listing gives none and adding one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.db import is_postgres
from xinyidai.core.errors import Conflict, ValidationFailed

PARTITION_PREFIX = "credit_record_p_"
DEFAULT_PARTITION = f"{PARTITION_PREFIX}default"


@dataclass(slots=True)
class Partition:
    name: str
    category: str | None  # None: the default partition
    rows: int


def partitions(session: Session) -> list[Partition]:
    """The partitions of ``credit_record`` on PostgreSQL with their live row counts.

    The counts are the statistics collector's, so a moment behind the latest commits.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(
        text_sql(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "coalesce(s.n_live_tup, 0) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE i.inhparent = 'credit_record'::regclass ORDER BY c.relname"
        )
    ).all()
    found = []
    for name, bound, count in rows:
        category = None if bound == "DEFAULT" else name.removeprefix(PARTITION_PREFIX)
        found.append(Partition(name=name, category=category, rows=int(count)))
    return found


def add_partition(session: Session, *, category: str) -> Partition:
    """Give a catalogue category its own partition (PostgreSQL).

    Only while the default partition holds none of its rows: moving rows that versions
    already point at is a maintenance-window job (docs/operations.md), not a command.
    """
    if session.get_bind().dialect.name != "postgresql":
        raise ValidationFailed(
            "partitions exist only on PostgreSQL; this database is {dialect}",
            field="database",
            dialect=session.get_bind().dialect.name,
        )
    spec = catalog_service.get_by_code_or_raise(session, code=category)
    if any(p.category == spec.code for p in partitions(session)):
        raise Conflict(
            "category {category} already has its own partition",
            field="category",
            category=spec.code,
        )
    waiting = session.scalar(
        text_sql(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE category = :c"), {"c": spec.code}
    )
    if waiting:
        raise Conflict(
            "the default partition already holds {count} records of {category}; "
            "move them in a maintenance window first",
            field="category",
            count=int(waiting or 0),
            category=spec.code,
        )
    name = f"{PARTITION_PREFIX}{spec.code}"
    session.execute(
        text_sql(f"CREATE TABLE {name} PARTITION OF credit_record FOR VALUES IN ('{spec.code}')")
    )
    return Partition(name=name, category=spec.code, rows=0)


def first_statistics(session: Session, category: str) -> None:
    """On PostgreSQL, analyze a category's partition the first time rows land in it.

    A partition that was never analyzed has no statistics: the planner then takes the
    ``(category, event_on)`` index for the lookup by ids (every row matches the category)
    and a chunk's lookup scans the whole partition, seconds per chunk on a big load. Once
    analyzed with rows in it, the planner knows the category matches everything and uses
    the key. Checked once per session and category; autovacuum keeps it current after.
    """
    if not is_postgres(session):
        return
    seen: set[str] = session.info.setdefault("records.analyzed", set())
    if category in seen:
        return
    seen.add(category)
    for name in (f"{PARTITION_PREFIX}{category}", DEFAULT_PARTITION):
        tuples = session.scalar(
            text_sql("SELECT reltuples FROM pg_class WHERE relname = :name"), {"name": name}
        )
        if tuples is None:
            continue  # no partition of its own: its rows are in the default one
        if tuples <= 0:
            session.execute(text_sql(f"ANALYZE {name}"))
        return
