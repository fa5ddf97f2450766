"""``xyd sharing``: the operator at the console lists schemes, pools and claims, moves a
claim, tops a pool up and writes its statement; a refused step names the field and changes
nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.market.conftest import Auth
from tests.sharing.conftest import (
    at,
    create_pool,
    create_scheme,
    declare_default,
    disbursed_loan,
    file_claim,
    later,
    scheme_payload,
)
from xinyidai.cli import app
from xinyidai.core import clock

runner = CliRunner()


def test_the_console_moves_a_claim_and_writes_a_pool_statement(
    client: TestClient, auth: Auth, scheme: dict[str, Any], tmp_path: Path
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
    listed = runner.invoke(app, ["sharing", "claims", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [item["id"] for item in json.loads(listed.output)["items"]] == [claim["id"]]
    refused = runner.invoke(app, ["sharing", "claim", claim["id"], "reject"])
    assert refused.exit_code != 0
    assert "reason" in refused.output
    assert (
        client.get(f"/api/v1/sharing/claims/{claim['id']}", headers=auth("operator")).json()[
            "state"
        ]
        == "filed"
    )
    rejected = runner.invoke(
        app, ["sharing", "claim", claim["id"], "reject", "--reason", "材料不全"]
    )
    assert rejected.exit_code == 0, rejected.output
    assert "rejected" in rejected.output

    pool_id = scheme["pool"]["id"]
    topped = runner.invoke(app, ["sharing", "top-up", pool_id, "500.00", "--note", "=SUM(A1:A9)"])
    assert topped.exit_code == 0, topped.output
    pools = json.loads(runner.invoke(app, ["sharing", "pools", "--json"]).output)
    assert pools[0]["balance"] == "1000500.00"
    today = clock.today().isoformat()
    csv_path, xlsx_path = tmp_path / "pool.csv", tmp_path / "pool.xlsx"
    for path in (csv_path, xlsx_path):
        written = runner.invoke(
            app,
            ["sharing", "statement", pool_id, "--start", today, "--end", today, "--out", str(path)],
        )
        assert written.exit_code == 0, written.output
    text = csv_path.read_text(encoding="utf-8")
    assert "top_up" in text
    assert "'=SUM(A1:A9)" in text
    sheet = load_workbook(xlsx_path).active
    notes = [row[5] for row in sheet.iter_rows(values_only=True)]
    assert "=SUM(A1:A9)" in notes  # kept as text, never a formula
    assert sheet.cell(row=2, column=5).data_type == "n"


def test_the_console_creates_a_scheme_and_a_pool(
    client: TestClient, auth: Auth, guarantor: str, tmp_path: Path
) -> None:
    path = tmp_path / "scheme.json"
    body = scheme_payload(guarantor)
    path.write_text(json.dumps(body), encoding="utf-8")
    made = runner.invoke(app, ["sharing", "scheme-create", str(path), "--activate"])
    assert made.exit_code == 0, made.output
    assert "active" in made.output
    body["parties"][0]["share"] = "41"
    path.write_text(json.dumps(body), encoding="utf-8")
    wrong = runner.invoke(app, ["sharing", "scheme-create", str(path)])
    assert wrong.exit_code != 0
    assert "parties" in wrong.output
    listed = json.loads(runner.invoke(app, ["sharing", "schemes", "--json"]).output)
    assert listed["total"] == 1
    pool = runner.invoke(
        app, ["sharing", "pool-create", "450000", "广西资金池", "--floor", "1000.00"]
    )
    assert pool.exit_code == 0, pool.output
    again = runner.invoke(app, ["sharing", "pool-create", "450000", "重复"])
    assert again.exit_code != 0
    assert "region_code" in again.output


def test_schemes_past_their_validity_are_closed_and_loans_keep_them(
    client: TestClient, auth: Auth, guarantor: str
) -> None:
    create_pool(client, auth)
    ending = create_scheme(client, auth, guarantor, valid_to=clock.today().isoformat())
    loan = disbursed_loan(client, auth)
    with clock.frozen_at(clock.now() + timedelta(days=2)):
        closed = runner.invoke(app, ["sharing", "expire"])
    assert closed.exit_code == 0, closed.output
    assert "1 schemes closed" in closed.output
    shown = client.get(f"/api/v1/sharing/schemes/{ending['id']}", headers=auth("operator")).json()
    assert shown["state"] == "closed"
    assert shown["state_reason"].startswith("valid to")
    kept = client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank")).json()
    assert kept["scheme_id"] == ending["id"]
