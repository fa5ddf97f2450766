"""The rating over HTTP: who may read which rating, its shape, history, runs, the model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.accounts import ENTERPRISE_CODE, OTHER_CODE, add_department
from tests.scoring.records import enforcement_feature, push

from xinyidai.core import clock
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.scoring import platform_model
from xinyidai.scoring.models import CreditRating, RatingRun
from xinyidai.scoring.service import arrival_paused

Auth = Callable[[str], dict[str, str]]
RATING_KEYS = {
    "credit_code",
    "score",
    "grade",
    "probability",
    "model_version",
    "as_of",
    "rated_at",
    "trigger",
    "reasons",
    "marks",
}


@pytest.fixture
def penalized(session: Session, demo: object) -> str:
    """The demo enterprise with a recent grave penalty and an open enforcement case (stored
    without re-rating, so that it has no rating yet)."""
    with arrival_paused():
        push(
            session,
            "admin_penalty",
            [
                {
                    "credit_code": ENTERPRISE_CODE,
                    "decision_number": "P-1",
                    "fine_amount": "80000",
                    "severity": "严重",
                    "decided_on": _days_ago(80),
                },
            ],
        )
        push(
            session,
            "court_enforcement",
            [
                {
                    "credit_code": ENTERPRISE_CODE,
                    "case_number": "E-1",
                    "amount": "900000",
                    "filed_on": _days_ago(110),
                    "status": "执行中",
                },
            ],
        )
    session.commit()
    return ENTERPRISE_CODE


def _days_ago(days: int) -> str:
    return (clock.today() - timedelta(days=days)).isoformat()


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_operator_reads_a_rating_with_its_reasons(
    client: TestClient, auth: Auth, penalized: str
) -> None:
    response = client.get(f"/api/v1/enterprises/{penalized}/rating", headers=auth("operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == RATING_KEYS
    assert body["credit_code"] == penalized
    assert body["model_version"] == platform_model.current().version
    assert 0 < body["probability"] < 1
    assert body["grade"]
    codes = [r["code"] for r in body["reasons"]]
    assert enforcement_feature().reason_text.code in codes
    assert all(set(r) == {"code", "text", "impact"} and r["impact"] < 0 for r in body["reasons"])
    assert all("：" in r["text"] for r in body["reasons"])  # Chinese by default


def test_reasons_follow_the_callers_language(
    client: TestClient, auth: Auth, penalized: str
) -> None:
    english = client.get(
        f"/api/v1/enterprises/{penalized}/rating",
        headers=auth("operator") | {"Accept-Language": "en"},
    ).json()
    texts = {r["code"]: r["text"] for r in english["reasons"]}
    reason = enforcement_feature().reason_text
    assert texts[reason.code].startswith(f"{reason.en}: ")


def test_the_enterprise_reads_its_own_rating_only(
    client: TestClient, auth: Auth, session: Session, penalized: str
) -> None:
    registry_service.create(session, data=EnterpriseIn(credit_code=OTHER_CODE, name="另一家公司"))
    session.commit()
    own = client.get(f"/api/v1/enterprises/{penalized}/rating", headers=auth("enterprise"))
    assert own.status_code == 200
    other = client.get(f"/api/v1/enterprises/{OTHER_CODE}/rating", headers=auth("enterprise"))
    # Refused by the access decision (and logged): the rating reveals non-public records.
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "no_basis"
    bank = client.get(f"/api/v1/enterprises/{penalized}/rating", headers=auth("bank"))
    assert bank.status_code == 403
    # the refusals rated nobody
    assert _count(session, CreditRating) == 1


def test_reading_needs_a_signed_in_caller_and_a_known_subject(
    client: TestClient, auth: Auth, session: Session, penalized: str
) -> None:
    anonymous = client.get(f"/api/v1/enterprises/{penalized}/rating")
    assert anonymous.status_code == 401
    unknown = client.get(f"/api/v1/enterprises/{OTHER_CODE}/rating", headers=auth("operator"))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "credit_code"
    malformed = client.get(
        "/api/v1/enterprises/91450100MA5K0000XX/rating", headers=auth("operator")
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "credit_code"
    assert _count(session, CreditRating) == 0


def test_the_history_lists_every_rating_newest_first(
    client: TestClient, auth: Auth, penalized: str
) -> None:
    headers = auth("operator")
    first = client.get(f"/api/v1/enterprises/{penalized}/rating", headers=headers).json()
    run = client.post("/api/v1/ratings/runs", json={"as_of": _days_ago(1)}, headers=headers)
    assert run.status_code == 202, run.text
    history = client.get(f"/api/v1/enterprises/{penalized}/rating/history", headers=headers)
    assert history.status_code == 200
    page = history.json()
    assert page["total"] == 2
    assert [i["trigger"] for i in page["items"]] == ["run", "request"]
    assert page["items"][1]["rated_at"] == first["rated_at"]
    assert page["items"][0]["as_of"] == _days_ago(1)


def test_the_operator_runs_a_full_rating_as_a_job(
    client: TestClient, auth: Auth, session: Session, penalized: str
) -> None:
    response = client.post("/api/v1/ratings/runs", json={}, headers=auth("operator"))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "rating.run"
    assert job["state"] == "succeeded"
    assert job["result"]["rated"] == 1
    assert job["done"] == job["total"]
    runs = client.get("/api/v1/ratings/runs", headers=auth("operator")).json()
    assert runs["total"] == 1
    assert runs["items"][0]["id"] == job["result"]["run_id"]
    assert (
        runs["items"][0]["grades"][
            client.get(f"/api/v1/enterprises/{penalized}/rating", headers=auth("operator")).json()[
                "grade"
            ]
        ]
        == 1
    )


def test_only_an_operator_may_start_or_list_runs(
    client: TestClient, auth: Auth, session: Session, penalized: str
) -> None:
    refused = client.post("/api/v1/ratings/runs", json={}, headers=auth("enterprise"))
    assert refused.status_code == 403
    listed = client.get("/api/v1/ratings/runs", headers=auth("bank"))
    assert listed.status_code == 403
    bad_day = client.post(
        "/api/v1/ratings/runs", json={"as_of": "2026-13-01"}, headers=auth("operator")
    )
    assert bad_day.status_code == 422
    assert bad_day.json()["error"]["field"] == "as_of"
    assert _count(session, RatingRun) == 0
    assert _count(session, CreditRating) == 0


def test_the_model_in_force_is_published(client: TestClient, auth: Auth, demo: object) -> None:
    response = client.get("/api/v1/ratings/model", headers=auth("bank") | {"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.json()
    model = platform_model.current()
    assert body["version"] == model.version
    assert body["base_score"] == 600
    assert [f["name"] for f in body["features"]] == model.feature_names
    assert body["grades"][0] == {"grade": "AAA", "min_score": 660.0}


def test_a_department_push_re_rates_the_enterprise_it_concerns(
    client: TestClient, auth: Auth, session: Session, demo: object
) -> None:
    """Through the whole app: a court pushes an enforcement case; the rating follows."""
    before = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/rating", headers=auth("operator"))
    add_department(session, code="court", name="中级人民法院", username="provider-court")
    key = client.post(
        "/api/v1/api-keys",
        json={"name": "court system", "scopes": ["ingest:write"]},
        headers=auth("provider-court"),
    ).json()["key"]
    row = {
        "统一社会信用代码": ENTERPRISE_CODE,
        "被执行人名称": "南宁示范科技有限公司",
        "案号": "(2026)桂0103执88号",
        "立案日期": _days_ago(5),
        "执行标的（元）": "1200000.00",
        "法院所在区划": "450103",
    }
    pushed = client.post(
        "/api/v1/ingest/records",
        params={"category": "court_enforcement"},
        json=[row],
        headers={"X-API-Key": key, "Idempotency-Key": "court-1"},
    )
    assert pushed.status_code == 201, pushed.text
    after = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/rating", headers=auth("operator"))
    assert after.json()["trigger"] == "arrival"
    assert after.json()["score"] < before.json()["score"]
    assert enforcement_feature().reason_text.code in [r["code"] for r in after.json()["reasons"]]
