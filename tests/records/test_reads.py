"""Records read back: a subject's current records by category, the disclosure period, one
record's versions, the bulk read of current data, counts and consistency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.records.facts import code, penalty, put, rating
from xinyidai.core import clock
from xinyidai.core.errors import NotFound
from xinyidai.records import service as records
from xinyidai.records.models import RecordVersion
from xinyidai.records.schemas import CurrentData


@pytest.fixture
def stored(session: Session) -> None:
    """Subject 1: a rating changed once, a recent penalty and one past its disclosure
    period (1095 days); subject 2: a rating."""
    today = clock.today()
    put(session, "tax_rating", [rating(1, "B")])
    put(session, "tax_rating", [rating(1, "A")])
    put(session, "tax_rating", [rating(2, "C")])
    put(
        session,
        "admin_penalty",
        [penalty(1, "罚〔2026〕1号")],
        provider="credit",
        event_on=today - timedelta(days=30),
    )
    put(
        session,
        "admin_penalty",
        [penalty(1, "罚〔2020〕9号")],
        provider="credit",
        event_on=today - timedelta(days=1096),
    )
    session.commit()


def test_a_subjects_current_records_come_by_category_in_code_order(
    session: Session, stored: None
) -> None:
    groups = records.records_of(session, subject_code=code(1))
    assert [g.category for g in groups] == ["admin_penalty", "tax_rating"]
    penalties, ratings = groups
    assert [r.data["decision_number"] for r in penalties.records] == ["罚〔2026〕1号"]
    assert penalties.hidden_expired == 1
    assert penalties.name_zh
    assert penalties.sensitivity == "public"
    (current,) = ratings.records
    assert (current.version, current.data["grade"], current.provider) == (2, "A", "tax")
    assert current.history is None
    assert ratings.hidden_expired == 0


def test_a_record_past_its_disclosure_period_is_shown_only_when_asked_for(
    session: Session, stored: None
) -> None:
    (penalties,) = records.records_of(
        session, subject_code=code(1), categories=["admin_penalty"], include_expired=True
    )
    assert sorted(r.data["decision_number"] for r in penalties.records) == [
        "罚〔2020〕9号",
        "罚〔2026〕1号",
    ]
    assert penalties.hidden_expired == 0


def test_history_lists_every_version_newest_first(session: Session, stored: None) -> None:
    (ratings,) = records.records_of(
        session, subject_code=code(1), categories=["tax_rating"], with_history=True
    )
    (current,) = ratings.records
    assert current.history is not None
    assert [(v.version, v.data["grade"]) for v in current.history] == [(2, "A"), (1, "B")]
    assert records.versions_of(session, record_id=current.id) == current.history
    assert records.get_or_raise(session, record_id=current.id).version == 2


def test_a_subject_without_records_has_no_groups(session: Session, stored: None) -> None:
    assert records.records_of(session, subject_code=code(3)) == []


def test_an_unknown_record_is_not_found_by_its_id(session: Session) -> None:
    for read in (records.get_or_raise, records.versions_of):
        with pytest.raises(NotFound) as missing:
            read(session, record_id="0" * 32)
        assert missing.value.field == "record_id"


def test_current_data_streams_current_versions_for_some_subjects_or_all(
    session: Session, stored: None
) -> None:
    everyone = sorted(
        (d.subject_code, d.category, str(d.data.get("grade") or d.data.get("decision_number")))
        for d in records.current_data(session, categories=["tax_rating", "admin_penalty"])
    )
    assert everyone == [
        (code(1), "admin_penalty", "罚〔2026〕1号"),
        (code(1), "tax_rating", "A"),
        (code(2), "tax_rating", "C"),
    ]
    some = list(records.current_data(session, categories=["tax_rating"], subject_codes=[code(2)]))
    assert some == [CurrentData(code(2), "tax_rating", rating(2, "C"), None)]
    with_expired = list(
        records.current_data(
            session, categories=["admin_penalty"], subject_codes=[code(1)], include_expired=True
        )
    )
    assert len(with_expired) == 2


def test_counts_by_category_count_records_not_versions(session: Session, stored: None) -> None:
    assert records.counts_by_category(session) == {"admin_penalty": 2, "tax_rating": 2}


def test_a_version_written_around_store_is_counted_as_an_orphan(
    session: Session, stored: None
) -> None:
    assert records.orphan_versions(session) == 0
    session.execute(
        insert(RecordVersion).values(
            record_id="f" * 32,
            version=1,
            subject_code=code(9),
            category="tax_rating",
            data={},
            digest="0" * 64,
            category_version=1,
            provider="tax",
            created_at=clock.now(),
        )
    )
    assert records.orphan_versions(session) == 1
