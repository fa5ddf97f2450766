"""Anti-fraud rules over applications: each rule's hit with its explanation, scanned after
the application commits and by hand; cases investigated by their institution; a confirmed
case declining later applications and serving as blacklist evidence; bad input refused
with nothing changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import DEMO_PASSWORD
from tests.conftest import XydEnv
from tests.graph.records import _push
from tests.market.conftest import Auth, publish
from tests.risk.fraud_world import applicant, apply_as, register
from xinyidai.cli import app as cli
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.risk.models import FraudCase, FraudHit, FraudNote, FraudScan
from xinyidai.risk.service import fraud, fraud_cases
from xinyidai.supervision.service import demo as supervision_demo

API = "/api/v1/risk/fraud"
runner = CliRunner()


@pytest.fixture
def products(client: TestClient, auth: Auth, market: None, session: Session) -> dict[str, str]:
    """A published product of each of three banks (``bank``, ``bank2``, ``bank3``)."""
    bank3 = iam_service.create_organization(
        session,
        kind="institution",
        name="第三农村商业银行",
        actor="test",
        state="active",
        institution_type="bank",
        licence_number="B0000H000000003",
    )
    # fit to read: the confidentiality agreement signed, an assessment passed
    supervision_demo.certify(session, bank3)
    iam_service.create_user(
        session,
        organization=bank3,
        username="bank3",
        display_name="bank3",
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    session.commit()
    return {name: publish(client, auth(name))["id"] for name in ("bank", "bank2", "bank3")}


def _case(session: Session, application_id: str) -> FraudCase | None:
    session.expire_all()
    return fraud_cases.of_application(session, application_id=application_id)


def _hits(session: Session, application_id: str) -> dict[str, FraudHit]:
    case = _case(session, application_id)
    assert case is not None, application_id
    return {hit.rule: hit for hit in fraud_cases.hits_of(session, case=case)}


def _counts(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(table)) or 0
        for table in (FraudCase, FraudHit, FraudNote, FraudScan)
    )


def test_a_ring_sharing_one_phone_is_flagged_whole(
    client: TestClient, auth: Auth, products: dict[str, str], session: Session
) -> None:
    ring = [register(session, n, phone="13800138000") for n in (11, 12, 13)]
    loner = register(session, 14)
    session.commit()
    made = [apply_as(session, applicant(session, code), products["bank"]) for code in ring]
    alone = apply_as(session, applicant(session, loner), products["bank"])
    assert _case(session, alone.public_id) is None
    assert fraud.scan_of(session, application_id=alone.public_id) is not None
    for application in made:  # the third applicant's scan marked the first two as well
        hit = _hits(session, application.public_id)["shared_phone"]
        assert hit.evidence["count"] == 3
        assert hit.explanation.startswith(
            "近 30 天内共有 3 家申请企业登记同一联系电话（阈值 3 家）"
        )
    third = _case(session, made[2].public_id)
    assert third is not None
    seen = client.get(f"{API}/cases/{third.public_id}", headers=auth("bank")).json()
    assert seen["hits"][0]["rule"] == "shared_phone"
    assert seen["hits"][0]["explanation"]
    assert seen["hits"][0]["operator_evidence"] is None  # the others stay the operator's
    assert seen["available"] == ["investigate", "confirm", "dismiss"]
    overseen = client.get(f"{API}/cases/{third.public_id}", headers=auth("operator")).json()
    assert overseen["hits"][0]["operator_evidence"]["applicants"] == sorted(ring)
    listed = client.get(f"{API}/cases?rule=shared_phone", headers=auth("bank")).json()
    assert listed["total"] == 3
    assert client.get(f"{API}/cases", headers=auth("bank2")).json()["total"] == 0


def test_one_enterprise_applying_to_many_institutions_in_a_day(
    products: dict[str, str], session: Session
) -> None:
    code = register(session, 21)
    session.commit()
    principal = applicant(session, code)
    made = [apply_as(session, principal, products[bank]) for bank in ("bank", "bank2", "bank3")]
    assert {_case(session, a.public_id).institution_id for a in made} == {  # type: ignore[union-attr]
        a.institution_id for a in made
    }
    for application in made:
        hit = _hits(session, application.public_id)["many_institutions"]
        assert hit.evidence["count"] == 3
        assert "24 小时内向 3 家机构提出申请" in hit.explanation


@pytest.mark.parametrize("utc_hour", [3, 16])
def test_a_young_enterprise_that_just_changed_its_representative_asks_a_lot(
    products: dict[str, str], session: Session, utc_hour: int
) -> None:
    # At 16:00 UTC it is already tomorrow in China: the age counts China's days.
    moment = datetime.combine(clock.now().date(), time(utc_hour, 30), UTC)
    with clock.frozen_at(moment):
        founded = (clock.today() - timedelta(days=100)).isoformat()
        code = register(session, 31, established_on=founded)
        session.commit()
        register(session, 31, established_on=founded, legal_representative="新法人")
        session.commit()
        application = apply_as(
            session, applicant(session, code), products["bank"], amount="2000000.00"
        )
        hits = _hits(session, application.public_id)
    assert hits["recent_change"].evidence["changed"] == ["legal_representative"]
    assert "变更了登记事项：法定代表人" in hits["recent_change"].explanation
    assert hits["young_large"].evidence["age_days"] == 100
    assert "成立仅 100 天" in hits["young_large"].explanation
    assert set(hits) == {"recent_change", "young_large"}


def test_self_reported_revenue_contradicting_the_tax_data(
    products: dict[str, str], session: Session
) -> None:
    code = register(session, 41)
    today = clock.today()
    _push(
        session,
        "tax",
        "tax_payment",
        [
            {
                "credit_code": code,
                "enterprise_name": "南宁反欺诈测试41有限公司",
                "tax_item": "增值税",
                "period_start": (today - timedelta(days=90)).isoformat(),
                "period_end": (today - timedelta(days=60)).isoformat(),
                "tax_paid": "30000.00",
                "sales_revenue": "1000000.00",
                "region_code": "450103",
            }
        ],
    )
    _push(
        session,
        "enterprise",
        "self_reported",
        [
            {
                "credit_code": code,
                "enterprise_name": "南宁反欺诈测试41有限公司",
                "item": "营业收入",
                "content": "500万元",
                "reported_on": (today - timedelta(days=10)).isoformat(),
            }
        ],
    )
    session.commit()
    application = apply_as(session, applicant(session, code), products["bank"])
    hit = _hits(session, application.public_id)["self_report_mismatch"]
    assert hit.evidence["ratio"] == "5.0"
    assert hit.explanation == (
        "自报营业收入 5000000.00 元，是部门数据 1000000.00 元的 5.0 倍（阈值 2.0 倍）"
    )


def test_an_address_many_enterprises_registered_at_is_a_hub(
    products: dict[str, str], session: Session
) -> None:
    codes = [register(session, n, address="南宁市青秀区中介大厦1号1201室") for n in range(50, 60)]
    session.commit()
    application = apply_as(session, applicant(session, codes[0]), products["bank"])
    hits = _hits(session, application.public_id)
    assert set(hits) == {"hub"}
    assert hits["hub"].evidence["count"] == 10
    assert "登记的住所为关联枢纽：共有 10 家企业使用" in hits["hub"].explanation


def test_cases_are_investigated_then_confirmed_and_decline_later_applications(
    client: TestClient, auth: Auth, products: dict[str, str], session: Session
) -> None:
    founded = (clock.today() - timedelta(days=30)).isoformat()
    code = register(session, 61, established_on=founded)
    session.commit()
    principal = applicant(session, code)
    application = apply_as(session, principal, products["bank"], amount="1500000.00")
    case = _case(session, application.public_id)
    assert case is not None
    path = f"{API}/cases/{case.public_id}"
    before = _counts(session)
    for who, suffix, body, status, field in [
        ("bank2", "/investigate", None, 403, "case_id"),
        ("bank", "/escalate", None, 422, "action"),
        ("bank", "/confirm", {"note": " "}, 422, "reason"),
        ("bank2", "/notes", {"text": "看看"}, 403, "case_id"),
        ("bank", "/notes", {"text": ""}, 422, "text"),
    ]:
        response = client.post(f"{path}{suffix}", json=body, headers=auth(who))
        assert response.status_code == status, (suffix, response.text)
        assert response.json()["error"]["field"] == field
    unknown = client.get(f"{API}/cases/frc_nope", headers=auth("bank"))
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "case_id")
    assert client.get(path, headers=auth("bank2")).status_code == 403
    assert _counts(session) == before

    assert client.post(f"{path}/investigate", headers=auth("bank")).json()["state"] == (
        "investigating"
    )
    client.post(f"{path}/notes", json={"text": "已电话核实法人"}, headers=auth("bank"))
    confirmed = client.post(
        f"{path}/confirm", json={"note": "营业执照系伪造"}, headers=auth("bank")
    ).json()
    assert confirmed["state"] == "confirmed"
    assert [n["text"] for n in confirmed["notes"]] == ["已电话核实法人", "营业执照系伪造"]
    assert [s["transition"] for s in confirmed["history"]] == ["open", "investigate", "confirm"]
    again = client.post(f"{path}/dismiss", json={"note": "误报"}, headers=auth("bank"))
    assert (again.status_code, again.json()["error"]["field"]) == (409, "state")

    # a confirmed case is evidence for the blacklist, for its own institution only
    other = client.post(
        "/api/v1/risk/blacklist",
        json={"credit_code": code, "basis": "fraud", "case_id": case.public_id, "reason": "欺诈"},
        headers=auth("bank2"),
    )
    assert (other.status_code, other.json()["error"]["field"]) == (403, "case_id")
    proposed = client.post(
        "/api/v1/risk/blacklist",
        json={"credit_code": code, "basis": "fraud", "case_id": case.public_id, "reason": "欺诈"},
        headers=auth("bank"),
    )
    assert proposed.status_code == 201, proposed.text

    # and declines the enterprise's later applications where a product's rules say so
    rules = client.put(
        f"/api/v1/products/{products['bank2']}/rules",
        json={"min_grade": "C", "hard_declines": ["fraud_confirmed"]},
        headers=auth("bank2"),
    )
    assert rules.status_code == 200, rules.text
    later = apply_as(session, principal, products["bank2"], amount="200000.00")
    assert later.state == "rejected"
    assert later.decision_reason == "hard decline: fraud_confirmed"


def test_scans_by_hand_find_what_was_not_scanned(
    client: TestClient,
    auth: Auth,
    products: dict[str, str],
    session: Session,
    xyd_env: XydEnv,
) -> None:
    xyd_env(XYD_RISK_FRAUD_SCAN_ON_APPLY="false")
    founded = (clock.today() - timedelta(days=10)).isoformat()
    code = register(session, 71, established_on=founded)
    session.commit()
    application = apply_as(session, applicant(session, code), products["bank"], amount="1200000.00")
    assert fraud.scan_of(session, application_id=application.public_id) is None
    result = runner.invoke(cli, ["risk", "fraud-scan", "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    mine = [row for row in rows if row["application_id"] == application.public_id]
    assert mine[0]["hits"] == ["young_large"]
    assert mine[0]["case_id"] is not None
    again = runner.invoke(cli, ["risk", "fraud-scan", "--json"])
    assert json.loads(again.stdout) == []  # nothing left unscanned
    by_api = client.post(
        f"{API}/scan", json={"application_id": application.public_id}, headers=auth("operator")
    ).json()
    assert by_api[0]["hits"] == ["young_large"]
    assert _counts(session)[1] == 1  # scanning again adds no second hit
    assert client.post(f"{API}/scan", json={}, headers=auth("bank")).status_code == 403
    unknown = client.post(
        f"{API}/scan", json={"application_id": "app_nope"}, headers=auth("operator")
    )
    assert unknown.status_code == 404
    overview = client.get(f"{API}/overview", headers=auth("operator")).json()
    assert overview["cases"] == {"open": 1}
    assert overview["hits_by_rule"] == {"young_large": {"open": 1}}
    rules = client.get(f"{API}/rules", headers=auth("bank")).json()
    assert {r["rule"] for r in rules} == {
        "shared_phone",
        "shared_address",
        "shared_representative",
        "many_institutions",
        "recent_change",
        "young_large",
        "self_report_mismatch",
        "hub",
    }
