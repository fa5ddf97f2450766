"""Interest subsidies through the real app: a scheme (a share of interest paid, or points),
a bank's bulk application for one period worked out from the interest actually paid,
eligibility (credit loans, first loans), the cap per enterprise a year, approval and
payment (ledger leaves), what the enterprise received, clawback on default, and bad input
refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth
from tests.sharing.conftest import at, declare_default, disbursed_loan
from tests.sharing.test_pages import Portal
from xinyidai.core import clock
from xinyidai.market.models import Repayment
from xinyidai.sharing.models import Movement, MovementKind, SubsidyBatch, SubsidyLine
from xinyidai.sharing.service.subsidies import subsidy_of


def _scheme(client: TestClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "首贷贴息",
        "region_code": "450000",
        "rule": "share",
        "rate": "50",
        "valid_from": "2020-01-01",
        **overrides,
    }
    made = client.post("/api/v1/sharing/subsidy-schemes", json=body, headers=auth("operator"))
    assert made.status_code == 201, made.text
    active = client.post(
        f"/api/v1/sharing/subsidy-schemes/{made.json()['id']}/transitions",
        json={"transition": "activate"},
        headers=auth("operator"),
    )
    assert active.status_code == 200, active.text
    return dict(active.json())


def _repay_first_instalment(client: TestClient, auth: Auth, loan: dict[str, Any]) -> Decimal:
    line = loan["schedule"][0]
    due = Decimal(line["principal"]) + Decimal(line["interest"])
    paid = client.post(
        f"/api/v1/loans/{loan['id']}/repayments", json={"amount": str(due)}, headers=auth("bank")
    )
    assert paid.status_code == 201, paid.text
    return Decimal(line["interest"])


def _apply(client: TestClient, auth: Auth, scheme: dict[str, Any], **period: str) -> Any:
    today = clock.today()
    body = {
        "scheme_id": scheme["id"],
        "start": period.get("start", today.replace(day=1).isoformat()),
        "end": period.get("end", today.isoformat()),
    }
    return client.post("/api/v1/sharing/subsidy-batches", json=body, headers=auth("bank"))


def test_a_bank_applies_for_a_month_and_the_enterprise_is_paid(
    client: TestClient, auth: Auth, guarantor: str, session: Session, portal: Portal
) -> None:
    scheme = _scheme(
        client,
        auth,
        credit_loans_only=True,
        first_loans_only=True,
        cap_per_enterprise_year="1000.00",
    )
    first, second = disbursed_loan(client, auth), disbursed_loan(client, auth)
    interest = _repay_first_instalment(client, auth, first)
    _repay_first_instalment(client, auth, second)  # not the enterprise's first loan
    batch = _apply(client, auth, scheme)
    assert batch.status_code == 201, batch.text
    made = batch.json()
    assert made["state"] == "submitted"
    assert [item["loan_id"] for item in made["items"]] == [first["id"]]
    assert Decimal(made["items"][0]["interest"]) == interest
    assert Decimal(made["total"]) == min(
        (interest / 2).quantize(Decimal("0.01")), Decimal("1000.00")
    )
    again = _apply(client, auth, scheme)
    assert again.status_code == 201
    assert again.json()["lines"] == 0
    assert (
        client.post(
            f"/api/v1/sharing/subsidy-batches/{made['id']}/transitions",
            json={"transition": "pay"},
            headers=auth("operator"),
        ).status_code
        == 409
    )
    for transition in ("approve", "pay"):
        moved = client.post(
            f"/api/v1/sharing/subsidy-batches/{made['id']}/transitions",
            json={"transition": transition},
            headers=auth("operator"),
        )
        assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "paid"
    page = portal("enterprise").get("/sharing").text
    assert "获得的贴息" in page
    assert f'data-loan="{first["id"]}"' in page
    received = client.get("/api/v1/sharing/subsidies", headers=auth("enterprise")).json()
    assert [Decimal(item["amount"]) for item in received["items"]] == [Decimal(made["total"])]
    paid = session.scalar(
        select(func.count()).select_from(Movement).where(Movement.kind == MovementKind.SUBSIDY)
    )
    assert paid == 1
    assert client.get("/api/v1/sharing/subsidy-batches", headers=auth("bank2")).json()["total"] == 0


def test_the_cap_per_enterprise_a_year_limits_the_subsidy(
    client: TestClient, auth: Auth, guarantor: str
) -> None:
    scheme = _scheme(client, auth, rule="points", rate="2", cap_per_enterprise_year="100.00")
    loan = disbursed_loan(client, auth)
    _repay_first_instalment(client, auth, loan)
    made = _apply(client, auth, scheme).json()
    assert Decimal(made["total"]) == Decimal("100.00")


def test_a_paid_subsidy_is_clawed_back_when_the_loan_defaults(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    scheme = _scheme(client, auth, clawback_on_default=True)
    loan = disbursed_loan(client, auth)
    _repay_first_instalment(client, auth, loan)
    made = _apply(client, auth, scheme).json()
    for transition in ("approve", "pay"):
        client.post(
            f"/api/v1/sharing/subsidy-batches/{made['id']}/transitions",
            json={"transition": transition},
            headers=auth("operator"),
        )
    with at(clock.now() + timedelta(days=75)):
        declare_default(client, auth, loan["id"])
    session.expire_all()
    line = session.scalar(select(SubsidyLine))
    assert line is not None
    assert line.clawed_back
    back = session.scalar(select(Movement).where(Movement.kind == MovementKind.CLAWBACK))
    assert back is not None
    assert back.amount == line.amount


def test_bad_applications_are_refused_and_change_nothing(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    scheme = _scheme(client, auth)
    wrong_rule = client.post(
        "/api/v1/sharing/subsidy-schemes",
        json={
            "name": "x",
            "region_code": "450000",
            "rule": "gift",
            "rate": "5",
            "valid_from": "2020-01-01",
        },
        headers=auth("operator"),
    )
    assert wrong_rule.status_code == 422
    assert wrong_rule.json()["error"]["field"] == "rule"
    before = session.scalar(select(func.count()).select_from(SubsidyBatch))
    backwards = _apply(client, auth, scheme, start="2026-12-31", end="2026-12-01")
    assert backwards.status_code == 422
    assert backwards.json()["error"]["field"] == "end"
    across = _apply(client, auth, scheme, start="2025-12-01", end="2026-01-31")
    assert across.status_code == 422
    assert across.json()["error"]["field"] == "end"
    by_operator = client.post(
        "/api/v1/sharing/subsidy-batches",
        json={"scheme_id": scheme["id"], "start": "2026-12-01", "end": "2026-12-02"},
        headers=auth("operator"),
    )
    assert by_operator.status_code == 403
    assert session.scalar(select(func.count()).select_from(SubsidyBatch)) == before
    assert session.scalar(select(func.count()).select_from(Repayment)) == 0


def test_the_rule_never_pays_more_than_the_interest() -> None:
    assert subsidy_of(
        rule="share", rate=Decimal(50), interest=Decimal("100.01"), loan_rate=Decimal(4)
    ) == Decimal("50.00")
    assert subsidy_of(
        rule="points", rate=Decimal(1), interest=Decimal("400.00"), loan_rate=Decimal(4)
    ) == Decimal("100.00")
    assert subsidy_of(
        rule="points", rate=Decimal(8), interest=Decimal("400.00"), loan_rate=Decimal(4)
    ) == Decimal("400.00")
    assert (
        subsidy_of(rule="share", rate=Decimal(50), interest=Decimal("0"), loan_rate=Decimal(4)) == 0
    )
