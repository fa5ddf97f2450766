"""Objections through the real app: filed by the enterprise, answered by the source
department (a correction is its new version of the record), marked in every view while
open, each step a ledger leaf and a notice; and the bad input that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World
from tests.rights.conftest import PDF, file_objection, move, record_of
from tests.rights.test_pages import Portal, portal
from xinyidai.core import clock
from xinyidai.ledger.models import LedgerEntry
from xinyidai.records.models import RecordMark
from xinyidai.rights.models import Document, Notice, Objection, OutboxEntry
from xinyidai.rights.service import objections, outbox
from xinyidai.scoring.service import rate_subjects

Auth = Callable[[str], dict[str, str]]

__all__ = ["portal"]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _marks(client: TestClient, auth: Auth, category: str) -> list[list[str]]:
    profile = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("enterprise")
    )
    assert profile.status_code == 200, profile.text
    sections = {s["category"]: s for s in profile.json()["report"]["sections"]}
    return [r["marks"] for r in sections[category]["records"]]


def test_department_corrects_a_field_and_every_step_is_recorded(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    leaves_before = _count(session, LedgerEntry)
    filed = file_objection(client, auth("enterprise"), record_id=record.id)
    assert filed["state"] == "submitted"
    assert filed["handler"] == "department"
    assert filed["department"] == "tax"
    assert filed["due_on"] == (clock.today() + timedelta(days=20)).isoformat()
    assert [d["content_type"] for d in filed["documents"]] == ["application/pdf"]

    # while open, the record is marked in the enterprise's profile and report
    assert _marks(client, auth, "tax_rating") == [["objection"]]
    # the department's inbox has it; the other department does not see it
    inbox = client.get("/api/v1/rights/objections", headers=auth("provider-tax")).json()
    assert [o["id"] for o in inbox["items"]] == [filed["id"]]
    assert (
        client.get("/api/v1/rights/objections", headers=auth("provider-market")).json()["total"]
        == 0
    )

    oid = filed["id"]
    move(client, auth("provider-tax"), oid, "accept")
    move(client, auth("provider-tax"), oid, "verify")
    done = move(client, auth("provider-tax"), oid, "correct", data={"grade": "B"})
    assert done["state"] == "corrected"
    assert done["corrected_version"] == record.version + 1
    corrected = record_of(session, "tax_rating")
    assert corrected.data["grade"] == "B"
    assert corrected.provider == "tax"
    assert _marks(client, auth, "tax_rating") == [[]]

    closed = move(client, auth("enterprise"), oid, "close")
    assert [s["transition"] for s in closed["history"]] == [
        "submit",
        "accept",
        "verify",
        "correct",
        "close",
    ]
    # each step a leaf of the ledger (the correction's record version one more)
    assert _count(session, LedgerEntry) >= leaves_before + 6
    notices = client.get("/api/v1/rights/notices", headers=auth("enterprise")).json()
    assert notices["total"] == 5
    said = [notice["message"] for notice in notices["items"]]
    assert f"异议 {oid} 当前状态：已更正" in said, said  # the state by its label, in Chinese
    assert not any("corrected" in message for message in said)
    english = client.get(
        "/api/v1/rights/notices", headers=auth("enterprise") | {"Accept-Language": "en"}
    ).json()
    assert f"Objection {oid} is now Corrected" in [n["message"] for n in english["items"]]
    entries = outbox.entries_after(session, after=0)
    assert [e.payload["objection"] for e in entries] == [oid]
    assert entries[0].payload["version"] == corrected.version


def test_operator_answers_a_rating_objection_and_sees_the_figures(
    client: TestClient, auth: Auth, world: World, session: Session, portal: Portal
) -> None:
    rate_subjects(session, credit_codes=[ENTERPRISE_CODE])
    session.commit()
    rating_url = f"/api/v1/enterprises/{ENTERPRISE_CODE}/rating"
    assert client.get(rating_url, headers=auth("enterprise")).json()["marks"] == []
    filed = file_objection(client, auth("enterprise"), target="rating", field=None)
    assert filed["handler"] == "operator"
    assert filed["department"] is None
    # while it is handled the rating says so, in the API and on the rating card
    assert client.get(rating_url, headers=auth("enterprise")).json()["marks"] == ["objection"]
    card = portal("enterprise").get("/dashboard").text
    assert 'data-testid="rating-objection-mark">异议处理中<' in card
    move(client, auth("operator"), filed["id"], "accept")
    move(client, auth("operator"), filed["id"], "verify")
    upheld = move(client, auth("operator"), filed["id"], "uphold", reason="评级依据无误")
    assert upheld["state"] == "upheld"
    assert client.get(rating_url, headers=auth("enterprise")).json()["marks"] == []
    assert "rating-objection-mark" not in portal("enterprise").get("/dashboard").text
    assert upheld["state_reason"] == "评级依据无误"
    figures = client.get("/api/v1/rights/figures", headers=auth("operator")).json()
    assert figures["answered"] == 1
    assert figures["on_time_rate"] == 1.0
    assert client.get("/api/v1/rights/figures", headers=auth("enterprise")).status_code == 403


def test_overdue_objection_is_flagged_and_counted_late(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    with clock.frozen_at(datetime.now(UTC) - timedelta(days=25)):
        filed = file_objection(client, auth("enterprise"), record_id=record.id)
    late = client.get("/api/v1/rights/objections?overdue=true", headers=auth("operator")).json()
    assert [o["id"] for o in late["items"]] == [filed["id"]]
    assert late["items"][0]["overdue"] is True
    assert [o.public_id for o in objections.overdue(session)] == [filed["id"]]
    assert objections.figures(session).overdue == 1
    # the reminder goes once to the department
    assert objections.remind_due(session) == 1
    assert objections.remind_due(session) == 0
    session.commit()
    move(client, auth("provider-tax"), filed["id"], "decline", reason="不属于本部门职责")
    by = {f.handler: f for f in objections.figures(session).by_handler}
    assert by["tax"].answered == 1
    assert by["tax"].answered_on_time == 0
    assert by["tax"].on_time_rate == 0.0


# --------------------------------------------------------------------------- bad input


def _nothing_filed(session: Session) -> None:
    assert _count(session, Objection) == 0
    assert _count(session, Document) == 0
    assert _count(session, RecordMark) == 0
    assert _count(session, Notice) == 0


def test_objection_on_someone_elses_record_is_not_found(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    theirs = record_of(session, "tax_rating", OTHER_CODE)
    answer = client.post(
        "/api/v1/rights/objections",
        data={
            "target": "field",
            "record_id": theirs.id,
            "field": "grade",
            "wrong": "x",
            "correction_asked": "y",
        },
        headers=auth("enterprise"),
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["field"] == "record_id"
    _nothing_filed(session)


def test_second_open_objection_on_the_same_field_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    first = file_objection(client, auth("enterprise"), record_id=record.id)
    before = (_count(session, Objection), _count(session, Document), _count(session, Notice))
    answer = file_objection(client, auth("enterprise"), record_id=record.id, expect=409)
    assert answer["error"]["field"] == "field"
    assert first["id"] in answer["error"]["message"]
    assert (
        _count(session, Objection),
        _count(session, Document),
        _count(session, Notice),
    ) == before
    # another field of the same record is a separate objection
    file_objection(client, auth("enterprise"), record_id=record.id, field="year")


def test_attachment_too_large_or_of_a_forbidden_type_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env
) -> None:
    record = record_of(session, "tax_rating")
    xyd_env(XYD_RIGHTS_MAX_DOCUMENT_MB="1")
    big = PDF + b"0" * (1024 * 1024)
    answer = file_objection(
        client,
        auth("enterprise"),
        record_id=record.id,
        files=[("files", ("big.pdf", big, "application/pdf"))],
        expect=413,
    )
    assert answer["error"]["field"] == "files"
    assert "big.pdf" in answer["error"]["message"]
    # an executable declared as a PDF: the bytes decide
    answer = file_objection(
        client,
        auth("enterprise"),
        record_id=record.id,
        files=[("files", ("proof.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))],
        expect=422,
    )
    assert answer["error"]["field"] == "files"
    assert "proof.pdf" in answer["error"]["message"]
    _nothing_filed(session)


def test_decision_by_a_department_that_is_not_the_source_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    filed = file_objection(client, auth("enterprise"), record_id=record.id)
    # provider-market cannot even see it: the same answer as for no objection
    answer = move(client, auth("provider-market"), filed["id"], "accept", expect=404)
    assert answer["error"]["field"] == "objection_id"
    # the operator may not answer for the department before it is escalated
    answer = move(client, auth("operator"), filed["id"], "accept", expect=403)
    assert answer["error"]["field"] == "objection_id"
    session.expire_all()
    row = objections.get(session, objection_id=filed["id"])
    assert row is not None
    assert row.state == "submitted"
    assert len(objections.OBJECTIONS.history(session, row)) == 1


def test_bad_correction_changes_nothing(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    filed = file_objection(client, auth("enterprise"), record_id=record.id)
    move(client, auth("provider-tax"), filed["id"], "accept")
    move(client, auth("provider-tax"), filed["id"], "verify")
    answer = move(
        client, auth("provider-tax"), filed["id"], "correct", data={"grade": "Z"}, expect=422
    )
    assert answer["error"]["field"] == "grade"
    answer = move(client, auth("provider-tax"), filed["id"], "correct", expect=422)
    assert answer["error"]["field"] == "data"
    again = record_of(session, "tax_rating")
    assert (again.version, again.data) == (record.version, record.data)
    assert _count(session, OutboxEntry) == 0
    assert objections.get(session, objection_id=filed["id"]).state == "verifying"  # type: ignore[union-attr]


def test_the_command_line_lists_overdue_objections_and_decides(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    import json

    from typer.testing import CliRunner

    from xinyidai import cli

    record = record_of(session, "tax_rating")
    with clock.frozen_at(datetime.now(UTC) - timedelta(days=21)):
        late = file_objection(client, auth("enterprise"), record_id=record.id)
    rating = file_objection(client, auth("enterprise"), target="rating", field=None)
    runner = CliRunner()
    listed = runner.invoke(cli.app, ["rights", "overdue", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [o["id"] for o in json.loads(listed.output)["items"]] == [late["id"]]
    decided = runner.invoke(cli.app, ["rights", "decide", rating["id"], "accept"])
    assert decided.exit_code == 0, decided.output
    assert "accepted" in decided.output
    refused = runner.invoke(cli.app, ["rights", "decide", late["id"], "accept"])
    assert refused.exit_code != 0
    session.expire_all()
    assert objections.get(session, objection_id=late["id"]).state == "submitted"  # type: ignore[union-attr]
    figures = runner.invoke(cli.app, ["rights", "figures", "--json"])
    assert json.loads(figures.output)["overdue"] == 1
