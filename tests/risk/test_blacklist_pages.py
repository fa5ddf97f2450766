"""The portal's blacklist and fraud pages, in Chinese by default: the institution proposes
with evidence files and works its fraud cases, the operator reviews and decides and sees
the fraud overview, the enterprise sees the proposal against it and objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth, publish
from tests.risk.blacklist_world import counts, defaulted_loan
from tests.risk.fraud_world import applicant, apply_as, register
from tests.web.conftest import csrf_of
from xinyidai.core import clock
from xinyidai.risk.service import fraud_cases

Portal = Callable[[str], TestClient]


def _listing_id(location: str) -> str:
    match = re.search(r"/risk/blacklist/(bl_[A-Za-z0-9_-]+)$", location)
    assert match, location
    return match.group(1)


def test_propose_review_object_and_decide_in_the_portal(
    client: TestClient, auth: Auth, signed: None, portal: Portal, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    bank = portal("bank")
    page = bank.get("/risk/blacklist")
    assert page.status_code == 200
    assert "提请列入名单" in page.text
    token = csrf_of(page.text)
    refused = bank.post(
        "/risk/blacklist",
        data={
            "csrf_token": token,
            "credit_code": ENTERPRISE_CODE,
            "basis": "default",
            "reason": "逾期",
        },
    )
    assert refused.status_code == 422
    assert 'data-error-for="evidence"' in refused.text
    assert "以违约为由列入名单须以违约的贷款为证据" in refused.text
    made = bank.post(
        "/risk/blacklist",
        data={
            "csrf_token": token,
            "credit_code": ENTERPRISE_CODE,
            "basis": "default",
            "evidence": loan["id"],
            "reason": "逾期 45 天未还",
        },
        files=[("files", ("催收记录.pdf", b"%PDF-1.7 collection log", "application/pdf"))],
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    listing_id = _listing_id(made.headers["location"])
    shown = bank.get(f"/risk/blacklist/{listing_id}").text
    assert "已提请，待审核" in shown
    assert "催收记录.pdf" in shown

    operator = portal("operator")
    review = operator.get(f"/risk/blacklist/{listing_id}")
    assert 'data-testid="review-form"' in review.text
    noticed = operator.post(
        f"/risk/blacklist/{listing_id}/review",
        data={"csrf_token": csrf_of(review.text), "outcome": "notice"},
        follow_redirects=False,
    )
    assert noticed.status_code == 303

    enterprise = portal("enterprise")
    mine = enterprise.get("/risk/blacklist").text
    assert "针对贵企业的失信名单提请" in mine
    assert listing_id in mine
    detail = enterprise.get(f"/risk/blacklist/{listing_id}").text
    assert 'data-testid="objection-form"' in detail
    assert "已告知，异议期内" in detail
    objected = enterprise.post(
        f"/risk/blacklist/{listing_id}/object",
        data={"csrf_token": csrf_of(detail), "text": "已于次日结清欠款"},
        files=[("files", ("结清证明.pdf", b"%PDF-1.7 paid", "application/pdf"))],
        follow_redirects=False,
    )
    assert objected.status_code == 303
    again = enterprise.get(f"/risk/blacklist/{listing_id}").text
    assert "已提出异议，待决定" in again
    assert "结清证明.pdf" in again
    before = counts(session)
    late = enterprise.post(
        f"/risk/blacklist/{listing_id}/object",
        data={"csrf_token": csrf_of(again), "text": "再次异议"},
    )
    assert late.status_code == 409
    assert "不能执行 object" in late.text
    assert counts(session) == before

    operator = portal("operator")
    decide = operator.get(f"/risk/blacklist/{listing_id}").text
    rejected = operator.post(
        f"/risk/blacklist/{listing_id}/decide",
        data={"csrf_token": csrf_of(decide), "outcome": "reject", "reason": "异议成立"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    overview = operator.get("/risk/blacklist").text
    assert "按状态统计名单记录" in overview
    assert operator.get(f"/risk/blacklist/{listing_id}").text.count("异议成立") >= 1


def test_an_objection_after_the_window_is_shown_as_an_error(
    client: TestClient, auth: Auth, signed: None, portal: Portal, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = client.post(
        "/api/v1/risk/blacklist",
        json={
            "credit_code": ENTERPRISE_CODE,
            "basis": "default",
            "loan_id": loan["id"],
            "reason": "逾期",
        },
        headers=auth("bank"),
    ).json()
    client.post(
        f"/api/v1/risk/blacklist/{listing['id']}/review",
        json={"outcome": "notice"},
        headers=auth("operator"),
    )
    before = counts(session)
    with clock.frozen_at(clock.now() + timedelta(days=20)):
        enterprise = portal("enterprise")
        page = enterprise.get(f"/risk/blacklist/{listing['id']}").text
        assert 'data-testid="objection-form"' not in page  # the window closed
        late = enterprise.post(
            f"/risk/blacklist/{listing['id']}/object",
            data={"csrf_token": csrf_of(page), "text": "异议"},
        )
    assert late.status_code == 409
    assert 'data-error-for="objection_until"' in late.text
    assert "异议期已于" in late.text
    assert counts(session) == before


def test_fraud_cases_and_the_overview_in_the_portal(
    client: TestClient, auth: Auth, market: None, portal: Portal, session: Session
) -> None:
    product = publish(client, auth("bank"))
    founded = (clock.today() - timedelta(days=20)).isoformat()
    code = register(session, 81, established_on=founded)
    session.commit()
    application = apply_as(session, applicant(session, code), product["id"], amount="1500000.00")
    case = fraud_cases.of_application(session, application_id=application.public_id)
    assert case is not None
    bank = portal("bank")
    listed = bank.get("/risk/fraud").text
    assert "欺诈案件" in listed
    assert "新成立企业申请大额贷款" in listed
    page = bank.get(f"/risk/fraud/{case.public_id}").text
    assert "企业成立仅 20 天" in page
    refused = bank.post(
        f"/risk/fraud/{case.public_id}/confirm", data={"csrf_token": csrf_of(page), "note": ""}
    )
    assert refused.status_code == 422
    assert 'data-error-for="note"' in refused.text
    confirmed = bank.post(
        f"/risk/fraud/{case.public_id}/confirm",
        data={"csrf_token": csrf_of(page), "note": "营业执照系伪造"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    after = bank.get(f"/risk/fraud/{case.public_id}").text
    assert "已确认" in after
    assert "营业执照系伪造" in after
    prefilled = bank.get(f"/risk/blacklist?case={case.public_id}").text
    assert f'value="{case.public_id}"' in prefilled

    bank2 = portal("bank2")
    assert bank2.get(f"/risk/fraud/{case.public_id}").status_code == 403
    operator = portal("operator")
    overview = operator.get("/risk/fraud").text
    assert "反欺诈总览" in overview
    assert "按规则统计命中" in overview
    assert portal("enterprise").get("/risk/fraud").status_code == 403
