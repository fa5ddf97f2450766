"""What the domains declare to the ledger: how to re-hash a stored body (``register_body``)
and which stored events must each have a leaf (``register_source``, read by ``verify``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.ledger.schemas import (
    BODY_DIFFERS,
    BODY_MATCHES,
    BODY_MISSING,
    BODY_UNCHECKED,
    StoredEvent,
)
from xinyidai.ledger.service.leaves import MAX_KIND, check_text
from xinyidai.ledger.service.sealing import expected_digest

SourceFetch = Callable[[Session], Iterable[StoredEvent | tuple[str, str]]]
_sources: dict[str, SourceFetch] = {}
BodyFetch = Callable[[Session, str], Iterable[StoredEvent]]
_bodies: dict[str, BodyFetch] = {}


def register_body(kind: str, fetch: BodyFetch) -> None:
    """Declare how to re-hash the stored body behind a ``ref`` of ``kind``.

    ``fetch(session, ref)`` returns a ``StoredEvent`` for every copy of that body the
    owning domain stores, its digest (as ``digest_of`` computes it) recomputed from the
    stored data now; empty when it is gone. ``check_event`` then says whether the body
    still matches its leaf.
    """
    check_text(kind, field="kind", limit=MAX_KIND)
    _bodies[kind] = fetch


def unregister_body(kind: str) -> None:
    """Forget a body fetcher (tests)."""
    _bodies.pop(kind, None)


def check_body(session: Session, *, kind: str, ref: str | None, digest: str) -> str:
    """Whether the stored body behind an event still hashes to the digest in its leaf.

    ``matches``, ``differs`` (some stored copy changed after it was logged), ``missing``
    (nothing stored under that ref) or ``unchecked`` (the ledger keeps only digests of this
    kind of event, so there is nothing to re-hash).
    """
    fetch = _bodies.get(kind)
    if fetch is None:
        return BODY_UNCHECKED
    found = list(fetch(session, ref)) if ref else []
    if not found:
        return BODY_MISSING
    matches = all(expected_digest(kind, stored) == digest for stored in found)
    return BODY_MATCHES if matches else BODY_DIFFERS


# --- verification ------------------------------------------------------------------------


def register_source(kind: str, fetch: SourceFetch) -> None:
    """Declare that every event ``fetch`` yields (a ``StoredEvent``, or ``(ref, digest)`` of
    a row written before format 2) must have a leaf of ``kind``."""
    check_text(kind, field="kind", limit=MAX_KIND)
    _sources[kind] = fetch


def unregister_source(kind: str) -> None:
    """Forget a source (tests)."""
    _sources.pop(kind, None)


def sources() -> dict[str, SourceFetch]:
    """The registered sources by kind."""
    return dict(_sources)


def register_steps(
    kind: str,
    *,
    step: Any,
    owner: Any,
    owner_of_step: Any,
    stored: Callable[[Any, Any], StoredEvent],
) -> None:
    """Declare the leaves of a subject's recorded steps (a letter's moves, a listing's
    steps): rows of ``step`` whose ``owner_of_step`` column is the ``id`` of an ``owner`` row
    with a ``public_id``, each step a leaf whose ref is ``<owner public id>:<step id>``.
    ``stored(owner, step)`` recomputes one step's event from the rows. Registers the source
    ``verify`` reads and the body ``check_event`` re-hashes."""
    joined = select(step, owner).join(owner, owner.id == owner_of_step)

    def leaves(session: Session) -> Iterator[StoredEvent]:
        rows = session.execute(joined.order_by(step.id).execution_options(yield_per=5000))
        for row, held_by in rows:
            yield stored(held_by, row)

    def bodies(session: Session, ref: str) -> list[StoredEvent]:
        owner_id, _, number = ref.rpartition(":")
        if not number.isdigit():
            return []
        found = session.execute(
            joined.where(step.id == int(number), owner.public_id == owner_id)
        ).first()
        return [] if found is None else [stored(found[1], found[0])]

    register_source(kind, leaves)
    register_body(kind, bodies)
