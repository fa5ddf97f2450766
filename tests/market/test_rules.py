"""Automatic approval: rules decide at once with their trace, good credit earns a lower
rate, hard declines reject, an unsettled application waits for a person, bad rules are
refused with nothing stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import list_as_dishonest
from tests.market.conftest import Auth, apply, publish
from xinyidai.market.models import Application, DecisionRule, Product
from xinyidai.market.schemas import GRADES, EnterpriseFacts
from xinyidai.market.service import rules
from xinyidai.scoring import service as scoring_service

RATES = {"AAA": "3.5000", "AA": "3.8000", "A": "4.2000", "BBB": "4.8000", "B": "5.6000"}


def _rules(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "min_grade": "C",
        "amount_caps": {"AAA": "3000000.00", "A": "800000.00", "B": "300000.00"},
        "rates": RATES,
        "hard_declines": ["dishonest", "enforcement"],
    }
    body.update(overrides)
    return body


def _grade(session: Session) -> str:
    grade = scoring_service.current_or_rate(session, credit_code=ENTERPRISE_CODE).grade
    session.commit()
    return grade


def test_rules_approve_at_once_with_the_cap_and_rate_of_the_grade(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    configured = client.put(
        f"/api/v1/products/{product['id']}/rules", json=_rules(), headers=auth("bank")
    )
    assert configured.status_code == 200, configured.text
    grade = _grade(session)
    app = apply(client, auth("enterprise"), product["id"], amount="2000000.00")
    assert app["state"] == "approved"
    assert app["decision_mode"] == "automatic"
    assert app["decided_by"] == "system:rules"
    expected_cap = rules.at_grade(_rules()["amount_caps"], grade)
    expected_amount = min(Decimal("2000000.00"), expected_cap or Decimal("2000000.00"))
    assert Decimal(app["decided_amount"]) == expected_amount
    expected_rate = rules.at_grade(RATES, grade) or Decimal(product["rate_max"])
    assert Decimal(app["decided_rate"]) == expected_rate
    assert [step["rule"] for step in app["decision_trace"]] == [
        "decline:dishonest",
        "decline:enforcement",
        "grade",
        "amount_cap",
        "rate",
    ]
    assert app["decision_ms"] is not None
    times = {
        t["mode"]: t
        for t in client.get("/api/v1/market/decision-times", headers=auth("operator")).json()
    }
    assert times["automatic"]["count"] == 1
    assert times["automatic"]["p95_ms"] == app["decision_ms"]


def test_a_dishonest_applicant_is_declined_at_once(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"), eligibility={})
    client.put(f"/api/v1/products/{product['id']}/rules", json=_rules(), headers=auth("bank"))
    list_as_dishonest(session, ENTERPRISE_CODE)
    session.commit()
    app = apply(client, auth("enterprise"), product["id"])
    assert app["state"] == "rejected"
    assert app["decision_reason"] == "hard decline: dishonest"
    assert app["decision_trace"][0] == {
        "rule": "decline:dishonest",
        "passed": False,
        "detail": "dishonest=yes",
    }


def test_without_rules_or_with_rules_disabled_a_person_decides(
    client: TestClient, auth: Auth, signed: None
) -> None:
    product = publish(client, auth("bank"))
    assert apply(client, auth("enterprise"), product["id"])["state"] == "submitted"
    other = publish(client, auth("bank2"))
    client.put(
        f"/api/v1/products/{other['id']}/rules", json=_rules(enabled=False), headers=auth("bank2")
    )
    assert apply(client, auth("enterprise"), other["id"])["state"] == "submitted"


def _facts(grade: str | None, **flags: bool) -> EnterpriseFacts:
    return EnterpriseFacts(credit_code=ENTERPRISE_CODE, grade=grade, **flags)


def test_good_credit_earns_a_lower_rate_and_a_higher_cap() -> None:
    rule = DecisionRule(
        product_id="prd_x",
        enabled=True,
        min_grade="B",
        amount_caps={"AAA": "3000000.00", "A": "800000.00", "B": "300000.00"},
        rates=RATES,
        hard_declines=["dishonest", "enforcement"],
    )
    product = Product(
        amount_min=Decimal("100000.00"),
        amount_max=Decimal("3000000.00"),
        rate_min=Decimal("3.4500"),
        rate_max=Decimal("6.0000"),
    )
    application = Application(amount=Decimal("2000000.00"), term_months=12)
    outcomes = {g: rules.evaluate(rule, product, application, _facts(g)) for g in GRADES}
    approved = [g for g in GRADES if outcomes[g][0] == "approve"]
    assert approved == ["AAA", "AA", "A", "BBB", "BB", "B"]
    assert [outcomes[g][0] for g in ("CCC", "CC", "C")] == ["reject"] * 3
    rates = [outcomes[g][2] for g in approved]
    assert rates == sorted(rates)  # never a higher rate for a better grade
    assert outcomes["AAA"][2] == Decimal("3.5000")
    assert outcomes["BB"][2] == Decimal("5.6000")  # BB takes the next worse grade set, B
    assert outcomes["AAA"][1] == Decimal("2000000.00")
    assert outcomes["AA"][1] == Decimal("800000.00")
    assert outcomes["BBB"][1] == Decimal("300000.00")
    assert rules.evaluate(rule, product, application, _facts(None))[0] == "refer"
    enforced = rules.evaluate(rule, product, application, _facts("AAA", enforcement=True))
    assert (enforced[0], enforced[3]) == ("reject", "hard decline: enforcement")


def test_bad_rules_are_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    url = f"/api/v1/products/{product['id']}/rules"
    cases = [
        ({"min_grade": "Z"}, "min_grade"),
        ({"amount_caps": {"AA": "9000000.00"}}, "amount_caps.AA"),
        ({"amount_caps": {"Q": "200000.00"}}, "amount_caps.Q"),
        ({"rates": {"A": "9.0000"}}, "rates.A"),
        ({"rates": {"AAA": "5.0000", "B": "4.0000"}}, "rates"),
        ({"hard_declines": ["bad_mood"]}, "hard_declines"),
    ]
    for change, field in cases:
        response = client.put(url, json=_rules(**change), headers=auth("bank"))
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    assert client.put(url, json=_rules(), headers=auth("bank2")).status_code == 403
    assert client.get(url, headers=auth("bank")).status_code == 404
    assert session.scalar(select(func.count()).select_from(DecisionRule)) == 0
