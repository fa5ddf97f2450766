"""The association routes through HTTP: who may look, what comes back, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.graph.records import code, register
from tests.worlds import demo_enterprise_in_a_circle
from xinyidai.core.jobs import Job
from xinyidai.graph.models import GraphAnalysis

Auth = Callable[[str], dict[str, str]]


def _circle_with_the_demo_enterprise(session: Session) -> tuple[str, str]:
    """The demo enterprise guarantees B, B guarantees it back; B is a dishonest debtor."""
    register(session, 1, region="450100", representative="黄海")
    b = demo_enterprise_in_a_circle(session, partner_representative="黄海")
    session.commit()
    return ENTERPRISE_CODE, b


def _error(response: Response) -> dict[str, Any]:
    """The error body without its request id, once that is checked against the header."""
    error = dict(response.json()["error"])
    assert error.pop("request_id") == response.headers["X-Request-ID"]
    return error


def test_operator_reads_an_enterprises_associations(
    client: TestClient, auth: Auth, session: Session
) -> None:
    me, b = _circle_with_the_demo_enterprise(session)
    response = client.get(
        f"/api/v1/enterprises/{me}/associations?depth=2", headers=auth("operator")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == me
    assert body["depth"] == 2
    nodes = {n["code"]: n for n in body["nodes"]}
    assert nodes[me]["distance"] == 0
    assert nodes[b]["bad"] is True
    assert nodes[b]["signals"] == ["dishonest_debtor"]
    edges = {(e["from"], e["to"], e["kind"]): e for e in body["edges"]}
    assert edges[(me, b, "guarantee")]["detail"]["amount"] == "800000.00"
    assert edges[(me, b, "guarantee")]["directed"] is True
    assert [c["members"] for c in body["circles"]] == [sorted([me, b])]
    assert body["circles"][0]["total_amount"] == "1400000.00"


def test_the_enterprise_reads_its_own_associations_only(
    client: TestClient, auth: Auth, session: Session
) -> None:
    me, b = _circle_with_the_demo_enterprise(session)
    own = client.get(f"/api/v1/enterprises/{me}/associations", headers=auth("enterprise"))
    assert own.status_code == 200, own.text
    other = client.get(f"/api/v1/enterprises/{b}/associations", headers=auth("enterprise"))
    # Another enterprise's guarantees are not its to see: refused by the access decision.
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "no_basis"


def test_a_bank_without_a_letter_may_not_read_associations(
    client: TestClient, auth: Auth, session: Session
) -> None:
    me, _ = _circle_with_the_demo_enterprise(session)
    response = client.get(f"/api/v1/enterprises/{me}/associations", headers=auth("bank"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_basis"
    assert client.get(f"/api/v1/enterprises/{me}/associations").status_code == 401


def test_depth_beyond_three_is_refused(client: TestClient, auth: Auth) -> None:
    response = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/associations?depth=4", headers=auth("operator")
    )
    assert response.status_code == 422
    assert _error(response) == {
        "code": "invalid",
        "message": "depth：不能大于 3",
        "field": "depth",
    }


def test_a_code_with_a_wrong_check_character_is_refused(client: TestClient, auth: Auth) -> None:
    wrong = ENTERPRISE_CODE[:17] + ("0" if ENTERPRISE_CODE[17] != "0" else "1")
    response = client.get(f"/api/v1/enterprises/{wrong}/associations", headers=auth("operator"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "credit_code"
    missing = client.get(f"/api/v1/enterprises/{OTHER_CODE}/associations", headers=auth("operator"))
    assert missing.status_code == 404


def test_circles_are_listed_after_an_analysis_job(
    client: TestClient, auth: Auth, session: Session
) -> None:
    me, b = _circle_with_the_demo_enterprise(session)
    empty = client.get("/api/v1/graph/circles", headers=auth("operator"))
    assert empty.json() == {"items": [], "total": 0, "page": 1, "size": 20}
    started = client.post("/api/v1/graph/analyses", json={}, headers=auth("operator"))
    assert started.status_code == 202, started.text
    job = client.get(f"/api/v1/jobs/{started.json()['id']}", headers=auth("operator")).json()
    assert job["state"] == "succeeded"
    assert job["result"]["circles"] == 1
    listed = client.get("/api/v1/graph/circles?kind=circle", headers=auth("operator")).json()
    assert listed["total"] == 1
    (circle,) = listed["items"]
    assert circle["members"] == sorted([me, b])
    assert circle["names"][circle["members"].index(me)] == "南宁示范科技有限公司"
    assert [e["amount"] for e in circle["edges"]] == ["800000.00", "600000.00"][
        :: 1 if me < b else -1
    ]
    through = client.get(f"/api/v1/graph/circles?member={b}", headers=auth("operator")).json()
    assert through["total"] == 1
    latest = client.get("/api/v1/graph/analyses/latest", headers=auth("operator")).json()
    assert latest["id"] == circle["analysis_id"]
    assert latest["circles"] == 1


def test_analyses_are_listed_newest_first_in_pages(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _circle_with_the_demo_enterprise(session)
    for _ in range(3):
        started = client.post("/api/v1/graph/analyses", json={}, headers=auth("operator"))
        assert started.status_code == 202, started.text
    first = client.get("/api/v1/graph/analyses?size=2", headers=auth("operator")).json()
    second = client.get("/api/v1/graph/analyses?size=2&page=2", headers=auth("operator")).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    listed = [a["id"] for a in first["items"] + second["items"]]
    assert len(set(listed)) == 3
    assert client.get("/api/v1/graph/analyses", headers=auth("bank")).status_code == 403


def test_only_the_operator_lists_circles_and_starts_analyses(
    client: TestClient, auth: Auth, session: Session
) -> None:
    assert client.get("/api/v1/graph/circles", headers=auth("enterprise")).status_code == 403
    refused = client.post("/api/v1/graph/analyses", json={}, headers=auth("bank"))
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_bad_analysis_request_names_the_field_and_queues_nothing(
    client: TestClient, auth: Auth, session: Session
) -> None:
    response = client.post(
        "/api/v1/graph/analyses", json={"min_chain": 1}, headers=auth("operator")
    )
    assert response.status_code == 422
    assert _error(response) == {
        "code": "invalid",
        "message": "min_chain：不能小于 2",
        "field": "min_chain",
    }
    bad_kind = client.get("/api/v1/graph/circles?kind=ring", headers=auth("operator"))
    assert bad_kind.status_code == 422
    assert bad_kind.json()["error"]["field"] == "kind"
    assert "circle|chain" in bad_kind.json()["error"]["message"]
    bad_member = client.get("/api/v1/graph/circles?member=123", headers=auth("operator"))
    assert bad_member.status_code == 422
    assert _error(bad_member) == {
        "code": "invalid",
        "message": "信用代码应为 18 位，实际为 3 位",
        "field": "member",
    }
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert session.scalar(select(func.count()).select_from(GraphAnalysis)) == 0


def test_no_latest_analysis_before_the_first(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/graph/analyses/latest", headers=auth("operator"))
    assert response.status_code == 404
    assert _error(response) == {
        "code": "not_found",
        "message": "尚未进行全区分析",
        "field": "analysis",
    }


def test_operator_reads_bad_neighbours(client: TestClient, auth: Auth, session: Session) -> None:
    me, b = _circle_with_the_demo_enterprise(session)
    response = client.get(
        f"/api/v1/enterprises/{me}/associations/signals", headers=auth("operator")
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": b,
            "name": "宁夏关联测试2有限公司",
            "distance": 1,
            "via": ["guarantee"],
            "signals": ["dishonest_debtor"],
            "since": "2026-06-01",
        }
    ]
    assert code(1) not in {s["code"] for s in response.json()}
