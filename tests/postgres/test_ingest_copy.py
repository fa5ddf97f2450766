"""On PostgreSQL the bulk path uses COPY; the result must equal the SQLite path's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.core.db import new_session
from xinyidai.ingest import service
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord, RecordVersion

pytestmark = pytest.mark.postgres


def test_copy_path_stores_records_versions_and_updates(pg_url: str, tmp_path: Path) -> None:
    session = new_session()
    try:
        assert session.get_bind().dialect.name == "postgresql"
        rows = [good_row(n) for n in range(1, 51)]
        rows[10][4] = "2024-02-30"
        first = write(tmp_path / "one", "csv", HEADERS, rows)
        batch = service.ingest_file(
            session, feed=service.FeedFile(first, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (batch.accepted, batch.rejected) == (49, 1)
        changed = [good_row(n, "9.99") for n in range(1, 3)]
        second = write(tmp_path / "two", "csv", HEADERS, changed)
        again = service.ingest_file(
            session, feed=service.FeedFile(second, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (again.accepted, again.updated) == (0, 2)
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == 49
        # The two records that changed left their first versions behind.
        assert session.scalar(select(func.count()).select_from(RecordVersion)) == 2
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.version == 2).limit(1)
        ).one()
        assert record.data["amount"] == "9.99"
        assert record.sources == ["court"]
        history = records.versions_of(session, record_id=record.id)
        assert [v.data["amount"] for v in history] == ["9.99", "1200.50"]
    finally:
        session.close()


def test_records_are_partitioned_by_category(pg_url: str, tmp_path: Path) -> None:
    session = new_session()
    try:
        kind = session.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'credit_record'"))
        assert kind == "p"
        rows = [good_row(n) for n in range(1, 6)]
        path = write(tmp_path / "one", "csv", HEADERS, rows)
        batch = service.ingest_file(
            session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert batch.accepted == 5
        placed = dict(
            session.execute(
                text(
                    "SELECT tableoid::regclass::text, count(*) FROM credit_record GROUP BY tableoid"
                )
            ).all()
        )
        assert placed == {"credit_record_p_court_enforcement": 5}
        # The partition was analyzed when its first rows landed: lookups by id use the key.
        analyzed = session.scalar(
            text(
                "SELECT reltuples FROM pg_class WHERE relname = 'credit_record_p_court_enforcement'"
            )
        )
        assert analyzed == 5
        # A lookup that names the category reads one partition only.
        plan = "\n".join(
            session.execute(
                text(
                    "EXPLAIN SELECT id FROM credit_record "
                    "WHERE category = 'court_enforcement' AND id = 'x'"
                )
            ).scalars()
        )
        assert "credit_record_p_court_enforcement" in plan
        assert "credit_record_p_registration" not in plan
        assert "credit_record_p_default" not in plan
        # Every past version still points at its record through (record_id, category).
        changed = write(tmp_path / "two", "csv", HEADERS, [good_row(1, "9.99")])
        service.ingest_file(
            session, feed=service.FeedFile(changed, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        orphans = records.orphan_versions(session)
        assert orphans == 0
        session.execute(text("DELETE FROM credit_record WHERE category = 'court_enforcement'"))
        assert records.orphan_versions(session) == 1
        session.rollback()
    finally:
        session.close()


def test_a_new_category_gets_its_own_partition(pg_url: str) -> None:
    from xinyidai.catalog import service as catalog
    from xinyidai.core.errors import Conflict, NotFound

    session = new_session()
    try:
        names = {p.name: p.category for p in records.partitions(session)}
        assert names["credit_record_p_default"] is None
        assert names["credit_record_p_court_enforcement"] == "court_enforcement"
        with pytest.raises(Conflict) as already:
            records.add_partition(session, category="court_enforcement")
        assert already.value.field == "category"
        with pytest.raises(NotFound):
            records.add_partition(session, category="no_such_category")
        # A category the catalogue gains later lives in the default partition until it
        # gets its own; with none of its rows there yet, that is one statement.
        honour = catalog.spec_of(catalog.get_by_code_or_raise(session, code="honour"))
        catalog.create(session, spec=honour.model_copy(update={"code": "honour_city"}), actor="t")
        assert "credit_record_p_honour_city" not in {p.name for p in records.partitions(session)}
        added = records.add_partition(session, category="honour_city")
        assert added.name == "credit_record_p_honour_city"
        assert "honour_city" in {p.category for p in records.partitions(session)}
        # Rows that already landed in the default partition are not moved by a command.
        catalog.create(session, spec=honour.model_copy(update={"code": "honour_town"}), actor="t")
        session.execute(
            text(
                "INSERT INTO credit_record (id, category, subject_code, data, digest, "
                "category_version, version, provider, sources, created_at, updated_at, "
                "change_id) "
                "VALUES ('r1', 'honour_town', 'X', '{}', 'd', 1, 1, 'p', '[]', now(), now(), 1)"
            )
        )
        with pytest.raises(Conflict) as waiting:
            records.add_partition(session, category="honour_town")
        assert waiting.value.field == "category"
        assert "1" in str(waiting.value)
        assert "credit_record_p_honour_town" not in {p.name for p in records.partitions(session)}
        session.rollback()
    finally:
        session.close()


def test_partitions_command(pg_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from xinyidai.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["records", "partitions", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {"name": "credit_record_p_default", "category": None, "rows": 0} in json.loads(
        listed.output
    )
    refused = runner.invoke(app, ["records", "partitions", "--add", "tax_rating"])
    assert refused.exit_code != 0
    assert "tax_rating" in refused.output


def test_a_folder_ingested_side_by_side_equals_one_file_at_a_time(
    pg_url: str, tmp_path: Path
) -> None:
    from xinyidai.core.db import get_engine
    from xinyidai.ingest import folder
    from xinyidai.ingest.models import Batch
    from xinyidai.registry.models import Enterprise, SubjectStatus
    from xinyidai.scoring import service as rating  # listens to stored records
    from xinyidai.scoring.models import CreditRating
    from xinyidai.synth import generate

    assert "xinyidai.scoring.service" in records.listener_modules()
    region = tmp_path / "region"
    generate(region, enterprises=150, seed=7)
    feeds = service.feeds_in(region, provider=None, category=None)
    assert folder.workers_for(3) == 3
    seen: list[str] = []
    first = folder.ingest_feeds(
        feeds, actor="t", workers=3, on_done=lambda feed, line: seen.append(line["category"])
    )
    assert sorted(seen) == sorted(f.category for f in feeds)
    assert all(line["state"] == "done" for line in first)
    again = folder.ingest_feeds(feeds, actor="t", workers=1)
    assert sum(line["accepted"] + line["updated"] for line in again) == 0
    assert sum(line["duplicates"] for line in again) == sum(
        line["accepted"] + line["duplicates"] for line in first
    )
    session = new_session()
    try:
        accepted = sum(line["accepted"] for line in first)
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == accepted
        assert session.scalar(select(func.count()).select_from(Batch)) == 2 * len(feeds)
        codes = session.scalars(select(Enterprise.credit_code)).all()
        assert len(codes) == len(set(codes))
        # Whichever file met a subject first, the registration completed it.
        registered = {
            r.subject_code: r.data
            for r in session.scalars(
                select(CreditRecord).where(CreditRecord.category == "registration")
            )
        }
        subjects = {e.credit_code: e for e in session.scalars(select(Enterprise))}
        assert registered
        for subject, data in registered.items():
            assert subjects[subject].status == SubjectStatus.ACTIVE
            assert subjects[subject].name == data["enterprise_name"]
            assert subjects[subject].region_code == data.get("region_code")
        others = {e.status for c, e in subjects.items() if c not in registered}
        assert others <= {SubjectStatus.PENDING}
        assert records.orphan_versions(session) == 0
        # The workers listened as this process does: negative records re-rated on arrival.
        rerated = select(func.count()).where(CreditRating.trigger == rating.TRIGGER_ARRIVAL)
        assert session.scalar(rerated.select_from(CreditRating)) > 0
    finally:
        session.close()
    # The parent's own connection still works after the workers forked from it.
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_failing_file_is_raised_after_the_others_finish(pg_url: str, tmp_path: Path) -> None:
    from xinyidai.core.errors import XydError
    from xinyidai.ingest import folder

    good = write(tmp_path / "good", "csv", HEADERS, [good_row(n) for n in range(1, 4)])
    feeds = [
        service.FeedFile(good, "court", "court_enforcement"),
        service.FeedFile(good, "court", "no_such_category"),
    ]
    with pytest.raises(XydError) as caught:
        folder.ingest_feeds(feeds, actor="t", workers=2)
    assert "no_such_category" in str(caught.value)
    session = new_session()
    try:
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == 3
    finally:
        session.close()


AWKWARD_TEXT = ("tab\there", "line\nbreak", "back\\slash", 'quo"te', "企业\r名称", "\\N", "a\\tb")


def test_copy_lines_keep_text_that_copy_must_escape(pg_url: str, tmp_path: Path) -> None:
    """Values with tabs, newlines, backslashes and quotes arrive in COPY's text format as
    they were sent: the stored data hashes to the digest, and the ledger verifies."""
    from datetime import date

    from xinyidai.ledger import keys
    from xinyidai.ledger import service as ledger
    from xinyidai.ledger.verify import verify_ledger

    keys.create_key()
    rows = [good_row(n) for n in range(1, len(AWKWARD_TEXT) + 1)]
    for row, awkward in zip(rows, AWKWARD_TEXT, strict=True):
        row[1] = f"宁夏{awkward}有限公司"
        row[2] = f"(2024){awkward}号"
    path = write(tmp_path / "awkward", "json", HEADERS, rows)
    session = new_session()
    try:
        batch = service.ingest_file(
            session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (batch.accepted, batch.rejected) == (len(AWKWARD_TEXT), 0)
        stored = session.scalars(select(CreditRecord)).all()
        names = sorted(r.data["enterprise_name"] for r in stored)
        assert names == sorted(f"宁夏{a}有限公司" for a in AWKWARD_TEXT)
        for record in stored:
            assert record.digest == records.data_digest(record.data)
            assert record.sources == ["court"]
            assert record.batch_id == batch.id
            assert record.version == 1
            assert isinstance(record.event_on, date)
            (version,) = records.versions_of(session, record_id=record.id)
            assert version.data == record.data
            assert version.digest == record.digest
        ledger.integrate(session)
        session.commit()
        report = verify_ledger(session)
        assert report.ok, report.problems
    finally:
        session.close()


def test_lookups_by_text_keys_find_exactly_the_keys_named(pg_url: str) -> None:
    """Text keys cross as one string split on the server, unless a key is empty or holds
    the separator: then as an array. Either way a lookup finds exactly what it names."""
    from xinyidai.core.db import lookup_chunks

    session = new_session()
    try:
        keys = ["plain", "", "with\x1fseparator", "逗号,和空格 ", "back\\slash"]
        for key in keys:
            session.execute(
                text(
                    "INSERT INTO credit_record (id, category, subject_code, data, digest, "
                    "category_version, version, provider, sources, created_at, updated_at, "
                    "change_id) "
                    "VALUES (:id, 'honour', 'X', '{}', 'd', 1, 1, 'p', '[]', now(), now(), 1)"
                ),
                {"id": key},
            )

        def found(wanted: list[str]) -> list[str]:
            (condition,) = lookup_chunks(session, CreditRecord.id, wanted)
            return sorted(session.scalars(select(CreditRecord.id).where(condition)))

        assert found(["plain", "逗号,和空格 ", "back\\slash", "absent"]) == sorted(
            ["plain", "逗号,和空格 ", "back\\slash"]
        )
        assert found([""]) == [""]
        assert found(["with\x1fseparator", "plain"]) == sorted(["with\x1fseparator", "plain"])
        assert found(["with", "separator"]) == []
        session.rollback()
    finally:
        session.close()


def test_subject_and_digest_lookups_use_their_hash_indexes(pg_url: str) -> None:
    """Ingest adds an entry per row to each; readers ask them by equality only."""
    from xinyidai.core.db import lookup_chunks, statement_sql

    session = new_session()
    try:
        for category in ("court_enforcement", "tax_payment"):
            session.execute(
                text(
                    "INSERT INTO credit_record (id, category, subject_code, data, digest, "
                    "category_version, version, provider, sources, created_at, updated_at, "
                    "change_id) "
                    "SELECT md5(g::text), :category, 'S' || (g % 500), '{}', 'd', 1, 1, 'p', "
                    "'[]', now(), now(), 1 FROM generate_series(1, 5000) AS g"
                ),
                {"category": category},
            )
            session.execute(text(f"ANALYZE credit_record_p_{category}"))
        session.execute(text("SET LOCAL enable_seqscan = off"))

        def plan(statement: object) -> str:
            sql = statement if isinstance(statement, str) else statement_sql(session, statement)
            return "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())

        one = plan(
            select(CreditRecord.id).where(
                CreditRecord.subject_code == "91640104MA00000011",
                CreditRecord.category == "court_enforcement",
            )
        )
        assert "credit_record_p_court_enforcement_subject_code_idx" in one
        (some,) = lookup_chunks(session, CreditRecord.subject_code, ["A", "B"])
        many = plan(select(CreditRecord.id).where(some, CreditRecord.category == "tax_payment"))
        assert "Bitmap Index Scan on credit_record_p_tax_payment_subject_code_idx" in many
        digest = plan("SELECT idx FROM ledger_entry WHERE digest = '\\x" + "ab" * 32 + "'")
        assert "ix_ledger_entry_digest" in digest
        kinds = dict(
            session.execute(
                text(
                    "SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
                    "WHERE c.relname IN ('ix_ledger_entry_digest', 'ix_credit_record_subject')"
                )
            ).all()
        )
        assert kinds == {"ix_ledger_entry_digest": "hash", "ix_credit_record_subject": "hash"}
        session.rollback()
    finally:
        session.close()


def test_a_registration_completes_a_subject_another_file_is_adding(pg_url: str) -> None:
    """Files go in side by side: a registration may meet a subject that another file's
    uncommitted chunk is adding as a mere mention. It waits for that chunk, then completes
    the subject; neither fails."""
    import threading
    from datetime import date
    from decimal import Decimal

    from tests.ingest.tables import code
    from xinyidai.registry import service as registry
    from xinyidai.registry.models import Enterprise, SubjectStatus

    subject = code(41)
    mention = new_session()
    registration = new_session()
    try:
        registry.sync_subjects(mention, mentions={subject: "别处提到的名称", code(42): "只被提到"})
        assert mention.get_bind().dialect.name == "postgresql"
        done = threading.Event()
        errors: list[BaseException] = []

        def register() -> None:
            try:
                registry.sync_subjects(
                    registration,
                    registrations=[
                        {
                            "credit_code": subject,
                            "name": "登记的名称有限公司",
                            "region_code": "640104",
                            "industry_code": "F5211",
                            "legal_representative": None,  # blank: keeps what is there
                            "registered_capital": Decimal("500000.00"),
                            "established_on": date(2020, 5, 1),
                            "address": "银川市兴庆区",
                        }
                    ],
                )
                registration.commit()
            except BaseException as exc:
                errors.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=register)
        worker.start()
        assert not done.wait(1.0)  # waiting on the mention's uncommitted row
        mention.commit()
        worker.join(30)
        assert not errors
        check = new_session()
        try:
            found = {e.credit_code: e for e in check.scalars(select(Enterprise))}
            assert found[subject].status == SubjectStatus.ACTIVE
            assert found[subject].name == "登记的名称有限公司"
            assert found[subject].registered_capital == Decimal("500000.00")
            assert found[subject].established_on == date(2020, 5, 1)
            assert found[subject].region_code == "640104"
            assert found[code(42)].status == SubjectStatus.PENDING
            assert len(found) == 2
        finally:
            check.close()
    finally:
        mention.close()
        registration.close()


def test_unknown_subjects_are_found_by_the_index_whatever_the_statistics(pg_url: str) -> None:
    """A chunk's lookup of unknown subjects probes the credit-code index key by key: as an
    anti-join the planner, misled by a registry that grew since it was last analyzed,
    hashed every enterprise for every chunk."""
    from sqlalchemy import event

    from tests.ingest.tables import code
    from xinyidai.core.db import missing_keys
    from xinyidai.registry import service as registry
    from xinyidai.registry.models import Enterprise

    session = new_session()
    try:
        registry.sync_subjects(session, mentions={code(n): f"企业{n}" for n in range(1, 51)})
        session.execute(text("ANALYZE enterprise"))  # statistics of 50 enterprises ...
        registry.sync_subjects(session, mentions={code(n): f"企业{n}" for n in range(51, 3001)})
        wanted = [code(n) for n in range(2901, 3101)]  # ... and 3,000 now: 100 known here
        seen: list[tuple[str, object]] = []

        def keep(
            _conn: object, _cursor: object, statement: str, params: object, *_: object
        ) -> None:
            seen.append((statement, params))

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", keep)
        try:
            unknown = missing_keys(session, Enterprise.credit_code, wanted)
        finally:
            event.remove(connection, "before_cursor_execute", keep)
        assert unknown == {code(n) for n in range(3001, 3101)}
        ((statement, params),) = seen
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "uq_enterprise_credit_code" in plan
        assert "Seq Scan on enterprise" not in plan
        assert "Hash" not in plan
        session.rollback()
    finally:
        session.close()
