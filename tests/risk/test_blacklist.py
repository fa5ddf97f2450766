"""The financial blacklist through the API: proposal with evidence, review, notice and the
objection window, decision, the list read by profiles and product rules, removal and expiry;
every step a salted ledger leaf that names nobody; bad input refused with nothing changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth, application_payload, publish
from tests.profile.test_api import pdf_text
from tests.risk.blacklist_world import counts, defaulted_loan, error_of
from xinyidai.core import clock
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.risk.models import ListingStep
from xinyidai.risk.service import blacklist

API = "/api/v1/risk/blacklist"


def _propose(client: TestClient, auth: Auth, loan_id: str, **body: object) -> dict[str, object]:
    payload = {
        "credit_code": ENTERPRISE_CODE,
        "basis": "default",
        "loan_id": loan_id,
        "reason": "贷款逾期 45 天未还，恶意逃废债",
        "term_days": 365,
        **body,
    }
    response = client.post(API, json=payload, headers=auth("bank"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_proposal_notice_objection_listing_and_removal(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"])
    assert listing["state"] == "proposed"
    assert listing["history"][0]["transition"] == "propose"
    # before the operator's review the enterprise does not see it
    hidden = client.get(f"{API}/{listing['id']}", headers=auth("enterprise"))
    assert hidden.status_code == 404
    assert client.get(API, headers=auth("enterprise")).json()["total"] == 0

    noticed = client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    ).json()
    assert noticed["state"] == "notice"
    window = datetime.fromisoformat(noticed["objection_until"]) - datetime.fromisoformat(
        noticed["notified_at"]
    )
    assert window == timedelta(days=15)
    mine = client.get(API, headers=auth("enterprise")).json()
    assert [item["id"] for item in mine["items"]] == [listing["id"]]
    assert client.get(f"{API}/{listing['id']}", headers=auth("enterprise")).json()["available"] == [
        "object"
    ]

    objected = client.post(
        f"{API}/{listing['id']}/objection",
        data={"text": "逾期系银行扣款系统故障所致，已于次日结清"},
        files=[("files", ("还款凭证.pdf", b"%PDF-1.4 receipt", "application/pdf"))],
        headers=auth("enterprise"),
    )
    assert objected.status_code == 200, objected.text
    body = objected.json()
    assert body["state"] == "objected"
    assert body["objection"].startswith("逾期系")
    document = body["documents"][0]
    assert (document["role"], document["filename"], document["size"]) == (
        "objection",
        "还款凭证.pdf",
        16,
    )
    fetched = client.get(
        f"{API}/{listing['id']}/documents/{document['id']}", headers=auth("operator")
    )
    assert fetched.content == b"%PDF-1.4 receipt"

    listed = client.post(
        f"{API}/{listing['id']}/decision",
        json={"outcome": "list", "reason": "异议不成立：银行流水显示账户余额不足"},
        headers=auth("operator"),
    ).json()
    assert listed["state"] == "listed"
    assert listed["listed_until"] is not None
    assert [step["transition"] for step in listed["history"]] == [
        "propose",
        "notice",
        "object",
        "list",
    ]
    # shown to a reader the access decision lets read black_list (public in the catalogue)
    status = client.get(
        f"/api/v1/risk/blacklist-status/{ENTERPRISE_CODE}", headers=auth("bank2")
    ).json()
    assert status["id"] == listed["id"]
    assert status["reason"] == "贷款逾期 45 天未还，恶意逃废债"
    session.expire_all()
    assert blacklist.is_listed(session, ENTERPRISE_CODE)
    profile = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("operator")
    ).json()
    assert profile["financial_blacklist"]["id"] == listed["id"]
    own = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("enterprise"))
    assert own.json()["financial_blacklist"]["listed_until"] == listed["listed_until"]
    report = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile",
        params={"format": "pdf"},
        headers=auth("operator"),
    )
    assert report.status_code == 200
    text = pdf_text(report.content)
    assert "金融领域失信名单：" in text

    removed = client.post(
        f"{API}/{listing['id']}/remove",
        json={"reason": "已完成信用修复"},
        headers=auth("operator"),
    ).json()
    assert removed["state"] == "removed"
    assert removed["state_reason"] == "已完成信用修复"
    assert (
        client.get(f"/api/v1/risk/blacklist-status/{ENTERPRISE_CODE}", headers=auth("bank2")).json()
        is None
    )


def test_every_step_is_a_salted_ledger_leaf_that_names_nobody(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"])
    client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    )
    session.expire_all()
    steps = list(session.scalars(select(ListingStep).order_by(ListingStep.id)))
    assert [s.transition for s in steps] == ["propose", "notice"]
    keys.create_key()
    for step in steps:
        ref = f"{listing['id']}:{step.id}"
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.ref == ref))
        assert entry is not None
        leaf = bytes(entry.leaf)
        for secret in (ENTERPRISE_CODE.encode(), str(listing["id"]).encode(), b"default"):
            assert secret not in leaf
        found = ledger_service.check_event(session, digest=entry.digest.hex())
        assert found.body == "matches"
    # a guessed body (the right listing, the wrong salt) is in no leaf
    listing_row = blacklist.get_or_raise(session, listing_id=str(listing["id"]))
    guess = ledger_service.commitment(
        kind=blacklist.LEDGER_KIND,
        ref=f"{listing['id']}:{steps[0].id}",
        subject=blacklist.LEDGER_SUBJECT,
        actor=blacklist.LEDGER_ACTOR,
        salt=b"\x00" * 16,
        digest=steps[0].digest,
    )
    ref = f"{listing['id']}:{steps[0].id}"
    assert (
        ledger_service.find_event(session, kind=blacklist.LEDGER_KIND, ref=ref, digest=guess)
        is None
    )
    assert listing_row.state == "notice"


def test_the_operator_lists_only_after_the_window_and_the_listing_expires(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"], term_days=30)
    client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    )
    before = counts(session)
    early = client.post(
        f"{API}/{listing['id']}/decision", json={"outcome": "list"}, headers=auth("operator")
    )
    assert early.status_code == 409
    assert error_of(early)["field"] == "objection_until"
    assert counts(session) == before
    with clock.frozen_at(clock.now() + timedelta(days=16)):
        late = client.post(
            f"{API}/{listing['id']}/objection",
            data={"text": "迟到的异议"},
            headers=auth("enterprise"),
        )
        assert late.status_code == 409
        assert error_of(late)["field"] == "objection_until"
        assert counts(session) == before
        listed = client.post(
            f"{API}/{listing['id']}/decision", json={"outcome": "list"}, headers=auth("operator")
        )
        assert listed.json()["state"] == "listed"
    with clock.frozen_at(clock.now() + timedelta(days=47)):
        session.expire_all()
        assert blacklist.expire_due(session) == 1
        session.commit()
        assert blacklist.expire_due(session) == 0
    seen = client.get(f"{API}/{listing['id']}", headers=auth("bank")).json()
    assert seen["state"] == "expired"
    assert seen["history"][-1]["actor"] == "system:expiry"


def test_a_successful_objection_rejects_the_listing(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"])
    client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    )
    client.post(
        f"{API}/{listing['id']}/objection", data={"text": "已结清"}, headers=auth("enterprise")
    )
    no_reason = client.post(
        f"{API}/{listing['id']}/decision", json={"outcome": "reject"}, headers=auth("operator")
    )
    assert no_reason.status_code == 422
    assert error_of(no_reason)["field"] == "reason"
    upheld = client.post(
        f"{API}/{listing['id']}/decision",
        json={"outcome": "reject", "reason": "异议成立"},
        headers=auth("operator"),
    ).json()
    assert upheld["state"] == "rejected"
    session.expire_all()
    assert not blacklist.is_listed(session, ENTERPRISE_CODE)


def test_product_rules_hard_decline_a_listed_enterprise(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"])
    client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    )
    client.post(
        f"{API}/{listing['id']}/objection", data={"text": "异议"}, headers=auth("enterprise")
    )
    client.post(
        f"{API}/{listing['id']}/decision", json={"outcome": "list"}, headers=auth("operator")
    )
    product = publish(client, auth("bank2"), name="第二银行快贷")
    rules = client.put(
        f"/api/v1/products/{product['id']}/rules",
        json={"min_grade": "C", "hard_declines": ["blacklisted"]},
        headers=auth("bank2"),
    )
    assert rules.status_code == 200, rules.text
    applied = client.post(
        "/api/v1/applications",
        json=application_payload(product["id"]),
        headers=auth("enterprise"),
    ).json()
    assert applied["state"] == "rejected"
    assert applied["decision_reason"] == "hard decline: blacklisted"


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = defaulted_loan(client, auth)
    other = client.post(
        API,
        json={
            "credit_code": ENTERPRISE_CODE,
            "basis": "default",
            "loan_id": loan["id"],
            "reason": "x",
        },
        headers=auth("bank2"),
    )
    assert other.status_code == 403
    assert error_of(other)["field"] == "loan_id"
    before = counts(session)
    base = {"credit_code": ENTERPRISE_CODE, "basis": "default", "reason": "逾期"}
    cases = [
        ({**base, "credit_code": "91450100MA5L000000"}, 422, "credit_code"),
        ({**base, "credit_code": "91450103MA5KXXXX0U"}, None, "credit_code"),
        (base, 422, "loan_id"),
        ({**base, "loan_id": "lon_nope"}, 404, "loan_id"),
        ({**base, "basis": "fraud"}, 422, "case_id"),
        ({**base, "basis": "fraud", "case_id": "frc_nope"}, 404, "case_id"),
        ({**base, "basis": "rumour", "loan_id": loan["id"]}, 422, "basis"),
        ({**base, "loan_id": loan["id"], "reason": "  "}, 422, "reason"),
        ({**base, "loan_id": loan["id"], "term_days": 0}, 422, "term_days"),
    ]
    for payload, status, field in cases:
        response = client.post(API, json=payload, headers=auth("bank"))
        assert response.status_code >= 400, payload
        if status is not None:
            assert response.status_code == status, (payload, response.text)
        assert error_of(response)["field"] == field, (payload, response.text)
    assert counts(session) == before

    listing = _propose(client, auth, loan["id"])
    before = counts(session)
    duplicate = client.post(API, json={**base, "loan_id": loan["id"]}, headers=auth("bank"))
    assert duplicate.status_code == 409
    assert error_of(duplicate)["field"] == "credit_code"
    for path, body, who, status, field in [
        ("/bl_nope/review", {"outcome": "notice"}, "operator", 404, "listing_id"),
        (f"/{listing['id']}/review", {"outcome": "maybe"}, "operator", 422, "outcome"),
        (f"/{listing['id']}/decision", {"outcome": "list"}, "operator", 409, "state"),
        (f"/{listing['id']}/remove", {"reason": "修复"}, "operator", 409, "state"),
        (f"/{listing['id']}/review", {"outcome": "reject"}, "operator", 422, "reason"),
    ]:
        response = client.post(f"{API}{path}", json=body, headers=auth(who))
        assert response.status_code == status, (path, response.text)
        assert error_of(response)["field"] == field, (path, response.text)
    objection = client.post(
        f"{API}/{listing['id']}/objection", data={"text": "异议"}, headers=auth("enterprise")
    )
    assert objection.status_code == 404  # not noticed yet: the enterprise does not see it
    assert client.get(f"{API}/{listing['id']}", headers=auth("bank2")).status_code == 404
    review_by_bank = client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("bank")
    )
    assert review_by_bank.status_code == 403
    assert counts(session) == before
    unknown = client.get(f"{API}/bl_nope", headers=auth("operator"))
    assert unknown.status_code == 404
    assert error_of(unknown)["field"] == "listing_id"
    bad_state = client.get(f"{API}?state=gone", headers=auth("operator"))
    assert bad_state.status_code == 422
    assert error_of(bad_state)["field"] == "state"


def test_an_empty_objection_or_oversized_document_is_refused(
    client: TestClient, auth: Auth, signed: None, session: Session, monkeypatch: object
) -> None:
    loan = defaulted_loan(client, auth)
    listing = _propose(client, auth, loan["id"])
    client.post(
        f"{API}/{listing['id']}/review", json={"outcome": "notice"}, headers=auth("operator")
    )
    before = counts(session)
    empty = client.post(
        f"{API}/{listing['id']}/objection", data={"text": " "}, headers=auth("enterprise")
    )
    assert empty.status_code == 422
    assert error_of(empty)["field"] == "text"
    big = client.post(
        f"{API}/{listing['id']}/objection",
        data={"text": "异议"},
        files=[("files", ("big.bin", b"x" * (10 * 1024 * 1024 + 1), "application/octet-stream"))],
        headers=auth("enterprise"),
    )
    assert big.status_code == 413
    assert error_of(big)["field"] == "documents"
    # the declared type is not trusted: a page of HTML named and sent as a PDF is refused
    disguised = client.post(
        f"{API}/{listing['id']}/objection",
        data={"text": "异议"},
        files=[("files", ("凭证.pdf", b"<html><script>x</script>", "application/pdf"))],
        headers=auth("enterprise") | {"Accept-Language": "en"},
    )
    assert disguised.status_code == 422
    assert error_of(disguised)["field"] == "documents"
    assert "凭证.pdf is not a PDF, PNG, JPEG or OFD file" in error_of(disguised)["message"]
    assert counts(session) == before
