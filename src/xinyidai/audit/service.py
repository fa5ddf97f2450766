"""Business logic of the audit trail: record every access decision, search, count, export.

``record_access`` stores one event and appends it to the ledger (kind ``audit.access``) in
the caller's transaction. The leaf carries no names and nothing to test a guess against:
its actor and subject are fixed words (sealed as tags), and its digest is a commitment to
the event salted with 128 random bits kept in the event's row, so the public ledger tells
nobody who looked at whom, nor lets anyone check "did bank X query enterprise Y at this
time" by hashing; ``xyd ledger verify`` recomputes the commitment from every stored event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from xinyidai.audit.models import ALLOW, DENY, OUTCOMES, AccessEvent
from xinyidai.audit.schemas import AccessCounts, CountRow, EventFilter, LedgerLeavesOut
from xinyidai.core import clock, exports, metrics
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service

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
    metrics.ACCESS_DECISIONS.labels(outcome=outcome, channel=channel).inc()
    body = body_of(event)
    event.digest = ledger_service.digest_of(body)
    event.salt = ledger_service.new_salt()
    session.add(event)  # flushed with the leaf, in one go
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
        ref=event.public_id,
        body=body,
        salt=event.salt,
    )
    return event


def stored_event(event: AccessEvent) -> StoredEvent:
    """The event as the ledger checks it: its digest recomputed from the row, with its salt."""
    return StoredEvent(
        ref=event.public_id,
        digest=ledger_service.digest_of(body_of(event)),
        salt=None if event.salt is None else bytes(event.salt),
        subject=LEDGER_SUBJECT,
        actor=LEDGER_ACTOR,
    )


def leaf_digest(event: AccessEvent) -> str:
    """The digest the event's leaf carries (its commitment; the digest itself before format 2)."""
    return ledger_service.expected_digest(LEDGER_KIND, stored_event(event))


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


def events_statement(*, flt: EventFilter) -> Select[Any]:
    """The events matching the filter, newest first."""
    return _filtered(flt).order_by(AccessEvent.at.desc(), AccessEvent.id.desc())


def access_log_statement(*, subject: str, others_only: bool = False) -> Select[Any]:
    """Who looked (or tried to look) at an enterprise's data and why, newest first."""
    stmt = events_statement(flt=EventFilter(subject=subject))
    if others_only:
        stmt = stmt.where(AccessEvent.basis.is_(None) | (AccessEvent.basis != "self"))
    return stmt


def iter_events(session: Session, *, flt: EventFilter) -> Iterator[AccessEvent]:
    """Every event matching the filter, oldest first, read in chunks (exports)."""
    stmt = _filtered(flt).order_by(AccessEvent.at, AccessEvent.id).execution_options(yield_per=2000)
    yield from session.scalars(stmt)


def check_filter(flt: EventFilter) -> None:
    """Refuse a bad filter (``ValidationFailed``) before an export starts streaming."""
    _filtered(flt)


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


def letter_uses_statement(*, letter_id: str) -> Select[Any]:
    """The decisions that named one authorization letter (allowed uses and refused ones),
    newest first."""
    return events_statement(flt=EventFilter(letter_id=letter_id))


# --------------------------------------------------------------------------- the ledger

LEAVES_PURPOSE = "supervision"
LEAVES_BASIS = "auditor"
# A department's code as the catalogue names providers; an event's subject holds 18 characters.
_DEPARTMENT = re.compile(r"[a-z][a-z0-9_]{0,17}")


def ledger_leaves(
    session: Session,
    *,
    principal: Principal,
    subject: str | None = None,
    department: str | None = None,
    start: int = 0,
    channel: str = "api:ledger.leaves",
) -> LedgerLeavesOut:
    """The leaves of the public ledger tagged for one enterprise (``subject``) or one
    department, found with keys derived on the node from every tag secret; for auditors.

    Which leaves are whose is not public (it tells who has records, and how many), so the
    search is itself an access event in the audit trail (and the ledger).
    """
    if (subject is None) == (department is None):
        raise ValidationFailed("give either a subject or a department", field="subject")
    if subject is not None:
        party = registry_service.parse_code_or_raise(subject, field="subject")
        role, label = "subject", party
    else:
        party = (department or "").strip()
        if not _DEPARTMENT.fullmatch(party):
            raise ValidationFailed("not a department code", field="department")
        role, label = "actor", records_service.ledger_actor(party)
    indexes, following = ledger_service.party_leaves(session, role=role, label=label, start=start)
    record_access(
        session,
        principal=principal,
        subject=party,
        categories=[],
        purpose=LEAVES_PURPOSE,
        outcome=ALLOW,
        basis=LEAVES_BASIS,
        letter_id=None,
        reason=None,
        granted={},
        channel=channel,
    )
    return LedgerLeavesOut(
        role=role,
        label=label,
        indexes=indexes,
        start=start,
        next=following,
        tree_size=ledger_service.head(session).size,
    )


def _event_leaves(session: Session) -> Iterator[StoredEvent]:
    """Every stored event, its digest recomputed from the row: each needs its leaf.

    Recomputing (rather than reading the digest column) means an event edited behind the
    ledger, digest column and all, has no matching leaf and ``xyd ledger verify`` names it.
    """
    stmt = select(AccessEvent).order_by(AccessEvent.id).execution_options(yield_per=5000)
    for event in session.scalars(stmt):
        yield stored_event(event)


def _event_bodies(session: Session, ref: str) -> list[StoredEvent]:
    event = session.scalar(select(AccessEvent).where(AccessEvent.public_id == ref))
    return [] if event is None else [stored_event(event)]


ledger_service.register_source(LEDGER_KIND, _event_leaves)
ledger_service.register_body(LEDGER_KIND, _event_bodies)
