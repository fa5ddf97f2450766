"""A department writes only the categories the catalogue names it the source of.

Replays the attack of a tax office filing a court's dishonest-debtor record (which the bank
then read as the court's word) through every way data comes in — a push, an upload, a
resubmission, a file or a folder at the console — and checks it is refused naming the
court, with nothing stored: no batch, no record, no ledger leaf. The operator moves a
category to another department as a new catalogue version; from then on only that
department writes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE, add_department
from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.catalog import service as catalog_service
from xinyidai.core.errors import Forbidden
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch
from xinyidai.ledger.models import LedgerEntry
from xinyidai.records.models import CreditRecord

Auth = Callable[[str], dict[str, str]]

CATEGORY = "dishonest_debtor"  # a court's category
FAKE = {
    "credit_code": ENTERPRISE_CODE,
    "enterprise_name": "南宁示范科技有限公司",
    "case_number": "(2025)桂0103执999号",
    "published_on": "2025-01-02",
    "region_code": "450100",
    "amount": "50000.00",
}


def _stored(session: Session) -> tuple[int, int, int]:
    """Batches, records and ledger leaves stored so far."""
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Batch, CreditRecord, LedgerEntry)
    )


def _refused_naming_the_court(response: Any) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("not_source_department", "category")
    assert "court" in error["message"]
    assert CATEGORY in error["message"]


def _push(client: TestClient, headers: dict[str, str], rows: list[dict[str, Any]], key: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/ingest/records",
        params={"category": CATEGORY},
        content=json.dumps(rows, ensure_ascii=False),
        headers=headers | {"Idempotency-Key": key, "Content-Type": "application/json"},
    )


def _assign(client: TestClient, auth: Auth, provider: str, note: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/catalog/categories/{CATEGORY}/assign",
        json={"provider": provider, "note": note},
        headers=auth("operator"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_department_cannot_push_another_departments_category(
    client: TestClient, auth: Auth, session: Session
) -> None:
    before = _stored(session)
    response = _push(client, auth("provider-tax"), [FAKE], "fake-court-record")
    _refused_naming_the_court(response)
    assert _stored(session) == before
    # and the bank reads no court record of the enterprise
    records = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": CATEGORY},
        headers=auth("bank"),
    )
    assert records.status_code == 200
    assert records.json() == []


def test_a_department_cannot_upload_another_departments_category(
    client: TestClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    from xinyidai.core.settings import get_settings

    path = tmp_path / "fake.json"
    path.write_text(json.dumps([FAKE], ensure_ascii=False), encoding="utf-8")
    before = _stored(session)
    with path.open("rb") as handle:
        response = client.post(
            "/api/v1/ingest/batches",
            files={"file": (path.name, handle)},
            data={"category": CATEGORY},
            headers=auth("provider-tax"),
        )
    _refused_naming_the_court(response)
    assert _stored(session) == before
    uploads = get_settings().data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_the_operator_reassigns_a_category_and_only_the_new_department_writes_it(
    client: TestClient, auth: Auth, session: Session
) -> None:
    add_department(session, code="court", name="中级人民法院", username="provider-court")
    court = auth("provider-court")
    tax = auth("provider-tax")
    assert _push(client, court, [FAKE], "court-1").status_code == 201

    moved = _assign(client, auth, "tax", "the tax office keeps this list in this test")
    assert (moved["provider"], moved["version"]) == ("tax", 2)
    versions = client.get(f"/api/v1/catalog/categories/{CATEGORY}/versions").json()["items"]
    assert [(v["version"], v["snapshot"]["provider"]) for v in versions] == [
        (2, "tax"),
        (1, "court"),
    ]
    assert versions[0]["note"] == "the tax office keeps this list in this test"

    other = FAKE | {"case_number": "(2025)桂0103执1000号"}
    assert _push(client, tax, [other], "tax-1").status_code == 201
    before = _stored(session)
    refused = _push(client, court, [FAKE | {"case_number": "x-1"}], "court-2")
    assert refused.status_code == 403
    assert "tax" in refused.json()["error"]["message"]
    assert _stored(session) == before


def test_a_resubmission_into_a_category_moved_away_is_refused(
    client: TestClient, auth: Auth, session: Session
) -> None:
    """Fixed rows go into the category of the batch they came from: once the category has
    moved to another department, the department that sent the batch can no longer."""
    _assign(client, auth, "tax", "for a while")
    bad = FAKE | {"published_on": "2025-02-31"}
    batch = _push(client, auth("provider-tax"), [bad], "tax-bad").json()
    assert batch["rejected"] == 1
    rejection = client.get(
        f"/api/v1/ingest/batches/{batch['batch_id']}/rejections", headers=auth("provider-tax")
    ).json()["items"][0]
    _assign(client, auth, "court", "back to the court")
    before = _stored(session)
    response = client.post(
        f"/api/v1/ingest/batches/{batch['batch_id']}/resubmit",
        json={"rows": [FAKE | {"rejection_id": rejection["id"]}]},
        headers=auth("provider-tax"),
    )
    _refused_naming_the_court(response)
    assert _stored(session) == before
    still_open = client.get(
        f"/api/v1/ingest/batches/{batch['batch_id']}/rejections",
        params={"open_only": True},
        headers=auth("provider-tax"),
    ).json()
    assert still_open["total"] == 1


def test_the_service_refuses_whoever_calls_it(session: Session) -> None:
    with pytest.raises(Forbidden) as caught:
        service.push_rows(session, provider="tax", category=CATEGORY, rows=[FAKE], actor="t")
    assert (caught.value.field, caught.value.params["owner"]) == ("category", "court")
    session.rollback()
    assert _stored(session)[:2] == (0, 0)


# ----------------------------------------------------------------------- the console


def test_the_console_refuses_a_file_filed_under_a_department_that_is_not_its_source(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    from xinyidai.cli import app

    path = tmp_path / "fake.jsonl"
    path.write_text(json.dumps(FAKE, ensure_ascii=False) + "\n", encoding="utf-8")
    args = ["ingest", str(path), "--provider", "tax", "--category", CATEGORY]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "supplied by department court" in result.output
    assert _stored(session) == (0, 0, 0)


def test_the_console_refuses_a_folder_whose_manifest_files_a_category_elsewhere(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    """A manifest line naming the wrong department stops the whole folder before any file
    is read, the good files included."""
    from xinyidai.cli import app

    folder = tmp_path / "region"
    folder.mkdir()
    write(folder / "court_enforcement", "csv", HEADERS, [good_row(1)])
    (folder / "fake.jsonl").write_text(json.dumps(FAKE, ensure_ascii=False) + "\n", "utf-8")
    manifest = {
        "feeds": [
            {"path": "court_enforcement.csv", "provider": "court", "category": "court_enforcement"},
            {"path": "fake.jsonl", "provider": "tax", "category": CATEGORY},
        ]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--json"])
    assert result.exit_code != 0
    assert "supplied by department court" in result.output
    assert _stored(session) == (0, 0, 0)


def test_xyd_catalog_assign_makes_a_new_version(db_url: str, session: Session) -> None:
    from xinyidai.cli import app

    result = CliRunner().invoke(app, ["catalog", "assign", CATEGORY, "tax", "--note", "moved"])
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output
    category = catalog_service.get_by_code_or_raise(session, code=CATEGORY)
    assert (category.provider, category.version) == ("tax", 2)
    [latest, first] = catalog_service.versions(session, code=CATEGORY)
    assert (latest.snapshot["provider"], latest.note, latest.changed_by) == ("tax", "moved", "cli")
    assert first.snapshot["provider"] == "court"
    bad = CliRunner().invoke(app, ["catalog", "assign", CATEGORY, "Not A Code"])
    assert bad.exit_code != 0
    assert "(provider)" in bad.output
