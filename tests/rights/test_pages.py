"""The portal's rights pages: the enterprise files from its profile's record link and sees
「异议处理中」 beside the record, the department corrects from its inbox, the operator sees
the deadline, the overdue flag and the figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World
from tests.rights.conftest import PDF, record_of
from tests.web.conftest import csrf_of, portal
from xinyidai.core import clock

__all__ = ["portal"]

Portal = Callable[[str], TestClient]


def test_enterprise_files_department_corrects_operator_sees_figures(
    portal: Portal, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    enterprise = portal("enterprise")
    profile = enterprise.get(f"/profile/{ENTERPRISE_CODE}").text
    assert f"/rights?record_id={record.id}" in profile
    form = enterprise.get(f"/rights?record_id={record.id}&field=grade").text
    assert 'data-testid="objection-form"' in form
    assert record.id in form
    filed = enterprise.post(
        "/rights/objections",
        data={
            "csrf_token": csrf_of(form),
            "target": "field",
            "record_id": record.id,
            "field": "grade",
            "wrong": "纳税信用等级有误",
            "correction_asked": "应为B级",
        },
        files=[("files", ("复评通知.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    objection_url = filed.headers["location"]
    detail = enterprise.get(objection_url).text
    assert "已提出" in detail
    assert "复评通知.pdf" in detail
    profile = enterprise.get(f"/profile/{ENTERPRISE_CODE}").text
    assert "异议处理中" in profile
    pdf = enterprise.get(f"/profile/{ENTERPRISE_CODE}/pdf")
    assert pdf.status_code == 200

    department = portal("provider-tax")
    inbox = department.get("/rights").text
    assert "异议处理" in inbox
    assert objection_url.rsplit("/", 1)[1] in inbox
    for name in ("accept", "verify"):
        page = department.get(objection_url).text
        moved = department.post(
            f"{objection_url}/move",
            data={"csrf_token": csrf_of(page), "move": name},
            follow_redirects=False,
        )
        assert moved.status_code == 303, moved.text
    page = department.get(objection_url).text
    assert 'data-testid="move-correct"' in page
    bad = department.post(
        f"{objection_url}/move",
        data={"csrf_token": csrf_of(page), "move": "correct", "field": "grade", "value": "Z"},
    )
    assert bad.status_code == 422
    assert 'data-error-for="grade"' in bad.text
    corrected = department.post(
        f"{objection_url}/move",
        data={"csrf_token": csrf_of(page), "move": "correct", "field": "grade", "value": "B"},
        follow_redirects=False,
    )
    assert corrected.status_code == 303, corrected.text
    assert record_of(session, "tax_rating").data["grade"] == "B"

    operator = portal("operator")
    queue = operator.get("/rights").text
    assert 'data-testid="rights-figures"' in queue
    assert "100.0%" in queue


def test_operator_sees_the_overdue_flag(
    client: TestClient, portal: Portal, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    enterprise = portal("enterprise")
    form = enterprise.get("/rights").text
    with clock.frozen_at(datetime.now(UTC) - timedelta(days=30)):
        filed = enterprise.post(
            "/rights/objections",
            data={
                "csrf_token": csrf_of(form),
                "target": "record",
                "record_id": record.id,
                "wrong": "并非本企业",
                "correction_asked": "删除",
            },
            follow_redirects=False,
        )
    assert filed.status_code == 303, filed.text
    queue = portal("operator").get("/rights?overdue=true").text
    assert 'data-testid="overdue-flag"' in queue
    assert 'data-testid="figure-overdue"><a href="/rights?overdue=true">1<' in queue


def test_enterprise_form_errors_name_the_field(
    portal: Portal, world: World, session: Session
) -> None:
    enterprise = portal("enterprise")
    form = enterprise.get("/rights").text
    answer = enterprise.post(
        "/rights/objections",
        data={
            "csrf_token": csrf_of(form),
            "target": "field",
            "record_id": "0" * 32,
            "field": "grade",
            "wrong": "x",
            "correction_asked": "y",
        },
    )
    assert answer.status_code == 404
    assert 'data-error-for="record_id"' in answer.text


def test_enterprise_applies_for_repair_and_operator_approves(
    portal: Portal, world: World, session: Session
) -> None:
    penalty = record_of(session, "admin_penalty")
    enterprise = portal("enterprise")
    page = enterprise.get("/rights").text
    assert 'data-testid="repair-form"' in page
    refused = enterprise.post(
        "/rights/repairs",
        data={
            "csrf_token": csrf_of(page),
            "repair_record_id": penalty.id,
            "statement": "罚款已缴清",
        },
        files=[("repair_files", ("缴款凭证.pdf", PDF, "application/pdf"))],
    )
    assert refused.status_code == 422
    assert 'data-error-for="commitment_signed"' in refused.text
    applied = enterprise.post(
        "/rights/repairs",
        data={
            "csrf_token": csrf_of(page),
            "repair_record_id": penalty.id,
            "statement": "罚款已缴清",
            "commitment_signed": "yes",
        },
        files=[("repair_files", ("缴款凭证.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert applied.status_code == 303, applied.text
    url = applied.headers["location"]
    operator = portal("operator")
    detail = operator.get(url).text
    assert 'data-testid="repair-move-approve"' in detail
    approved = operator.post(
        f"{url}/move",
        data={"csrf_token": csrf_of(detail), "move": "approve", "reason": "公示期满，已履行"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    assert "已修复" in operator.get(url).text
    profile = portal("enterprise").get(f"/profile/{ENTERPRISE_CODE}").text
    assert penalty.id not in profile


def test_enterprise_and_counter_run_self_queries_in_the_portal(
    portal: Portal, world: World, session: Session
) -> None:
    enterprise = portal("enterprise")
    page = enterprise.get("/rights").text
    assert 'data-testid="self-query-form"' in page
    ran = enterprise.post("/rights/self-query", data={"csrf_token": csrf_of(page)})
    assert ran.status_code == 200, ran.text
    assert 'data-testid="self-query-count">1 / 2' in ran.text
    assert 'data-testid="access-log"' in ran.text
    operator = portal("operator")
    page = operator.get("/rights").text
    refused = operator.post(
        "/rights/self-query", data={"csrf_token": csrf_of(page), "credit_code": ENTERPRISE_CODE}
    )
    assert refused.status_code == 422
    assert 'data-error-for="identity_check"' in refused.text
    counter = operator.post(
        "/rights/self-query",
        data={
            "csrf_token": csrf_of(page),
            "credit_code": ENTERPRISE_CODE,
            "identity_check": "营业执照原件，经办人身份证，核验人：李四",
        },
    )
    assert counter.status_code == 200, counter.text
    assert 'data-testid="self-query-count">2 / 2' in counter.text


def test_enterprise_reports_in_the_portal_and_a_department_confirms(
    portal: Portal, world: World, session: Session
) -> None:
    enterprise = portal("enterprise")
    page = enterprise.get("/rights").text
    sent = enterprise.post(
        "/rights/self-reports",
        data={"csrf_token": csrf_of(page), "item": "研发人员数", "content": "36"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    profile = enterprise.get(f"/profile/{ENTERPRISE_CODE}").text
    assert 'data-testid="self-reported-mark">企业自报' in profile
    department = portal("provider-market")
    page = department.get("/rights").text
    assert "研发人员数" in page
    (report_id,) = {
        part.split("/")[0] for part in page.split("/rights/self-reports/")[1:] if "/confirm" in part
    }
    confirmed = department.post(
        f"/rights/self-reports/{report_id}/confirm",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    profile = portal("enterprise").get(f"/profile/{ENTERPRISE_CODE}").text
    assert "已经部门确认" in profile


def test_the_operator_dashboard_shows_the_rights_figures(
    client: TestClient, portal: Portal, world: World, session: Session
) -> None:
    record = record_of(session, "tax_rating")
    enterprise = portal("enterprise")
    form = enterprise.get("/rights").text
    with clock.frozen_at(datetime.now(UTC) - timedelta(days=21)):
        enterprise.post(
            "/rights/objections",
            data={
                "csrf_token": csrf_of(form),
                "target": "record",
                "record_id": record.id,
                "wrong": "并非本企业",
                "correction_asked": "删除",
            },
        )
    html = portal("operator").get("/dashboard").text
    assert 'data-testid="dashboard-rights"' in html
    assert 'data-testid="rights-answered">0 / 1<' in html
    assert '<a href="/rights?overdue=true">1</a>' in html


def test_operator_records_a_restructuring_in_the_portal(
    portal: Portal, world: World, session: Session
) -> None:
    operator = portal("operator")
    page = operator.get("/rights").text
    assert 'data-testid="restructuring-form"' in page
    recorded = operator.post(
        "/rights/restructurings",
        data={
            "csrf_token": csrf_of(page),
            "credit_code": ENTERPRISE_CODE,
            "kind": "reorganization_approved",
            "decided_on": clock.today().isoformat(),
            "source": "南宁市中级人民法院",
            "text": "",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    profile = portal("enterprise").get(f"/profile/{ENTERPRISE_CODE}").text
    assert 'data-testid="subject-notes"' in profile
    assert "法院批准重整计划" in profile
