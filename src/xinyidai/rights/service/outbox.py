"""The outbox: corrections and repairs other nodes must hear of, read from a mark.

The network of platforms reads it in order of ``id`` through the records' feeds
(``records.service.feed_after(session, name="rights", after=mark)``): what was published
after a mark it keeps; the last entry's id is its next mark.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.records import service as records_service
from xinyidai.records.service.feeds import FeedEntry
from xinyidai.rights.models import OutboxEntry, OutboxKind

READ_LIMIT = 500
FEED = "rights"  # the name other nodes read it by


def publish(
    session: Session, *, kind: OutboxKind, subject: str, payload: dict[str, Any]
) -> OutboxEntry:
    """Add one entry (in the caller's transaction: published if and only if it commits)."""
    row = OutboxEntry(kind=kind, subject=subject, payload=payload)
    session.add(row)
    session.flush()
    return row


def entries_after(
    session: Session, *, after: int = 0, limit: int = READ_LIMIT
) -> list[OutboxEntry]:
    """The entries published after the mark ``after``, oldest first, at most ``limit``."""
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.id > after)
            .order_by(OutboxEntry.id)
            .limit(max(1, min(limit, READ_LIMIT)))
        )
    )


def last_mark(session: Session) -> int:
    """The newest entry's id (0: none)."""
    return int(session.scalar(select(func.max(OutboxEntry.id))) or 0)


def _feed(session: Session, after: int, limit: int) -> list[FeedEntry]:
    return [
        FeedEntry(id=row.id, kind=row.kind, subject=row.subject, payload=dict(row.payload))
        for row in entries_after(session, after=after, limit=limit)
    ]


# Other nodes read the outbox through the records' feeds (``records.service.feed_after``).
records_service.register_feed(FEED, _feed)
