"""Ingestion through the API: uploads, pushes with idempotency, rejections, quality, verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import add_department
from tests.conftest import XydEnv
from tests.ingest.tables import HEADERS, code, good_row, write
from xinyidai.records.models import CreditRecord, RecordVersion

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def court(auth: Auth, session: Session) -> Auth:
    """A court department (the source of court enforcement), signed in as its admin."""
    add_department(session, code="court", name="中级人民法院", username="provider-court")
    return auth


@pytest.fixture
def provider_key(client: TestClient, court: Auth) -> dict[str, str]:
    """An `ingest:write` API key of the court department."""
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "court system", "scopes": ["ingest:write"]},
        headers=court("provider-court"),
    )
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


def _records(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(CreditRecord)) or 0)


def _upload(
    client: TestClient, key: dict[str, str], path: Path, category: str = "court_enforcement"
):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(
            "/api/v1/ingest/batches",
            files={"file": (path.name, handle)},
            data={"category": category},
            headers=key,
        )


def test_upload_stores_good_rows_and_lists_rejections(
    client: TestClient, provider_key: dict[str, str], session: Session, tmp_path: Path
) -> None:
    rows = [good_row(n) for n in range(1, 5)]
    rows[1][5] = "-3.00"
    response = _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, rows))
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["provider"], batch["total"], batch["accepted"], batch["rejected"]) == (
        "court",
        4,
        3,
        1,
    )
    listed = client.get(
        f"/api/v1/ingest/batches/{batch['batch_id']}/rejections", headers=provider_key
    ).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["position"], item["field"]) == (3, "amount")
    # The reason in the caller's language (Chinese by default), the field by its label;
    # the fault as stored keeps its English message id and values.
    assert not item["reason"].isascii()
    assert item["problems"][0]["field"] == "执行标的"
    assert item["problems"][0]["reason"] == item["reason"]
    assert item["errors"][0]["field"] == "amount"
    english = client.get(
        f"/api/v1/ingest/batches/{batch['batch_id']}/rejections",
        headers={**provider_key, "Accept-Language": "en"},
    ).json()["items"][0]
    assert english["reason"].isascii()
    assert english["problems"][0]["field"] != "执行标的"
    assert _records(session) == 3


def test_rejections_download_as_csv_and_resubmit_fixes_them(
    client: TestClient, provider_key: dict[str, str], session: Session, tmp_path: Path
) -> None:
    rows = [good_row(n) for n in range(1, 4)]
    rows[2][4] = "2024-02-31"
    batch = _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, rows)).json()
    url = f"/api/v1/ingest/batches/{batch['batch_id']}/rejections"
    download = client.get(url, params={"format": "csv"}, headers=provider_key)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("rejection_id,position,field,reason,")
    assert "2024-02-31" in lines[1]
    assert not lines[1].split(",")[3].isascii()  # the reason in the caller's language
    rejection = client.get(url, headers=provider_key).json()["items"][0]
    fixed = dict(rejection["raw"]) | {"立案日期": "2024-02-28", "rejection_id": rejection["id"]}
    again = client.post(
        f"/api/v1/ingest/batches/{batch['batch_id']}/resubmit",
        json={"rows": [fixed]},
        headers=provider_key,
    )
    assert again.status_code == 201, again.text
    assert (again.json()["accepted"], again.json()["parent_batch_id"]) == (1, batch["batch_id"])
    still_open = client.get(url, params={"open_only": True}, headers=provider_key).json()
    assert still_open["total"] == 0
    assert _records(session) == 3


def test_resubmitting_an_unknown_rejection_is_refused_and_stores_nothing(
    client: TestClient, provider_key: dict[str, str], session: Session, tmp_path: Path
) -> None:
    batch = _upload(client, provider_key, write(tmp_path / "f", "csv", HEADERS, [good_row(1)]))
    before = _records(session)
    response = client.post(
        f"/api/v1/ingest/batches/{batch.json()['batch_id']}/resubmit",
        json={"rows": [{"rejection_id": 999999, "案号": "x"}]},
        headers=provider_key,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "rejection_id"
    assert _records(session) == before


def test_push_with_the_same_key_and_body_stores_once(
    client: TestClient, provider_key: dict[str, str], session: Session
) -> None:
    body = json.dumps([dict(zip(HEADERS, good_row(1), strict=True))], ensure_ascii=False)
    headers = provider_key | {"Idempotency-Key": "push-1", "Content-Type": "application/json"}
    params = {"category": "court_enforcement"}
    first = client.post("/api/v1/ingest/records", params=params, content=body, headers=headers)
    second = client.post("/api/v1/ingest/records", params=params, content=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _records(session) == 1
    assert int(session.scalar(select(func.count()).select_from(RecordVersion)) or 0) == 0


def test_push_with_the_same_key_and_another_body_conflicts(
    client: TestClient, provider_key: dict[str, str], session: Session
) -> None:
    headers = provider_key | {"Idempotency-Key": "push-2", "Content-Type": "application/json"}
    params = {"category": "court_enforcement"}
    one = json.dumps([dict(zip(HEADERS, good_row(1), strict=True))], ensure_ascii=False)
    two = json.dumps([dict(zip(HEADERS, good_row(2), strict=True))], ensure_ascii=False)
    assert (
        client.post(
            "/api/v1/ingest/records", params=params, content=one, headers=headers
        ).status_code
        == 201
    )
    response = client.post("/api/v1/ingest/records", params=params, content=two, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert _records(session) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [("{not json", "body"), ('{"a": 1}', "body"), ("[]", "body"), ("[1, 2]", "body")],
)
def test_push_of_a_bad_body_is_refused_and_stores_nothing(
    client: TestClient, provider_key: dict[str, str], session: Session, body: str, field: str
) -> None:
    headers = provider_key | {
        "Idempotency-Key": f"bad-{hash(body)}",
        "Content-Type": "application/json",
    }
    response = client.post(
        "/api/v1/ingest/records",
        params={"category": "court_enforcement"},
        content=body,
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert _records(session) == 0


def test_push_without_an_idempotency_key_is_refused(
    client: TestClient, provider_key: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/ingest/records",
        params={"category": "court_enforcement"},
        json=[dict(zip(HEADERS, good_row(1), strict=True))],
        headers=provider_key,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"


def test_a_wrong_or_revoked_provider_key_is_refused(
    client: TestClient, provider_key: dict[str, str], auth: Auth, session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    wrong = _upload(client, {"X-API-Key": "xyd_nope_notakey"}, path)
    assert wrong.status_code == 401
    keys = client.get("/api/v1/api-keys", headers=auth("provider-court")).json()["items"]
    client.delete(f"/api/v1/api-keys/{keys[0]['public_id']}", headers=auth("provider-court"))
    revoked = _upload(client, provider_key, path)
    assert revoked.status_code == 401
    assert _records(session) == 0


def test_an_institution_cannot_upload(client: TestClient, auth: Auth, tmp_path: Path) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    response = _upload(client, auth("bank"), path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_upload_of_an_unsupported_format_is_refused_by_the_file_field(
    client: TestClient, provider_key: dict[str, str], session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")
    response = _upload(client, provider_key, path)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    assert _records(session) == 0


def test_an_upload_for_an_unknown_category_keeps_no_file(
    client: TestClient, provider_key: dict[str, str], tmp_path: Path
) -> None:
    from xinyidai.core.settings import get_settings

    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    response = _upload(client, provider_key, path, category="no_such_category")
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "category"
    assert not any((get_settings().data_dir / "uploads").iterdir())


def test_an_oversize_upload_is_refused_and_nothing_is_kept(
    client: TestClient,
    provider_key: dict[str, str],
    session: Session,
    tmp_path: Path,
    xyd_env: XydEnv,
) -> None:
    from xinyidai.core.settings import get_settings

    xyd_env(XYD_MAX_UPLOAD_MB="1")
    big = tmp_path / "big.csv"
    big.write_bytes(("统一社会信用代码,案号\n" + "x,y\n" * 400_000).encode())
    response = _upload(client, provider_key, big)
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "file"
    uploads = get_settings().data_dir / "uploads"
    assert not any(uploads.iterdir())
    assert _records(session) == 0


def test_a_large_upload_runs_as_a_job_with_progress(
    client: TestClient,
    provider_key: dict[str, str],
    auth: Auth,
    session: Session,
    tmp_path: Path,
    xyd_env: XydEnv,
) -> None:
    xyd_env(XYD_INLINE_UPLOAD_KB="0")
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 30)])
    response = _upload(client, provider_key, path)
    assert response.status_code == 202
    batch = client.get(
        f"/api/v1/ingest/batches/{response.json()['batch_id']}", headers=provider_key
    ).json()
    assert (batch["state"], batch["accepted"]) == ("done", 29)
    job = client.get(f"/api/v1/jobs/{batch['job_id']}", headers=auth("operator")).json()
    assert (job["state"], job["done"], job["total"]) == ("succeeded", 29, 29)
    assert job["result"]["accepted"] == 29


def test_quality_figures_per_provider_and_category(
    client: TestClient, provider_key: dict[str, str], auth: Auth, tmp_path: Path
) -> None:
    rows = [good_row(n) for n in range(1, 5)]
    rows[0][2] = ""
    _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, rows))
    figures = client.get("/api/v1/ingest/quality", headers=auth("operator")).json()
    mine = next(f for f in figures if f["category"] == "court_enforcement")
    assert (mine["provider"], mine["total"], mine["rejected"]) == ("court", 4, 1)
    assert mine["completeness"] == 0.75
    assert mine["validity"] == 0.75
    assert mine["timely"] is True
    assert client.get("/api/v1/ingest/quality", headers=auth("bank")).status_code == 403


def test_verify_answers_yes_or_no_without_the_record(
    client: TestClient, provider_key: dict[str, str], auth: Auth, tmp_path: Path
) -> None:
    _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, [good_row(1)]))
    ask = {"credit_code": code(1), "category": "court_enforcement"}
    has = client.post("/api/v1/verify", json=ask | {"op": "exists"}, headers=auth("bank")).json()
    assert has == {
        "credit_code": code(1),
        "category": "court_enforcement",
        "op": "exists",
        "field": None,
        "holds": True,
    }
    none = client.post(
        "/api/v1/verify",
        json=ask | {"credit_code": code(2), "op": "not_exists"},
        headers=auth("bank"),
    ).json()
    assert none["holds"] is True
    big = client.post(
        "/api/v1/verify",
        json=ask | {"op": "gt", "field": "amount", "value": "1000"},
        headers=auth("bank"),
    ).json()
    assert big["holds"] is True
    bad = client.post(
        "/api/v1/verify", json=ask | {"op": "eq", "field": "nope", "value": 1}, headers=auth("bank")
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "field"


def test_enterprise_reads_its_own_records_and_only_public_ones_of_others(
    client: TestClient, provider_key: dict[str, str], auth: Auth, tmp_path: Path
) -> None:
    from tests.accounts import ENTERPRISE_CODE

    row = good_row(1)
    row[0] = ENTERPRISE_CODE
    _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, [row, good_row(2)]))
    own = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/records", headers=auth("enterprise"))
    assert own.status_code == 200
    assert [g["category"] for g in own.json()] == ["court_enforcement"]
    other = client.get(f"/api/v1/enterprises/{code(2)}/records", headers=auth("enterprise"))
    assert other.status_code == 200  # court enforcement is public: anyone may read it
    assert [g["category"] for g in other.json()] == ["court_enforcement"]
    private = client.get(
        f"/api/v1/enterprises/{code(2)}/records",
        params={"category": "tax_payment"},
        headers=auth("enterprise"),
    )
    assert private.status_code == 403
    assert private.json()["error"]["field"] == "category"
    operator = client.get(f"/api/v1/enterprises/{code(2)}/records", headers=auth("operator"))
    assert operator.status_code == 200


def test_operator_searches_enterprises_paged(
    client: TestClient, provider_key: dict[str, str], auth: Auth, tmp_path: Path
) -> None:
    _upload(
        client,
        provider_key,
        write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 6)]),
    )
    page = client.get(
        "/api/v1/enterprises", params={"q": "宁夏测试", "size": 2}, headers=auth("operator")
    ).json()
    assert (page["total"], page["size"], len(page["items"])) == (5, 2, 2)
    assert client.get("/api/v1/enterprises", headers=auth("bank")).status_code == 403


def test_operator_edits_the_catalogue_and_others_cannot(client: TestClient, auth: Auth) -> None:
    spec = client.get("/api/v1/catalog/categories/honour").json()
    change = {
        k: spec[k]
        for k in (
            "code",
            "name_zh",
            "name_en",
            "group",
            "provider",
            "sharing_type",
            "sensitivity",
            "update_frequency",
            "disclosure_days",
            "polarity",
            "key_fields",
            "fields",
        )
    } | {"name_en": "Honours and awards", "note": "clearer"}
    denied = client.put("/api/v1/catalog/categories/honour", json=change, headers=auth("bank"))
    assert denied.status_code == 403
    done = client.put("/api/v1/catalog/categories/honour", json=change, headers=auth("operator"))
    assert done.status_code == 200, done.text
    assert (done.json()["version"], done.json()["name_en"]) == (2, "Honours and awards")
    bad = client.put(
        "/api/v1/catalog/categories/honour",
        json=change | {"key_fields": ["missing_field"]},
        headers=auth("operator"),
    )
    assert bad.status_code == 422
    assert client.get("/api/v1/catalog/categories/honour").json()["version"] == 2


def test_an_identity_number_with_an_impossible_birth_date_is_quarantined(
    client: TestClient, auth: Auth, session: Session
) -> None:
    spec = client.get("/api/v1/catalog/categories/tax_arrears").json()
    keys = ("code", "name_zh", "name_en", "group", "provider", "sharing_type", "sensitivity")
    keys += ("update_frequency", "disclosure_days", "polarity", "key_fields", "fields")
    change = {k: spec[k] for k in keys}
    change["fields"] = [
        *spec["fields"],
        {
            "name": "legal_person_id",
            "label_zh": "法定代表人身份证号",
            "label_en": "Legal representative ID number",
            "type": "id_card",
        },
    ]
    done = client.put(
        "/api/v1/catalog/categories/tax_arrears", json=change, headers=auth("operator")
    )
    assert done.status_code == 200, done.text
    rows = [
        {
            "credit_code": code(n),
            "enterprise_name": f"宁夏测试{n}有限公司",
            "tax_type": "增值税",
            "amount": "100.00",
            "announced_on": "2025-01-02",
            "legal_person_id": number,
        }
        for n, number in enumerate(
            ["11010519491231002X", "110101199913400016", "11010519491231002x"]
        )
    ]
    pushed = client.post(
        "/api/v1/ingest/records",
        params={"category": "tax_arrears"},
        json=rows,
        headers=auth("provider-tax") | {"Idempotency-Key": "ids-1", "Accept-Language": "en"},
    )
    assert pushed.status_code == 201, pushed.text
    batch = pushed.json()
    assert (batch["accepted"], batch["rejected"]) == (2, 1)
    rejected = client.get(
        f"/api/v1/ingest/batches/{batch['batch_id']}/rejections",
        headers=auth("provider-tax") | {"Accept-Language": "en"},
    ).json()["items"]
    assert [(r["position"], r["field"]) for r in rejected] == [(1, "legal_person_id")]
    assert "invalid birth date" in rejected[0]["reason"]
    assert rejected[0]["raw"]["legal_person_id"] == "110101199913400016"  # nothing is lost
    stored = session.scalars(
        select(CreditRecord).where(CreditRecord.category == "tax_arrears")
    ).all()
    assert sorted(r.data["legal_person_id"] for r in stored) == ["11010519491231002X"] * 2


def test_a_file_that_breaks_midway_gives_its_reason_and_message_id(
    client: TestClient,
    provider_key: dict[str, str],
    session: Session,
    tmp_path: Path,
    xyd_env: XydEnv,
) -> None:
    xyd_env(XYD_INGEST_MAX_LINE_KB="2")
    rows = [good_row(n) for n in range(1, 9)]
    rows[5][2] = "案" * 3000
    response = _upload(client, provider_key, write(tmp_path / "feed", "csv", HEADERS, rows))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["state"], body["total"], body["accepted"]) == ("failed", 5, 5)
    assert body["error"] == (
        "line 7 is longer than 2048 characters; stored before it: 5 rows read, 5 new, "
        "0 updated, 0 duplicates, 0 rejected"
    )
    assert body["error_detail"] == {
        "message": "line {line} is longer than {limit} characters",
        "params": {"line": 7, "limit": 2048},
        "stored": {"total": 5, "accepted": 5, "updated": 0, "duplicates": 0, "rejected": 0},
        "resume": False,
    }
    assert _records(session) == 5
