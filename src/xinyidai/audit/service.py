"""Business logic of the audit trail: record every access decision, search, count, export.

``record_access`` stores one event and appends its digest to the ledger (kind
``audit.access``) in the caller's transaction. The leaf carries no names: its actor and
subject are fixed words and its ref the event id, so the public ledger tells nobody who
looked at whom; the stored event hashes to the leaf's digest, which ``xyd ledger verify``
recomputes from every stored event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from xinyidai.audit.models import ALLOW, DENY, OUTCOMES, AccessEvent
from xinyidai.audit.schemas import AccessCounts, CountRow, EventFilter
from xinyidai.core import clock, exports
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service

LEDGER_KIND = "audit.access"
LEDGER_ACTOR = "system:audit"
LEDGER_SUBJECT = "access"

CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "organization_id",
    "organization_kind",
    "organization_name",
    "subject",
    "categories",
    "purpose",
    "outcome",
    "basis",
    "letter_id",
    "reason",
    "channel",
    "digest",
)


def _time_text(moment: datetime) -> str:
    return clock.as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def body_of(event: AccessEvent) -> dict[str, Any]:
    """The event as hashed into its digest: every stored field but the digest itself."""
    return {
        "id": event.public_id,
        "at": _time_text(event.at),
        "actor": event.actor,
        "organization_id": event.organization_id,
        "organization_kind": event.organization_kind,
        "organization_name": event.organization_name,
        "subject": event.subject,
        "categories": list(event.categories),
        "purpose": event.purpose,
        "outcome": event.outcome,
        "basis": event.basis,
        "letter_id": event.letter_id,
        "reason": event.reason,
        "granted": dict(event.granted),
        "channel": event.channel,
    }


def record_access(
    session: Session,
    *,
    principal: Principal,
    subject: str,
    categories: Sequence[str],
    purpose: str,
    outcome: str,
    basis: str | None,
    letter_id: str | None,
    reason: str | None,
    granted: dict[str, Any],
    channel: str,
) -> AccessEvent:
    """Store one access decision and append its digest to the ledger; the caller commits."""
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            "must be one of: {choices}", field="outcome", choices=", ".join(OUTCOMES)
        )
    event = AccessEvent(
        public_id=new_id("acc"),
        at=clock.now(),
        actor=principal.actor,
        organization_id=principal.organization_public_id,
        organization_kind=principal.organization_kind,
        organization_name=principal.organization_name,
        subject=subject,
        categories=list(categories),
        purpose=purpose,
        outcome=outcome,
        basis=basis,
        letter_id=letter_id,
        reason=reason,
        granted=dict(granted),
        channel=channel,
    )
    body = body_of(event)
    event.digest = ledger_service.digest_of(body)
    session.add(event)  # flushed with the leaf, in one go
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
        ref=event.public_id,
        body=body,
    )
    return event


def get_or_raise(session: Session, *, event_id: str) -> AccessEvent:
    """The event with this public id; ``NotFound`` otherwise."""
    event = session.scalar(select(AccessEvent).where(AccessEvent.public_id == event_id))
    if event is None:
        raise NotFound("no access event {event_id}", field="event_id", event_id=event_id)
    return event


# --------------------------------------------------------------------------- searching


def day_start(day: Any) -> datetime:
    """The UTC moment a day in China begins."""
    return datetime.combine(day, time.min, tzinfo=clock.SHANGHAI).astimezone(UTC)


def _filtered(flt: EventFilter) -> Select[Any]:
    if flt.date_from and flt.date_to and flt.date_to < flt.date_from:
        raise ValidationFailed("the end date is before the start date", field="date_to")
    if flt.outcome and flt.outcome not in OUTCOMES:
        raise ValidationFailed(
            "must be one of: {choices}", field="outcome", choices=", ".join(OUTCOMES)
        )
    stmt = select(AccessEvent)
    if flt.organization:
        stmt = stmt.where(AccessEvent.organization_id == flt.organization)
    if flt.subject:
        stmt = stmt.where(AccessEvent.subject == flt.subject.strip().upper())
    if flt.date_from:
        stmt = stmt.where(AccessEvent.at >= day_start(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(AccessEvent.at < day_start(flt.date_to + timedelta(days=1)))
    if flt.purpose:
        stmt = stmt.where(AccessEvent.purpose == flt.purpose)
    if flt.outcome:
        stmt = stmt.where(AccessEvent.outcome == flt.outcome)
    if flt.basis:
        stmt = stmt.where(AccessEvent.basis == flt.basis)
    if flt.letter_id:
        stmt = stmt.where(AccessEvent.letter_id == flt.letter_id)
    if flt.organization_kind:
        stmt = stmt.where(AccessEvent.organization_kind == flt.organization_kind)
    return stmt


def search(
    session: Session, *, flt: EventFilter, page: int = 1, size: int = 20
) -> tuple[list[AccessEvent], int]:
    """One page of events matching the filter, newest first, and the total."""
    stmt = _filtered(flt).order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
    return paginate(session, stmt, page=page, size=size)


def access_log(
    session: Session, *, subject: str, page: int = 1, size: int = 20, others_only: bool = False
) -> tuple[list[AccessEvent], int]:
    """Who looked (or tried to look) at an enterprise's data and why, newest first."""
    stmt = _filtered(EventFilter(subject=subject)).order_by(
        AccessEvent.at.desc(), AccessEvent.id.desc()
    )
    if others_only:
        stmt = stmt.where(AccessEvent.basis.is_(None) | (AccessEvent.basis != "self"))
    return paginate(session, stmt, page=page, size=size)


def iter_events(session: Session, *, flt: EventFilter) -> Iterator[AccessEvent]:
    """Every event matching the filter, oldest first, read in chunks (exports)."""
    stmt = _filtered(flt).order_by(AccessEvent.at, AccessEvent.id).execution_options(yield_per=2000)
    yield from session.scalars(stmt)


def csv_lines(session: Session, *, flt: EventFilter) -> Iterator[str]:
    """The events matching the filter as CSV text (UTF-8 with a BOM, for spreadsheets)."""
    _filtered(flt)  # refuse a bad filter before the first line goes out
    rows = (
        [
            event.public_id,
            _time_text(event.at),
            event.actor,
            event.organization_id,
            event.organization_kind,
            event.organization_name,
            event.subject,
            " ".join(event.categories),
            event.purpose,
            event.outcome,
            event.basis,
            event.letter_id,
            event.reason,
            event.channel,
            event.digest,
        ]
        for event in iter_events(session, flt=flt)
    )
    yield from exports.csv_lines(CSV_COLUMNS, rows)


# --------------------------------------------------------------------------- counting


def _rows(session: Session, column: Any) -> list[CountRow]:
    stmt = (
        select(
            column,
            func.sum(case((AccessEvent.outcome == ALLOW, 1), else_=0)),
            func.sum(case((AccessEvent.outcome == DENY, 1), else_=0)),
        )
        .group_by(column)
        .order_by(column)
    )
    return [
        CountRow(key=str(key or "-"), allow=int(allow or 0), deny=int(deny or 0))
        for key, allow, deny in session.execute(stmt)
    ]


def counts(session: Session) -> AccessCounts:
    """Decisions by outcome, basis, purpose and kind of asker; and how many lately."""
    now = clock.now()
    allow, deny = session.execute(
        select(
            func.sum(case((AccessEvent.outcome == ALLOW, 1), else_=0)),
            func.sum(case((AccessEvent.outcome == DENY, 1), else_=0)),
        )
    ).one()

    def since(moment: datetime) -> int:
        return int(session.scalar(select(func.count()).where(AccessEvent.at >= moment)) or 0)

    return AccessCounts(
        total=int(allow or 0) + int(deny or 0),
        allow=int(allow or 0),
        deny=int(deny or 0),
        last_24_hours=since(now - timedelta(hours=24)),
        last_7_days=since(now - timedelta(days=7)),
        by_basis=_rows(session, AccessEvent.basis),
        by_purpose=_rows(session, AccessEvent.purpose),
        by_kind=_rows(session, AccessEvent.organization_kind),
    )


def uses_of_letter(
    session: Session, *, letter_id: str, page: int = 1, size: int = 20
) -> tuple[list[AccessEvent], int]:
    """The decisions that named one authorization letter (allowed uses and refused ones)."""
    return search(session, flt=EventFilter(letter_id=letter_id), page=page, size=size)


# --------------------------------------------------------------------------- the ledger


def _event_leaves(session: Session) -> Iterator[tuple[str, str]]:
    """Every stored event as (ref, digest recomputed from the row): each needs its leaf.

    Recomputing (rather than reading the digest column) means an event edited behind the
    ledger, digest column and all, has no matching leaf and ``xyd ledger verify`` names it.
    """
    stmt = select(AccessEvent).order_by(AccessEvent.id).execution_options(yield_per=5000)
    for event in session.scalars(stmt):
        yield event.public_id, ledger_service.digest_of(body_of(event))


def _event_bodies(session: Session, ref: str) -> list[str]:
    event = session.scalar(select(AccessEvent).where(AccessEvent.public_id == ref))
    return [] if event is None else [ledger_service.digest_of(body_of(event))]


ledger_service.register_source(LEDGER_KIND, _event_leaves)
ledger_service.register_body(LEDGER_KIND, _event_bodies)
