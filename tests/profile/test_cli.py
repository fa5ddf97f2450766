"""``xyd profile``: the operator's console reads a profile under its duty, as text, JSON or
a PDF, each call one access event; a wrong purpose is refused and the refusal kept."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import LEGAL_REPRESENTATIVE, World, events
from tests.profile.test_api import pdf_text
from xinyidai.cli import app
from xinyidai.registry import creditcode

runner = CliRunner()


def test_the_console_reads_a_profile_as_json_text_and_pdf(
    world: World, session: Session, tmp_path: Path
) -> None:
    shown = runner.invoke(app, ["profile", ENTERPRISE_CODE, "--json"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["identity"]["legal_representative"] == LEGAL_REPRESENTATIVE
    assert body["basis"] == "operator_duty"
    assert body["rating"]["grade"]
    text = runner.invoke(app, ["profile", ENTERPRISE_CODE])
    assert text.exit_code == 0, text.output
    assert "南宁示范科技有限公司" in text.output
    assert "rating" in text.output
    out = tmp_path / "report.pdf"
    written = runner.invoke(app, ["profile", ENTERPRISE_CODE, "--pdf", str(out), "--lang", "en"])
    assert written.exit_code == 0, written.output
    assert "Credit report" in pdf_text(out.read_bytes())
    channels = [e.channel for e in events(session)]
    assert channels == ["cli:profile", "cli:profile", "cli:profile.pdf"]
    assert all(e.actor.startswith("user:console.") for e in events(session))


def test_a_purpose_outside_the_operators_duty_sees_public_data_only(
    world: World, session: Session
) -> None:
    shown = runner.invoke(
        app, ["profile", ENTERPRISE_CODE, "--purpose", "loan_application", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["basis"] == "public"
    assert body["rating"] is None
    assert body["withheld"]["tax_payment"] == "no_basis"
    [event] = events(session)
    assert event.purpose == "loan_application"


def test_a_bad_purpose_is_refused_before_anything_is_read(world: World, session: Session) -> None:
    refused = runner.invoke(app, ["profile", ENTERPRISE_CODE, "--purpose", "gossip"])
    assert refused.exit_code == 1
    assert "(purpose)" in refused.output
    assert events(session) == []


def test_an_unknown_code_is_a_clear_error(world: World, session: Session) -> None:
    unknown = creditcode.make("91450100MA5K00099")
    missing = runner.invoke(app, ["profile", unknown])
    assert missing.exit_code == 1
    assert unknown in missing.output
    malformed = runner.invoke(app, ["profile", "91450100MA5K0009XX"])
    assert malformed.exit_code == 1
    assert "check character" in malformed.output
    assert events(session) == []
