"""Usage and collected data back up to the center (数据回流).

A platform notes which records it used for which loans (``note_usage``) and sends them up
in messages of kind ``usage``::

    {"usage": [{"id", "record_id", "loan_ref", "purpose", "used_at"}, …],
     "marks": {"usage": <last id>}}

and the data its own departments sent it (records stored here, not received from another
node) in messages of kind ``collected``::

    {"rows": {"<category>": [<data>, …]}, "marks": {"record": [<change mark>, "<id>"]}}

The center takes collected rows through its normal ingest (validation, quarantine of bad
rows, dedup, versions) as a batch of the category's source department opened by
``node:<name>``, only for the categories it accepts from that node; each batch is
recorded against the node.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.errors import XydError
from xinyidai.core.settings import get_settings
from xinyidai.federation.models import Collected, MessageKind, Node, Usage, UsageKind
from xinyidai.federation.schemas import UsageIn
from xinyidai.federation.service import exchange
from xinyidai.federation.service.down import MESSAGE_PREFIX
from xinyidai.federation.service.nodes import shared_categories
from xinyidai.ingest import service as ingest_service
from xinyidai.records import service as records_service


def note_usage(session: Session, *, data: UsageIn) -> list[Usage]:
    """Note that records held here were used for a loan, to feed back to the center."""
    ids = sorted(set(data.record_ids))
    for rid in ids:
        records_service.get_or_raise(session, record_id=rid)
    rows = [
        Usage(
            kind=UsageKind.LOCAL,
            node="",
            record_id=rid,
            loan_ref=data.loan_ref,
            purpose=data.purpose,
            used_at=clock.now(),
        )
        for rid in ids
    ]
    session.add_all(rows)
    session.flush()
    return rows


def usage_statement(*, kind: str | None = None, node: str | None = None) -> Any:
    stmt = select(Usage).order_by(Usage.id.desc())
    if kind is not None:
        stmt = stmt.where(Usage.kind == kind)
    if node is not None:
        stmt = stmt.where(Usage.node == node)
    return stmt


def usage_counts(session: Session) -> dict[str, int]:
    """Usage received, per platform."""
    found = session.execute(
        select(Usage.node, func.count())
        .where(Usage.kind == UsageKind.RECEIVED)
        .group_by(Usage.node)
        .order_by(Usage.node)
    )
    return {node: int(count) for node, count in found}


def usage_body(
    session: Session, *, node: Node, limit: int | None = None
) -> tuple[dict[str, Any], int]:
    """The next message of usage for the center ``node``; how many items (0: none)."""
    limit = limit or get_settings().federation.batch_records
    rows = list(
        session.scalars(
            select(Usage)
            .where(Usage.kind == UsageKind.LOCAL, Usage.id > node.usage_mark)
            .order_by(Usage.id)
            .limit(limit)
        )
    )
    items = [
        {
            "id": row.id,
            "record_id": row.record_id,
            "loan_ref": row.loan_ref,
            "purpose": row.purpose,
            "used_at": clock.as_utc(row.used_at).isoformat(),
        }
        for row in rows
    ]
    mark = rows[-1].id if rows else node.usage_mark
    return {"usage": items, "marks": {"usage": mark}}, len(items)


def collected_body(
    session: Session, *, node: Node, limit: int | None = None
) -> tuple[dict[str, Any], int]:
    """The next message of data collected here for the center ``node``; how many rows."""
    limit = limit or get_settings().federation.batch_records
    categories = shared_categories(session, node)
    rows = (
        records_service.changed_after(
            session,
            categories=categories,
            after=(node.record_mark, node.record_mark_id),
            limit=limit,
        )
        if categories
        else []
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if (row.batch_id or "").startswith(MESSAGE_PREFIX):
            continue  # received from another node: not this node's to send
        grouped[row.category].append(dict(row.data))
    mark: list[Any] = (
        [rows[-1].change_id, rows[-1].id] if rows else [node.record_mark, node.record_mark_id]
    )
    count = sum(len(found) for found in grouped.values())
    return {"rows": dict(grouped), "marks": {"record": mark}}, count or int(bool(rows))


def advance(node: Node, marks: dict[str, Any]) -> None:
    """Move the node's usage mark to the one its receipt acknowledged (never backwards)."""
    node.usage_mark = max(node.usage_mark, int(marks.get("usage") or 0))


@exchange.handles(MessageKind.USAGE)
def apply_usage(session: Session, node: Node, message: dict[str, Any]) -> dict[str, Any]:
    """Keep the usage a platform fed back, once per item."""
    items = message["body"].get("usage") or []
    ids = [int(item["id"]) for item in items]
    seen = set(
        session.scalars(
            select(Usage.local_id).where(
                Usage.kind == UsageKind.RECEIVED, Usage.node == node.name, Usage.local_id.in_(ids)
            )
        )
    )
    fresh = [item for item in items if int(item["id"]) not in seen]
    session.add_all(
        Usage(
            kind=UsageKind.RECEIVED,
            node=node.name,
            record_id=str(item["record_id"])[:32],
            loan_ref=str(item["loan_ref"])[:64],
            purpose=str(item.get("purpose") or "loan")[:40],
            used_at=_moment(item.get("used_at")),
            message_id=message["id"],
            local_id=int(item["id"]),
        )
        for item in fresh
    )
    session.flush()
    return {
        "items": len(items),
        "applied": len(fresh),
        "duplicates": len(items) - len(fresh),
        "marks": message["body"].get("marks") or {},
    }


@exchange.handles(MessageKind.COLLECTED)
def apply_collected(session: Session, node: Node, message: dict[str, Any]) -> dict[str, Any]:
    """Ingest what a platform collected, category by category, through the normal ingest."""
    body = message["body"]
    specs = catalog_service.specs_in_force(session)
    accepted, rejected, refused, total = 0, 0, 0, 0
    for category, rows in sorted((body.get("rows") or {}).items()):
        total += len(rows)
        if category not in node.accepts or category not in specs:
            refused += len(rows)
            continue
        try:
            with session.begin_nested():  # a category refused whole leaves nothing behind
                batch = ingest_service.push_rows(
                    session,
                    provider=specs[category].provider,
                    category=category,
                    rows=rows,
                    actor=f"node:{node.name}",
                )
        except XydError:  # retired here, say: counted, never a message refused forever
            refused += len(rows)
            continue
        session.add(
            Collected(
                node=node.name,
                message_id=message["id"],
                category=category,
                batch_id=batch.id,
                rows=len(rows),
                accepted=batch.accepted,
                rejected=batch.rejected,
            )
        )
        accepted += batch.accepted
        rejected += batch.rejected
    session.flush()
    # Rows of a category not accepted from the node are counted in the receipt and the
    # marks still move: sending them again would be refused again.
    return {
        "items": total,
        "accepted": accepted,
        "rejected": rejected,
        "not_accepted": refused,
        "marks": body.get("marks") or {},
    }


def _moment(text: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return clock.now()
    return clock.as_utc(moment) if moment.tzinfo else clock.now()
