"""The index of link keys: which enterprises share a key, whose shares or debts they hold.

Finding who shares an address with an enterprise would otherwise read every registration.
The index holds each enterprise's keys (``links.SubjectLinks.index_keys``), derived from
its own records only, and remembers the newest change mark of the records it has read
(``records.service.last_change_id``). It is rebuilt by every region analysis and refreshed
from the records changed since (``refresh``, a periodic job). A query between refreshes
folds the pending changes in (``pending``), so what it finds is what the records say now;
only when more subjects changed than ``PENDING_LIMIT`` does it answer from the index as it
stands, and says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import bulk_insert, is_postgres, lookup_chunks
from xinyidai.graph import links
from xinyidai.graph.models import AssociationKey, IndexState
from xinyidai.records import service as records_service

STATE_ID = 1
PENDING_LIMIT = 2_000
INSERT_ROWS = 20_000

Key = tuple[str, str]


def load_links(session: Session, codes: Iterable[str] | None) -> dict[str, links.SubjectLinks]:
    """Each subject's links from its current records (every subject when ``codes`` is None);
    a subject asked for without any link record gets empty links."""
    wanted = None if codes is None else set(codes)
    subjects = links.collect(
        records_service.current_data(
            session, categories=links.LINK_CATEGORIES, subject_codes=wanted
        )
    )
    for code in wanted or ():
        subjects.setdefault(code, links.SubjectLinks(code=code))
    return subjects


def _state(session: Session, *, lock: bool = False) -> IndexState:
    state = session.get(IndexState, STATE_ID, with_for_update=lock or None)
    if state is None:
        state = IndexState(id=STATE_ID, version_mark=0)
        session.add(state)
        session.flush()
    return state


def _row_chunks(subjects: dict[str, links.SubjectLinks]) -> Iterator[list[dict[str, str]]]:
    """The index rows of ``subjects``, ``INSERT_ROWS`` at a time (never all in memory)."""
    rows = (
        {"kind": kind, "key": key, "credit_code": code}
        for code in sorted(subjects)
        for kind, key in sorted(subjects[code].index_keys())
    )
    while chunk := list(itertools.islice(rows, INSERT_ROWS)):
        yield chunk


def rebuild(session: Session, *, subjects: dict[str, links.SubjectLinks], mark: int) -> int:
    """Replace the whole index with the keys of ``subjects``, read up to version ``mark``."""
    state = _state(session, lock=True)
    session.execute(delete(AssociationKey))
    written = 0
    for chunk in _row_chunks(subjects):
        bulk_insert(session, AssociationKey.__table__, chunk)
        written += len(chunk)
    state.version_mark = mark
    state.rebuilt_at = state.refreshed_at = clock.now()
    session.flush()
    return written


def _replace(session: Session, subjects: dict[str, links.SubjectLinks]) -> None:
    """Re-derive the keys of these subjects; a concurrent refresh may insert the same rows."""
    codes = sorted(subjects)
    for condition in lookup_chunks(session, AssociationKey.credit_code, codes):
        session.execute(delete(AssociationKey).where(condition))
    insert = pg_insert if is_postgres(session) else sqlite_insert
    for chunk in _row_chunks(subjects):
        statement = insert(AssociationKey).on_conflict_do_nothing(
            index_elements=["kind", "key", "credit_code"]
        )
        session.execute(statement, chunk)


def refresh(session: Session) -> int:
    """Bring the index up to the newest change mark; the number of subjects re-read."""
    state = _state(session, lock=True)
    top = records_service.last_change_id(session)
    if top <= state.version_mark:
        return 0
    changed, _ = records_service.changed_subjects(
        session,
        categories=links.LINK_CATEGORIES,
        after=state.version_mark,
        up_to=top,
    )
    if changed:
        _replace(session, load_links(session, changed))
    state.version_mark = top
    state.refreshed_at = clock.now()
    session.flush()
    return len(changed)


@dataclass
class Pending:
    """Subjects whose link records changed since the index last read them, read afresh."""

    subjects: dict[str, links.SubjectLinks] = field(default_factory=dict)
    members: dict[Key, set[str]] = field(default_factory=dict)  # keys as the records say now
    stale: dict[Key, set[str]] = field(default_factory=dict)  # keys as the index has them
    complete: bool = True

    def holders(self, key: Key) -> set[str]:
        return self.members.get(key, set())

    def correction(self, key: Key) -> int:
        """What to add to the index's count of a key to count as the records say now."""
        return len(self.members.get(key, ())) - len(self.stale.get(key, ()))


def pending(session: Session, *, limit: int = PENDING_LIMIT) -> Pending:
    """The changes the index has not read yet, to fold into a query (read-only)."""
    state = session.get(IndexState, STATE_ID)
    mark = state.version_mark if state is not None else 0
    changed, complete = records_service.changed_subjects(
        session, categories=links.LINK_CATEGORIES, after=mark, limit=limit
    )
    if not complete:
        return Pending(complete=False)
    subjects = load_links(session, changed)
    members: dict[Key, set[str]] = {}
    for code, subject in subjects.items():
        for held in subject.index_keys():
            members.setdefault(held, set()).add(code)
    stale: dict[Key, set[str]] = {}
    columns = (AssociationKey.kind, AssociationKey.key, AssociationKey.credit_code)
    for condition in lookup_chunks(session, AssociationKey.credit_code, sorted(changed)):
        for kind, value, code in session.execute(select(*columns).where(condition)):
            stale.setdefault((kind, value), set()).add(code)
    return Pending(subjects=subjects, members=members, stale=stale)


def _by_kind(keys: Iterable[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind, key in keys:
        grouped.setdefault(kind, []).append(key)
    return {kind: sorted(set(values)) for kind, values in grouped.items()}


def group_sizes(session: Session, keys: Iterable[Key], fresh: Pending) -> dict[Key, int]:
    """How many enterprises share each key, as the records say now."""
    sizes: dict[Key, int] = {}
    for kind, values in _by_kind(keys).items():
        for condition in lookup_chunks(session, AssociationKey.key, values):
            statement = (
                select(AssociationKey.key, func.count())
                .where(AssociationKey.kind == kind, condition)
                .group_by(AssociationKey.key)
            )
            for key, count in session.execute(statement):
                sizes[(kind, key)] = int(count)
        for value in values:
            correction = fresh.correction((kind, value))
            if correction:
                sizes[(kind, value)] = sizes.get((kind, value), 0) + correction
    return sizes


def members(session: Session, keys: Iterable[Key], fresh: Pending) -> dict[Key, set[str]]:
    """The enterprises holding each key, as the records say now (pending changes folded in)."""
    found: dict[Key, set[str]] = {}
    for kind, values in _by_kind(keys).items():
        for condition in lookup_chunks(session, AssociationKey.key, values):
            statement = select(AssociationKey.key, AssociationKey.credit_code).where(
                AssociationKey.kind == kind, condition
            )
            for key, code in session.execute(statement):
                if code not in fresh.subjects:  # read afresh below instead
                    found.setdefault((kind, key), set()).add(code)
        for value in values:
            holders = fresh.holders((kind, value))
            if holders:
                found.setdefault((kind, value), set()).update(holders)
    return found


def state(session: Session) -> IndexState:
    """How far the index has read the records."""
    return _state(session)
