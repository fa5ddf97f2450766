"""``xyd risk blacklist``: the operator at the console lists, reviews, decides, removes and
expires; a refused step names the field and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth
from tests.risk.blacklist_world import counts, defaulted_loan
from xinyidai.cli import app
from xinyidai.core import clock

runner = CliRunner()


def test_the_console_walks_a_listing_through_its_process(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = client.post(
        "/api/v1/risk/blacklist",
        json={
            "credit_code": ENTERPRISE_CODE,
            "basis": "default",
            "loan_id": loan["id"],
            "reason": "逾期",
            "term_days": 10,
        },
        headers=auth("bank"),
    ).json()
    evidence = client.post(
        f"/api/v1/risk/blacklist/{listing['id']}/evidence",
        files=[("files", ("合同.pdf", b"%PDF-1.7 contract", "application/pdf"))],
        headers=auth("bank"),
    )
    assert evidence.status_code == 200, evidence.text
    assert [d["role"] for d in evidence.json()["documents"]] == ["evidence"]
    shown = runner.invoke(app, ["risk", "blacklist", "list", "--state", "proposed", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [item["id"] for item in json.loads(shown.stdout)["items"]] == [listing["id"]]

    before = counts(session)
    refused = runner.invoke(app, ["risk", "blacklist", "decide", listing["id"], "list"])
    assert refused.exit_code != 0
    assert "state" in refused.output
    assert counts(session) == before
    unknown = runner.invoke(app, ["risk", "blacklist", "review", "bl_nope", "notice"])
    assert unknown.exit_code != 0
    assert "listing_id" in unknown.output

    noticed = runner.invoke(app, ["risk", "blacklist", "review", listing["id"], "notice"])
    assert noticed.exit_code == 0, noticed.output
    assert "notice" in noticed.output
    with clock.frozen_at(clock.now() + timedelta(days=16)):
        listed = runner.invoke(app, ["risk", "blacklist", "decide", listing["id"], "list"])
        assert listed.exit_code == 0, listed.output
    with clock.frozen_at(clock.now() + timedelta(days=27)):
        expired = runner.invoke(app, ["risk", "blacklist", "expire"])
        assert expired.exit_code == 0, expired.output
        assert "1 listings expired" in expired.output
    seen = client.get(f"/api/v1/risk/blacklist/{listing['id']}", headers=auth("operator")).json()
    assert [s["transition"] for s in seen["history"]] == ["propose", "notice", "list", "expire"]
