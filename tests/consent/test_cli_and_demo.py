"""``xyd consent``, ``xyd audit``, ``xyd privacy``, ``xyd records show`` through the decision,
and the demo's consent story."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, count, events, grant
from xinyidai.audit.models import AccessEvent
from xinyidai.cli import app
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.core import clock

runner = CliRunner()


def test_records_show_is_an_access_event_of_the_console(world: World, session: Session) -> None:
    result = runner.invoke(app, ["records", "show", ENTERPRISE_CODE, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    [event] = events(session)
    assert body["access_event"] == event.public_id
    assert (event.basis, event.purpose, event.channel) == (
        "operator_duty",
        "supervision",
        "cli:records",
    )
    assert event.actor.startswith("user:console.")
    assert event.organization_kind == "operator"
    refused = runner.invoke(
        app,
        [
            "records",
            "show",
            ENTERPRISE_CODE,
            "--purpose",
            "loan_application",
            "--category",
            "tax_payment",
        ],
    )
    assert refused.exit_code == 1
    assert "nothing entitles" in refused.output
    assert [e.outcome for e in events(session)] == ["allow", "deny"]  # the refusal was kept


def test_consent_commands(world: World, session: Session, tmp_path: Path) -> None:
    shown = runner.invoke(app, ["consent", "commitment", "--json"])
    assert json.loads(shown.stdout)["version"] == 1
    text = tmp_path / "commitment.txt"
    text.write_text("信用承诺书\n第二版正文", encoding="utf-8")
    published = runner.invoke(app, ["consent", "commitment", "--publish", str(text), "--json"])
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["version"] == 2
    letter = grant(session, world, valid_until=clock.now() + timedelta(hours=1))
    listed = json.loads(runner.invoke(app, ["consent", "letters", "--json"]).stdout)
    assert [item["id"] for item in listed["items"]] == [letter.public_id]
    with clock.frozen_at(clock.now() + timedelta(hours=2)):
        expired = runner.invoke(app, ["consent", "expire"])
    assert "1 letters expired" in expired.output
    session.refresh(letter)
    assert letter.state == "expired"


def test_audit_and_privacy_commands(world: World, session: Session, tmp_path: Path) -> None:
    runner.invoke(app, ["records", "show", ENTERPRISE_CODE])
    target = tmp_path / "events.csv"
    exported = runner.invoke(app, ["audit", "events", "--csv", str(target), "--outcome", "allow"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert [r["channel"] for r in rows] == ["cli:records"]
    bad = runner.invoke(app, ["audit", "events", "--from", "2026-02-30"])
    assert bad.exit_code != 0
    counts = json.loads(runner.invoke(app, ["audit", "counts"]).stdout)
    assert counts["total"] == 1
    rules = runner.invoke(app, ["privacy", "rules"])
    assert json.loads(rules.stdout)["types"]["id_card"]["method"] == "mask"
    grades = json.loads(runner.invoke(app, ["privacy", "grades", "--json"]).stdout)
    registration = next(g for g in grades if g["code"] == "registration")
    person = next(f for f in registration["fields"] if f["name"] == "legal_representative")
    assert (person["grade"], person["method"], person["published"]) == ("public", "mask_name", True)


def test_the_demo_story_is_told_once(world: World, session: Session) -> None:
    enterprise = world.principal(session, "enterprise")
    bank = world.principal(session, "bank")
    first = consent_service.ensure_demo_consent(session, enterprise=enterprise, bank=bank)
    session.commit()
    assert first.created
    letter = consent_service.get_or_raise(session, letter_id=first.letter_id)
    assert (letter.state, letter.queries_used, letter.grantee_id) == ("active", 1, world.bank_id)
    logged = count(session, AccessEvent)
    assert logged == first.events
    again = consent_service.ensure_demo_consent(session, enterprise=enterprise, bank=bank)
    session.commit()
    assert (again.created, again.letter_id) == (False, first.letter_id)
    assert count(session, AccessEvent) == logged
    assert count(session, AuthorizationLetter) == 1
