"""Records down to a platform: what a node is entitled to, from its last acknowledged mark,
desensitized unless it may read personal fields; and, at the platform, each version
applied once with its provenance, repairs and corrections taking effect.

A message of kind ``records`` carries::

    {"records": [{"record_id", "category", "subject", "version", "department", "data",
                  "event_on", "desensitized"}, …],
     "subjects": {"<credit code>": {"name", "region_code"}, …},
     "feed": [{"id", "kind", "subject", "payload"}, …],
     "marks": {"record": [<change mark>, "<record id>"], "feed": <feed id>}}

The receipt's result repeats ``marks``: the sender moves its marks to them only when the
receipt checks, so a lost message or receipt is sent again from the same marks and the
receiver skips what it applied (by origin, record id and version).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.settings import get_settings
from xinyidai.federation.models import Direction, Message, MessageKind, Node, ReceivedVersion
from xinyidai.federation.schemas import ReceivedSummaryOut
from xinyidai.federation.service import exchange
from xinyidai.federation.service.nodes import shared_categories
from xinyidai.privacy import service as privacy_service
from xinyidai.records import service as records_service
from xinyidai.records.models import MarkKind
from xinyidai.records.schemas import Fact
from xinyidai.registry import service as registry_service

RIGHTS_FEED = "rights"  # the subject rights' outbox: corrections and repairs
REPAIR = "repair"
CORRECTION = "correction"
MESSAGE_PREFIX = "fmsg_"  # a record stored from a message has the message's id as batch
WITHOUT_PERSONAL = privacy_service.ALL_LEVELS - {privacy_service.PERSONAL}


def _in_regions(region: str | None, regions: list[str]) -> bool:
    return not regions or (region is not None and any(region.startswith(p) for p in regions))


def records_body(
    session: Session, *, node: Node, limit: int | None = None
) -> tuple[dict[str, Any], int]:
    """The next message of records for ``node`` and how many items it holds (0: nothing
    new). Reads at most ``limit`` record versions after its mark; those outside its regions
    or repaired are passed over, the mark moving past them."""
    limit = limit or get_settings().federation.batch_records
    categories = shared_categories(session, node)
    specs = catalog_service.specs_in_force(session)
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
    mark: list[Any] = [node.record_mark, node.record_mark_id]
    if rows:
        mark = [rows[-1].change_id, rows[-1].id]
    subjects = registry_service.get_many_by_code(
        session, credit_codes=[r.subject_code for r in rows]
    )
    returned = _received_from(session, node, rows)
    repaired = records_service.repaired_ids(session, subject_codes={r.subject_code for r in rows})
    views = {
        code: privacy_service.view_of(specs[code], raw_levels=WITHOUT_PERSONAL)
        for code in categories
    }
    records: list[dict[str, Any]] = []
    shipped: dict[str, dict[str, Any]] = {}
    for row in rows:
        subject = subjects.get(row.subject_code)
        region = subject.region_code if subject else None
        if row.id in repaired or row.batch_id in returned:
            continue
        if not _in_regions(region, node.regions):
            continue
        data = dict(row.data)
        shown = data if node.personal else privacy_service.show(data, views[row.category])
        records.append(
            {
                "record_id": row.id,
                "category": row.category,
                "subject": row.subject_code,
                "version": row.version,
                "department": row.provider,
                "data": shown,
                "event_on": None if row.event_on is None else row.event_on.isoformat(),
                "desensitized": shown != data,
            }
        )
        if subject is not None:
            shipped[row.subject_code] = {"name": subject.name, "region_code": region}
    feed, feed_mark = _feed_for(session, node=node, categories=set(categories), limit=limit)
    body = {
        "records": records,
        "subjects": shipped,
        "feed": feed,
        "marks": {"record": mark, "feed": feed_mark},
    }
    moved = bool(rows) or feed_mark != node.feed_mark
    return body, (len(records) + len(feed)) or int(moved)


def _received_from(session: Session, node: Node, rows: list[Any]) -> set[str]:
    """The batches among ``rows`` that are messages received from ``node``: a version it
    sent is not sent back to it."""
    batches = {row.batch_id for row in rows if (row.batch_id or "").startswith(MESSAGE_PREFIX)}
    if not batches:
        return set()
    return set(
        session.scalars(
            select(Message.message_id).where(
                Message.message_id.in_(sorted(batches)),
                Message.peer == node.name,
                Message.direction == Direction.IN,
            )
        )
    )


def _feed_for(
    session: Session, *, node: Node, categories: set[str], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The rights feed's entries after the node's mark that concern what it receives."""
    entries = records_service.feed_after(
        session, name=RIGHTS_FEED, after=node.feed_mark, limit=limit
    )
    if not entries:
        return [], node.feed_mark
    subjects = registry_service.get_many_by_code(session, credit_codes=[e.subject for e in entries])
    kept: list[dict[str, Any]] = []
    for entry in entries:
        category = entry.payload.get("category")
        subject = subjects.get(entry.subject)
        if category is not None and category not in categories:
            continue
        if not _in_regions(subject.region_code if subject else None, node.regions):
            continue
        kept.append(
            {"id": entry.id, "kind": entry.kind, "subject": entry.subject, "payload": entry.payload}
        )
    return kept, entries[-1].id


def advance(node: Node, marks: dict[str, Any]) -> None:
    """Move the node's marks to those its receipt acknowledged (never backwards)."""
    record = marks.get("record") or [0, ""]
    if (int(record[0]), str(record[1])) > (node.record_mark, node.record_mark_id):
        node.record_mark, node.record_mark_id = int(record[0]), str(record[1])
    node.feed_mark = max(node.feed_mark, int(marks.get("feed") or 0))


# --------------------------------------------------------------------------- receiving


@exchange.handles(MessageKind.RECORDS)
def apply_records(session: Session, node: Node, message: dict[str, Any]) -> dict[str, Any]:
    """Apply a message of records from ``node``: each version once, with its provenance;
    then its repairs."""
    body = message["body"]
    items = body.get("records") or []
    seen = _applied(session, node.name, items)
    fresh = [item for item in items if (item["record_id"], int(item["version"])) not in seen]
    specs = catalog_service.specs_in_force(session)
    unknown = [item for item in fresh if item["category"] not in specs]
    fresh = [item for item in fresh if item["category"] in specs]
    subjects = body.get("subjects") or {}
    if subjects:
        registry_service.sync_subjects(
            session,
            registrations=[
                {
                    "credit_code": code,
                    "name": found.get("name"),
                    "region_code": found.get("region_code"),
                }
                for code, found in sorted(subjects.items())
            ],
        )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in fresh:
        groups[(item["category"], item["department"])].append(item)
    for (category, department), group in groups.items():
        facts = [
            Fact(
                item["record_id"],
                item["subject"],
                item["data"],
                records_service.data_digest(item["data"]),
                date.fromisoformat(item["event_on"]) if item.get("event_on") else None,
                position,
                records_service.canonical(item["data"]),
            )
            for position, item in enumerate(group)
        ]
        records_service.store(
            session,
            category=category,
            category_version=catalog_service.get_by_code_or_raise(session, code=category).version,
            provider=department,
            batch_id=message["id"][:40],
            facts=facts,
        )
    session.add_all(
        ReceivedVersion(
            origin=node.name,
            record_id=item["record_id"],
            category=item["category"],
            subject_code=item["subject"],
            version=int(item["version"]),
            department=item["department"],
            desensitized=bool(item.get("desensitized")),
            message_id=message["id"],
        )
        for item in fresh
    )
    session.flush()
    repairs = _apply_feed(session, node, body.get("feed") or [])
    return {
        "items": len(items) + len(body.get("feed") or []),
        "applied": len(fresh),
        "duplicates": len(items) - len(fresh) - len(unknown),
        "unknown_category": len(unknown),
        "repairs": repairs,
        "marks": body.get("marks") or {},
    }


def _applied(session: Session, origin: str, items: list[dict[str, Any]]) -> set[tuple[str, int]]:
    ids = sorted({item["record_id"] for item in items})
    if not ids:
        return set()
    found = session.execute(
        select(ReceivedVersion.record_id, ReceivedVersion.version).where(
            ReceivedVersion.origin == origin, ReceivedVersion.record_id.in_(ids)
        )
    )
    return {(rid, int(version)) for rid, version in found}


def _apply_feed(session: Session, node: Node, feed: list[dict[str, Any]]) -> int:
    """Repairs take effect here as at the center: the record is marked repaired (kept, no
    longer shown); a correction's new version travels as a record version itself."""
    done = 0
    for entry in feed:
        if entry.get("kind") != REPAIR:
            continue
        payload = entry.get("payload") or {}
        record_id, category = payload.get("record_id"), payload.get("category")
        if not record_id or not category:
            continue
        held = session.scalar(
            select(func.count())
            .select_from(ReceivedVersion)
            .where(ReceivedVersion.origin == node.name, ReceivedVersion.record_id == record_id)
        )
        if not held:
            continue
        marks = records_service.active_marks(session, record_ids=[record_id])
        if MarkKind.REPAIRED in marks.get(record_id, set()):
            continue
        records_service.pin_mark(
            session,
            record_id=record_id,
            category=category,
            subject_code=entry["subject"],
            kind=MarkKind.REPAIRED,
            reference=str(payload.get("repair") or f"feed:{entry['id']}")[:40],
        )
        done += 1
    return done


def received_statement() -> Any:
    """What this node received, per origin and category (the platform's view)."""
    return (
        select(
            ReceivedVersion.origin,
            ReceivedVersion.category,
            func.count(),
            func.count(func.distinct(ReceivedVersion.record_id)),
            func.sum(case((ReceivedVersion.desensitized, 1), else_=0)),
            func.max(ReceivedVersion.applied_at),
        )
        .group_by(ReceivedVersion.origin, ReceivedVersion.category)
        .order_by(ReceivedVersion.origin, ReceivedVersion.category)
    )


def received_summary(session: Session) -> list[ReceivedSummaryOut]:
    """What this node received, per origin node and category (counts only)."""
    return [
        ReceivedSummaryOut(
            origin=origin,
            category=category,
            versions=versions,
            records=records,
            desensitized=int(desensitized or 0),
            last_applied_at=last,
        )
        for origin, category, versions, records, desensitized, last in session.execute(
            received_statement()
        )
    ]
