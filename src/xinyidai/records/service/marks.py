"""Marks on records: what a domain above the records says every view of a record shows.

An objection in progress marks its record (「异议处理中」 beside it in every view and
export); a credit repair marks it repaired (kept, no longer disclosed). The domain that
sets a mark names it by a reference of its own (an objection's or a repair's public id) and
clears it by that reference; the records read the active marks of the records they show.

The platform's rating of a subject is marked the same way, under the pseudo-category
``RATING_CATEGORY`` and the id ``rating_mark_id(code)``: an objection to the rating shows
「异议处理中」 on the rating card and in the rating the API answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import lookup_chunks
from xinyidai.records.models import MarkKind, NoteKind, RecordMark, SubjectNote
from xinyidai.records.schemas import SubjectNoteOut


def pin_mark(
    session: Session,
    *,
    record_id: str,
    category: str,
    subject_code: str,
    kind: MarkKind,
    reference: str,
) -> RecordMark:
    """Mark a record; the mark stays until it is cleared by its reference."""
    row = RecordMark(
        record_id=record_id,
        category=category,
        subject_code=subject_code,
        kind=kind,
        reference=reference,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def clear_marks(session: Session, *, kind: MarkKind, reference: str) -> int:
    """Clear the active marks of this kind set under ``reference``; how many."""
    done = session.execute(
        update(RecordMark)
        .where(
            RecordMark.kind == kind,
            RecordMark.reference == reference,
            RecordMark.cleared_at.is_(None),
        )
        .values(cleared_at=clock.now())
    )
    return int(getattr(done, "rowcount", 0) or 0)


# A mark on the platform's rating of a subject rather than on one of its records.
RATING_CATEGORY = "platform_rating"


def rating_mark_id(subject_code: str) -> str:
    return f"rating-{subject_code}"


def rating_marks(session: Session, *, subject_code: str) -> set[str]:
    """The kinds of the active marks on the subject's rating."""
    key = rating_mark_id(subject_code)
    return active_marks(session, record_ids=[key]).get(key, set())


def active_marks(session: Session, *, record_ids: Iterable[str]) -> dict[str, set[str]]:
    """The kinds of the active marks of each of these records (records with none left out)."""
    found: dict[str, set[str]] = {}
    wanted = sorted(set(record_ids))
    if not wanted:
        return found
    for condition in lookup_chunks(session, RecordMark.record_id, wanted):
        stmt = select(RecordMark.record_id, RecordMark.kind).where(
            condition, RecordMark.cleared_at.is_(None)
        )
        for rid, kind in session.execute(stmt):
            found.setdefault(rid, set()).add(kind)
    return found


def repaired_ids(
    session: Session,
    *,
    subject_codes: Iterable[str] | None = None,
    kinds: Iterable[MarkKind] = (MarkKind.REPAIRED,),
) -> set[str]:
    """The records marked repaired (or with another of ``kinds``), of these subjects or all."""
    stmt = select(RecordMark.record_id).where(
        RecordMark.kind.in_(list(kinds)), RecordMark.cleared_at.is_(None)
    )
    if subject_codes is not None:
        codes = sorted(set(subject_codes))
        if not codes:
            return set()
        stmt = stmt.where(RecordMark.subject_code.in_(codes))
    return set(session.scalars(stmt))


def add_note(
    session: Session,
    *,
    subject_code: str,
    kind: NoteKind,
    decided_on: date,
    source: str,
    text: str,
    reference: str,
) -> SubjectNote:
    """Note something beside a subject's records (a restructuring)."""
    row = SubjectNote(
        subject_code=subject_code,
        kind=kind,
        decided_on=decided_on,
        source=source,
        text=text,
        reference=reference,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def notes_of(session: Session, *, subject_code: str) -> list[SubjectNoteOut]:
    """The notes on a subject, oldest first."""
    rows = session.scalars(
        select(SubjectNote)
        .where(SubjectNote.subject_code == subject_code)
        .order_by(SubjectNote.decided_on, SubjectNote.id)
    )
    return [SubjectNoteOut.model_validate(row) for row in rows]
