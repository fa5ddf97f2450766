"""A claim's whole story through the real app: a loan enrolled at disbursement under the
4:3:2:1 scheme, defaulted, claimed with the loss from its schedule, reviewed by the
guarantor and the operator, paid to the fen with the pool's part from the pool, recovered
in the same ratio; every movement of money a ledger leaf."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth
from tests.sharing.conftest import (
    at,
    create_pool,
    create_scheme,
    declare_default,
    disbursed_loan,
    file_claim,
    later,
    move,
)
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.sharing.models import ClaimDocument, Movement


def _leaves(session: Session) -> int:
    """Movements with their leaf in the ledger, whose stored body still matches it."""
    session.expire_all()
    keys.create_key()
    matched = 0
    for row in session.scalars(select(Movement)):
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.ref == row.public_id))
        assert entry is not None
        assert row.party is None or row.party.encode() not in bytes(entry.leaf)
        assert ledger_service.check_event(session, digest=entry.digest.hex()).body == "matches"
        matched += 1
    return matched


def _movements(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Movement)) or 0)


def test_a_claim_from_filing_to_recovery(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    loan = disbursed_loan(client, auth)
    enrolled = client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank")).json()
    assert enrolled["scheme_id"] == scheme["id"]
    assert enrolled["scheme_version"] == 1
    assert Decimal(enrolled["fee"]) == Decimal("600.00")  # 120,000 × 1% × 6/12
    assert (
        client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("enterprise")).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank2")).status_code == 404
    )

    with at(later()):
        declare_default(client, auth, loan["id"])
        filed = file_claim(client, auth, loan["id"], idempotency_key="k-1")
        assert filed.status_code == 201, filed.text
        claim = filed.json()
        assert claim["state"] == "filed"
        assert Decimal(claim["principal_loss"]) == Decimal("120000.00")  # nothing was repaid
        assert Decimal(claim["interest_loss"]) > 0
        assert Decimal(claim["claimed_loss"]) == Decimal(claim["principal_loss"]) + Decimal(
            claim["interest_loss"]
        )
        again = file_claim(client, auth, loan["id"], idempotency_key="k-1")
        assert again.status_code == 200
        assert again.json()["id"] == claim["id"]

        reviewed = move(client, auth, "guarantor1", claim["id"], "review")
        assert reviewed.status_code == 200, reviewed.text
        pool = client.get(
            f"/api/v1/sharing/pools/{scheme['pool']['id']}", headers=auth("operator")
        ).json()
        pool_part = Decimal(reviewed.json()["pool_reserved"])
        assert Decimal(pool["reserved"]) == pool_part > 0

        unendorsed = move(client, auth, "operator", claim["id"], "approve")
        assert unendorsed.status_code == 409
        assert move(client, auth, "bank", claim["id"], "endorse").status_code == 403
        assert move(client, auth, "guarantor1", claim["id"], "endorse").status_code == 200
        assert move(client, auth, "guarantor1", claim["id"], "approve").status_code == 403
        approved = move(client, auth, "operator", claim["id"], "approve")
        assert approved.json()["state"] == "approved"
        paid = move(client, auth, "operator", claim["id"], "pay").json()

    loss = Decimal(paid["approved_loss"])
    amounts = [Decimal(share["amount"]) for share in paid["shares"]]
    assert sum(amounts) == loss
    assert all(amount >= 0 for amount in amounts)
    assert [share["role"] for share in paid["shares"]] == [
        "guarantor",
        "reguarantor",
        "bank",
        "treasury",
    ]
    for amount, weight in zip(amounts, (4, 3, 2, 1), strict=True):
        assert abs(amount - loss * weight / 10) < Decimal("0.01")
    assert paid["state"] == "paid"
    assert Decimal(paid["paid_total"]) == loss
    pool = client.get(
        f"/api/v1/sharing/pools/{scheme['pool']['id']}", headers=auth("operator")
    ).json()
    assert Decimal(pool["balance"]) == Decimal("1000000.00") - amounts[3]
    assert Decimal(pool["reserved"]) == 0

    recovered = client.post(
        f"/api/v1/sharing/claims/{claim['id']}/recoveries",
        json={"amount": "10000.00"},
        headers=auth("bank"),
    )
    assert recovered.status_code == 200, recovered.text
    back = [Decimal(share["recovered"]) for share in recovered.json()["shares"]]
    assert sum(back) == Decimal("10000.00")
    assert back == [Decimal("4000.00"), Decimal("3000.00"), Decimal("2000.00"), Decimal("1000.00")]
    assert recovered.json()["state"] == "recovering"
    before = _movements(session)
    too_much = client.post(
        f"/api/v1/sharing/claims/{claim['id']}/recoveries",
        json={"amount": str(loss)},
        headers=auth("bank"),
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["field"] == "amount"
    assert _movements(session) == before
    closed = move(client, auth, "operator", claim["id"], "close")
    assert closed.json()["state"] == "closed"
    # Every movement of money is one leaf of the ledger: the top-up, the fee, the reserve and
    # its release, four parts of the payout, four of the recovery.
    assert _movements(session) == _leaves(session) == 12


def test_the_guarantor_may_ask_for_documents_and_the_operator_approve_a_part(
    client: TestClient, auth: Auth, scheme: dict[str, Any]
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
        move(client, auth, "guarantor1", claim["id"], "review")
        no_reason = move(client, auth, "guarantor1", claim["id"], "request_documents")
        assert no_reason.status_code == 422
        assert no_reason.json()["error"]["field"] == "reason"
        asked = move(
            client, auth, "guarantor1", claim["id"], "request_documents", reason="请补充催收记录"
        )
        assert asked.json()["state"] == "filed"
        assert asked.json()["documents_requested"] == "请补充催收记录"
        assert Decimal(asked.json()["pool_reserved"]) == 0
        move(client, auth, "guarantor1", claim["id"], "review")
        move(client, auth, "guarantor1", claim["id"], "endorse")
        unexplained = move(client, auth, "operator", claim["id"], "approve_part", amount="50000.00")
        assert unexplained.status_code == 422
        too_much = move(
            client,
            auth,
            "operator",
            claim["id"],
            "approve_part",
            amount=claim["claimed_loss"],
            reason="部分",
        )
        assert too_much.status_code == 422
        assert too_much.json()["error"]["field"] == "amount"
        part = move(
            client,
            auth,
            "operator",
            claim["id"],
            "approve_part",
            amount="50000.01",
            reason="利息不予认定",
        )
        assert part.json()["state"] == "partly_approved"
        paid = move(client, auth, "operator", claim["id"], "pay").json()
    amounts = [Decimal(share["amount"]) for share in paid["shares"]]
    assert sum(amounts) == Decimal("50000.01")
    # 50,000.01 × 40/30/20/10: the odd fen goes to the largest remainder, the guarantor's.
    assert amounts == [
        Decimal("20000.01"),
        Decimal("15000.00"),
        Decimal("10000.00"),
        Decimal("5000.00"),
    ]


def test_a_rejected_claim_gives_its_reserve_back(
    client: TestClient, auth: Auth, scheme: dict[str, Any]
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
        move(client, auth, "guarantor1", claim["id"], "review")
        assert move(client, auth, "operator", claim["id"], "reject").status_code == 422
        rejected = move(client, auth, "operator", claim["id"], "reject", reason="未按约定催收")
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["state_reason"] == "未按约定催收"
    pool = client.get(
        f"/api/v1/sharing/pools/{scheme['pool']['id']}", headers=auth("operator")
    ).json()
    assert Decimal(pool["reserved"]) == 0
    assert Decimal(pool["balance"]) == Decimal("1000000.00")
    listed = client.get("/api/v1/sharing/claims", headers=auth("guarantor1")).json()
    assert [item["id"] for item in listed["items"]] == [claim["id"]]
    assert client.get("/api/v1/sharing/claims", headers=auth("bank2")).json()["total"] == 0
    assert (
        client.get(f"/api/v1/sharing/claims/{claim['id']}", headers=auth("bank2")).status_code
        == 404
    )


def test_claims_beyond_the_pool_are_paid_pro_rata_and_the_pool_never_goes_below_zero(
    client: TestClient, auth: Auth, guarantor: str
) -> None:
    pool = create_pool(client, auth, amount="10000.00")
    create_scheme(client, auth, guarantor)
    loans = [disbursed_loan(client, auth) for _ in range(2)]
    with at(later()):
        ids = []
        for loan in loans:
            declare_default(client, auth, loan["id"])
            claim = file_claim(client, auth, loan["id"]).json()
            move(client, auth, "guarantor1", claim["id"], "review")
            move(client, auth, "guarantor1", claim["id"], "endorse")
            move(client, auth, "operator", claim["id"], "approve")
            ids.append(claim["id"])
        held = client.get(f"/api/v1/sharing/pools/{pool['id']}", headers=auth("operator")).json()
        wanted = Decimal(held["reserved"])
        assert wanted > Decimal("10000.00")  # the two treasury tenths exceed the balance
        paid = [move(client, auth, "operator", claim_id, "pay").json() for claim_id in ids]
    after = client.get(f"/api/v1/sharing/pools/{pool['id']}", headers=auth("operator")).json()
    assert Decimal(after["balance"]) >= 0
    assert Decimal(after["reserved"]) == 0
    from_pool = Decimal("10000.00") - Decimal(after["balance"])
    treasury = [Decimal(claim["shares"][3]["amount"]) for claim in paid]
    shortfall = [Decimal(claim["pool_shortfall"]) for claim in paid]
    assert from_pool == sum(t - s for t, s in zip(treasury, shortfall, strict=True))
    assert all(s > 0 for s in shortfall)  # each claim got its fair part, not first come
    for claim in paid:
        amounts = [Decimal(share["amount"]) for share in claim["shares"]]
        assert sum(amounts) == Decimal(claim["approved_loss"])
        assert Decimal(claim["paid_total"]) == Decimal(claim["approved_loss"]) - Decimal(
            claim["pool_shortfall"]
        )


def test_the_lender_sends_the_documents_asked_for_and_the_parties_fetch_them(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
        move(client, auth, "guarantor1", claim["id"], "review")
        move(client, auth, "guarantor1", claim["id"], "request_documents", reason="请补充催收记录")
        url = f"/api/v1/sharing/claims/{claim['id']}/documents"
        sent = client.post(
            url,
            files=[("files", ("催收记录.pdf", b"%PDF-1.7 collection log", "application/pdf"))],
            headers=auth("bank"),
        )
        assert sent.status_code == 201, sent.text
        (document,) = sent.json()["documents"]
        assert (document["filename"], document["content_type"]) == (
            "催收记录.pdf",
            "application/pdf",
        )
        for reader in ("guarantor1", "operator", "bank"):
            fetched = client.get(f"{url}/{document['id']}", headers=auth(reader))
            assert fetched.status_code == 200, reader
            assert fetched.content == b"%PDF-1.7 collection log"
            assert fetched.headers["x-content-type-options"] == "nosniff"
        assert client.get(f"{url}/{document['id']}", headers=auth("bank2")).status_code == 404
        shown = client.get(f"/api/v1/sharing/claims/{claim['id']}", headers=auth("guarantor1"))
        assert [d["id"] for d in shown.json()["documents"]] == [document["id"]]

        # refused, and nothing kept: not the lender, not a document, nothing sent, decided
        before = session.scalar(select(func.count()).select_from(ClaimDocument))
        by_guarantor = client.post(
            url,
            files=[("files", ("x.pdf", b"%PDF-1.7 x", "application/pdf"))],
            headers=auth("guarantor1"),
        )
        assert by_guarantor.status_code == 403
        disguised = client.post(
            url,
            files=[("files", ("凭证.pdf", b"<html>not a pdf</html>", "application/pdf"))],
            headers=auth("bank") | {"Accept-Language": "en"},
        )
        assert disguised.status_code == 422
        assert disguised.json()["error"]["field"] == "files"
        assert "is not a PDF, PNG, JPEG or OFD file" in disguised.json()["error"]["message"]
        move(client, auth, "guarantor1", claim["id"], "reject", reason="不符合代偿条件")
        late = client.post(
            url,
            files=[("files", ("x.pdf", b"%PDF-1.7 x", "application/pdf"))],
            headers=auth("bank"),
        )
        assert late.status_code == 409
        assert session.scalar(select(func.count()).select_from(ClaimDocument)) == before
