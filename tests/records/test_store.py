"""Storing facts: new records, duplicates, versions that keep the old, conflicts between
departments, one change mark per call, and the listeners told of new versions."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.records.facts import code, put, rating
from xinyidai.core.errors import NotFound
from xinyidai.ledger.models import LedgerEntry
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord, RecordConflict, RecordVersion
from xinyidai.records.schemas import Fact


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _record(session: Session) -> CreditRecord:
    session.expire_all()
    return session.scalars(select(CreditRecord)).one()


def test_a_new_fact_is_a_record_at_version_one_with_its_department_and_leaf(
    session: Session,
) -> None:
    result = put(session, "tax_rating", [rating(1, "A")], provider="tax", batch_id="b-1")
    assert (result.accepted, result.updated, result.duplicates, result.conflicts) == (1, 0, 0, 0)
    row = _record(session)
    assert row.subject_code == code(1)
    assert row.data == rating(1, "A")
    assert row.digest == records.data_digest(rating(1, "A"))
    assert (row.version, row.provider, row.sources, row.batch_id) == (1, "tax", ["tax"], "b-1")
    assert row.salt is not None
    assert len(row.salt) == 16
    assert row.change_id == records.last_change_id(session) == 1
    # A first version is written once: no past version, one ledger leaf.
    assert _count(session, RecordVersion) == 0
    assert _count(session, LedgerEntry) == 1


def test_the_same_fact_again_is_a_duplicate_and_another_sender_becomes_a_source(
    session: Session,
) -> None:
    put(session, "tax_rating", [rating(1, "A")], provider="tax")
    first = _record(session)
    mark, stored_at = first.change_id, first.updated_at
    again = put(session, "tax_rating", [rating(1, "A")], provider="tax")
    assert (again.accepted, again.updated, again.duplicates) == (0, 0, 1)
    also = put(session, "tax_rating", [rating(1, "A")], provider="finance")
    assert (also.accepted, also.updated, also.duplicates, also.conflicts) == (0, 0, 1, 0)
    row = _record(session)
    assert row.sources == ["tax", "finance"]
    # Gaining a source is not a new version: same version, provider, mark and time.
    assert (row.version, row.provider, row.change_id) == (1, "tax", mark)
    assert row.updated_at == stored_at
    assert _count(session, RecordVersion) == 0
    assert _count(session, LedgerEntry) == 1


def test_a_changed_fact_is_a_new_version_that_keeps_the_old_one(session: Session) -> None:
    put(session, "tax_rating", [rating(1, "B")], provider="tax", batch_id="b-1")
    first = _record(session)
    first_stored = first.updated_at
    changed = put(session, "tax_rating", [rating(1, "A")], provider="tax", batch_id="b-2")
    assert (changed.accepted, changed.updated, changed.conflicts) == (0, 1, 0)
    row = _record(session)
    assert (row.version, row.data["grade"], row.batch_id) == (2, "A", "b-2")
    assert row.change_id == 2
    past = session.scalars(select(RecordVersion)).one()
    assert (past.record_id, past.version, past.data["grade"], past.batch_id) == (
        row.id,
        1,
        "B",
        "b-1",
    )
    assert past.created_at == first_stored
    assert past.salt is not None
    assert past.salt != row.salt
    history = records.versions_of(session, record_id=row.id)
    assert [(v.version, v.data["grade"]) for v in history] == [(2, "A"), (1, "B")]
    assert _count(session, LedgerEntry) == 2


def test_a_change_by_another_department_is_flagged_with_the_fields_that_differ(
    session: Session,
) -> None:
    put(session, "tax_rating", [rating(1, "B", score="80")], provider="tax")
    result = put(
        session, "tax_rating", [rating(1, "A", score="80")], provider="finance", batch_id="b-9"
    )
    assert (result.updated, result.conflicts) == (1, 1)
    conflict = session.scalars(select(RecordConflict)).one()
    assert conflict.fields == ["grade"]
    assert (conflict.earlier_provider, conflict.earlier_version) == ("tax", 1)
    assert (conflict.later_provider, conflict.later_version) == ("finance", 2)
    assert (conflict.batch_id, conflict.state, conflict.subject_code) == ("b-9", "open", code(1))
    # The later value is stored all the same; the operator settles the conflict.
    assert _record(session).data["grade"] == "A"
    rows, total = records.conflicts_by(session)
    assert (total, [r.id for r in rows]) == (1, [conflict.id])
    assert records.conflict_counts(session) == {("finance", "tax_rating"): 1}
    resolved = records.resolve_conflict(session, conflict_id=conflict.id, actor="operator")
    assert (resolved.state, resolved.resolved_by) == ("resolved", "operator")
    assert resolved.resolved_at is not None
    assert records.conflicts_by(session)[1] == 0
    assert records.conflicts_by(session, state="resolved")[1] == 1


def test_resolving_a_conflict_that_does_not_exist_names_it(session: Session) -> None:
    with pytest.raises(NotFound) as missing:
        records.resolve_conflict(session, conflict_id=404, actor="operator")
    assert missing.value.field == "conflict_id"
    assert "404" in str(missing.value)


def test_within_one_delivery_the_last_row_of_a_fact_wins(session: Session) -> None:
    result = put(session, "tax_rating", [rating(1, "B"), rating(1, "A")])
    assert (result.accepted, result.updated, result.duplicates) == (1, 0, 1)
    row = _record(session)
    assert (row.version, row.data["grade"]) == (1, "A")
    # Sending the same delivery again changes nothing.
    again = put(session, "tax_rating", [rating(1, "B"), rating(1, "A")])
    assert (again.accepted, again.updated, again.duplicates) == (0, 0, 2)
    assert _record(session).version == 1


def test_each_store_call_takes_one_mark_above_the_last(session: Session) -> None:
    assert records.last_change_id(session) == 0
    put(session, "tax_rating", [rating(1, "A"), rating(2, "A")])
    put(session, "tax_rating", [rating(3, "A")])
    put(session, "tax_rating", [rating(3, "A")])  # a duplicate writes no version: no mark
    assert records.last_change_id(session) == 2
    wanted = ["tax_rating"]
    assert records.changed_subjects(session, categories=wanted, after=0) == (
        {code(1), code(2), code(3)},
        True,
    )
    assert records.changed_subjects(session, categories=wanted, after=1) == ({code(3)}, True)
    assert records.changed_subjects(session, categories=wanted, after=0, up_to=1) == (
        {code(1), code(2)},
        True,
    )
    assert records.changed_subjects(session, categories=["admin_penalty"], after=0) == (
        set(),
        True,
    )
    found, complete = records.changed_subjects(session, categories=wanted, after=0, limit=1)
    assert not complete
    assert len(found) == 2


def test_listeners_hear_of_new_versions_only_and_not_while_paused(session: Session) -> None:
    heard: list[tuple[str, list[str]]] = []

    def listener(_: Session, category: str, facts: Sequence[Fact]) -> None:
        heard.append((category, sorted(f.subject_code for f in facts)))

    records.on_stored(listener)
    records.on_stored(listener)  # registered once however often it is named
    try:
        put(session, "tax_rating", [rating(1, "A"), rating(2, "A")])
        put(session, "tax_rating", [rating(1, "A")], provider="finance")  # a duplicate
        put(session, "tax_rating", [rating(2, "B")])  # a new version
        with records.listeners_paused():
            put(session, "tax_rating", [rating(3, "A")])
        assert __name__ in records.listener_modules()
    finally:
        records.off_stored(listener)  # the registry is process-wide
    put(session, "tax_rating", [rating(4, "A")])  # no longer heard
    assert heard == [
        ("tax_rating", [code(1), code(2)]),
        ("tax_rating", [code(2)]),
    ]
    assert __name__ not in records.listener_modules()
    assert _count(session, CreditRecord) == 4
