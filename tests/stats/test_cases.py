"""Typical cases: written, submitted, reviewed and published by another member of the
operator, withdrawn; an enterprise named only with its consent recorded; the public site
shows published cases and headline figures to anyone, cached and indexable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import Organization, OrgKind
from xinyidai.stats.models import Case, CaseState
from xinyidai.stats.service import public, refresh

Auth = Callable[[str], dict[str, str]]
STORY = {
    "title": "一家科技企业凭信用获得首笔贷款",
    "summary": "没有抵押物，凭纳税和社保记录获得 120 万元信用贷款。",
    "body": "企业成立三年，纳税信用 A 级。\n通过平台申请后三天放款。",
    "region_code": "450103",
    "industry_code": "6511",
}


def _second_operator(session: Session) -> None:
    """Another member of the operator's organization, to review what ``operator`` writes."""
    operator = session.scalars(
        select(Organization).where(Organization.kind == OrgKind.OPERATOR)
    ).one()
    iam_service.create_user(
        session,
        organization=operator,
        username="reviewer",
        display_name="审核员",
        password="demo-password",
        actor="test",
        role="staff",
    )
    session.commit()


def _write(client: TestClient, auth: Auth, **extra: Any) -> dict[str, Any]:
    made = client.post("/api/v1/stats/cases", json={**STORY, **extra}, headers=auth("operator"))
    assert made.status_code == 201, made.text
    return dict(made.json())


def _move(client: TestClient, auth: Auth, who: str, case: str, move: str, **body: Any) -> Any:
    return client.post(f"/api/v1/stats/cases/{case}/{move}", json=body or None, headers=auth(who))


def test_a_case_is_reviewed_by_another_member_then_published(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _second_operator(session)
    case = _write(client, auth)
    assert case["state"] == CaseState.DRAFT
    assert _move(client, auth, "operator", case["id"], "submit").status_code == 200
    own = _move(client, auth, "operator", case["id"], "publish")
    assert own.status_code == 403
    assert own.json()["error"]["field"] == "case_id"
    returned = _move(client, auth, "reviewer", case["id"], "return")
    assert returned.status_code == 422  # a reason is required
    returned = _move(client, auth, "reviewer", case["id"], "return", reason="补充放款时间")
    assert returned.json()["state"] == CaseState.DRAFT
    assert returned.json()["state_reason"] == "补充放款时间"
    _move(client, auth, "operator", case["id"], "submit")
    published = _move(client, auth, "reviewer", case["id"], "publish")
    assert published.status_code == 200, published.text
    assert published.json()["state"] == CaseState.PUBLISHED
    page = client.get("/public")
    assert page.status_code == 200
    assert STORY["title"] in page.text
    shown = client.get(f"/public/cases/{case['id']}")
    assert shown.status_code == 200
    assert "青秀区" in shown.text  # its county, by name
    withdrawn = _move(client, auth, "reviewer", case["id"], "withdraw", reason="企业要求")
    assert withdrawn.json()["state"] == CaseState.WITHDRAWN
    assert client.get(f"/public/cases/{case['id']}").status_code == 404


def test_an_enterprise_is_named_only_with_its_consent(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _second_operator(session)
    case = _write(
        client,
        auth,
        credit_code=ENTERPRISE_CODE,
        body="南宁示范科技有限公司成立三年，纳税信用 A 级。",
    )
    refused = _move(client, auth, "operator", case["id"], "submit")
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "body"
    session.expire_all()
    assert session.scalars(select(Case)).one().state == CaseState.DRAFT
    consent = client.post(
        f"/api/v1/stats/cases/{case['id']}/consent",
        json={"reference": "同意书 2026-118 号"},
        headers=auth("operator"),
    )
    assert consent.status_code == 200
    assert consent.json()["named"] is True
    _move(client, auth, "operator", case["id"], "submit")
    assert _move(client, auth, "reviewer", case["id"], "publish").status_code == 200
    shown = client.get(f"/public/cases/{case['id']}")
    assert 'data-testid="case-enterprise"' in shown.text
    assert "南宁示范科技有限公司" in shown.text


def test_an_anonymous_case_does_not_name_its_enterprise(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _second_operator(session)
    case = _write(client, auth, credit_code=ENTERPRISE_CODE)
    _move(client, auth, "operator", case["id"], "submit")
    assert _move(client, auth, "reviewer", case["id"], "publish").status_code == 200
    shown = client.get(f"/public/cases/{case['id']}")
    assert "南宁示范科技有限公司" not in shown.text
    assert ENTERPRISE_CODE not in shown.text
    assert 'data-testid="case-enterprise"' not in shown.text


def test_only_the_operator_writes_cases_and_bad_input_writes_nothing(
    client: TestClient, auth: Auth, session: Session
) -> None:
    assert (
        client.post("/api/v1/stats/cases", json=STORY, headers=auth("auditor")).status_code == 403
    )
    for bad, field in (
        ({"region_code": "999999"}, "region_code"),
        ({"industry_code": "Z9999"}, "industry_code"),
        ({"credit_code": "91450100MA5K0000XX"}, "credit_code"),
    ):
        answer = client.post("/api/v1/stats/cases", json={**STORY, **bad}, headers=auth("operator"))
        assert answer.status_code in (404, 422), bad
        assert answer.json()["error"]["field"] == field
    unknown = _move(client, auth, "operator", "case_nope", "submit")
    assert unknown.status_code == 404
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_public_page_shows_headline_figures_to_anyone(
    client: TestClient, session: Session, lending: list[str]
) -> None:
    refresh.rebuild(session)
    session.commit()
    public.forget()
    page = client.get("/public")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=60"
    assert "注册企业数" in page.text
    assert 'href="/market"' in page.text
    assert 'data-figure="loans_amount"' in page.text
    assert "noindex" not in page.text
    home = client.get("/")
    assert 'href="/public"' in home.text
