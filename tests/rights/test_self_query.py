"""Free self-query through the real app: the enterprise's full report, rating and who
looked, counted per year (two free, no charge by default); the counter's self-query for a
walk-in enterprise with the identity check recorded."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import TAX_PAID, World
from xinyidai.audit.models import AccessEvent
from xinyidai.core import clock
from xinyidai.rights.models import SelfQuery

Auth = Callable[[str], dict[str, str]]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_enterprise_reads_its_full_report_and_the_count_is_kept(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env
) -> None:
    first = client.post("/api/v1/rights/self-queries", headers=auth("enterprise"))
    assert first.status_code == 201, first.text
    body = first.json()
    sections = {s["category"] for s in body["report"]["sections"]}
    assert {"tax_payment", "admin_penalty", "social_insurance"} <= sections
    assert TAX_PAID in first.text  # every field, unmasked: the enterprise's own
    assert body["self_query"]["free"] is True
    assert body["self_query"]["fee"] == "0.00"
    assert body["self_query"]["count_this_year"] == 1
    assert body["self_query"]["year"] == clock.today().year
    assert body["access_log"]  # who looked, its own read included
    second = client.post("/api/v1/rights/self-queries", headers=auth("enterprise")).json()
    assert second["self_query"]["free"] is True
    third = client.post("/api/v1/rights/self-queries", headers=auth("enterprise")).json()
    assert third["self_query"]["free"] is False
    assert third["self_query"]["fee"] == "0.00"  # no charge by default
    xyd_env(XYD_RIGHTS_SELF_QUERY_FEE="20.00")
    fourth = client.post("/api/v1/rights/self-queries", headers=auth("enterprise")).json()
    assert Decimal(fourth["self_query"]["fee"]) == Decimal("20.00")
    listed = client.get("/api/v1/rights/self-queries", headers=auth("enterprise")).json()
    assert listed["total"] == 4
    pdf = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile",
        params={"format": "pdf"},
        headers=auth("enterprise"),
    )
    assert pdf.headers["content-type"] == "application/pdf"


def test_counter_runs_a_self_query_with_the_identity_check(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    missing = client.post(
        "/api/v1/rights/self-queries", json={"credit_code": OTHER_CODE}, headers=auth("operator")
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "identity_check"
    events_before = _count(session, AccessEvent)
    assert _count(session, SelfQuery) == 0
    ran = client.post(
        "/api/v1/rights/self-queries",
        json={
            "credit_code": OTHER_CODE,
            "identity_check": "营业执照原件及法定代表人身份证，核验人：张三",
        },
        headers=auth("operator"),
    )
    assert ran.status_code == 201, ran.text
    assert ran.json()["self_query"]["channel"] == "counter"
    row = session.scalar(select(SelfQuery))
    assert row is not None
    assert row.identity_check is not None
    assert "核验人" in row.identity_check
    assert _count(session, AccessEvent) == events_before + 1


def test_an_enterprise_cannot_self_query_another(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    answer = client.post(
        "/api/v1/rights/self-queries", json={"credit_code": OTHER_CODE}, headers=auth("enterprise")
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["field"] == "credit_code"
    bank = client.post("/api/v1/rights/self-queries", headers=auth("bank"))
    assert bank.status_code == 403
    assert _count(session, SelfQuery) == 0
