"""``POST /api/v1/joint/thresholds``: threshold answers (可验证不可见). A yes or no through
the access decision, never the value; every answer an access event; at most
``XYD_JOINT_THRESHOLD_ANSWERS`` answers per organization, enterprise and question in the
window, so that a bank walking thresholds cannot close in on a value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import TAX_PAID, World, count, events, grant
from xinyidai.core import clock
from xinyidai.joint.models import ThresholdAnswer

Auth = Callable[[str], dict[str, str]]
URL = "/api/v1/joint/thresholds"
ENGLISH = {"Accept-Language": "en"}
TAX = {"credit_code": ENTERPRISE_CODE, "question": "tax_paid_last_year"}
# The rating's indicator: tax paid within a year of the enterprise's latest payment (the
# world's two payments, 40 and 400 days ago).
TAX_LAST_YEAR = Decimal(TAX_PAID) + Decimal(99000)
ALL_CATEGORIES = ["tax_payment", "social_insurance", "housing_fund", "utility_payment"]


def ask(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(URL, json=body, headers=headers | ENGLISH)


def test_a_bank_with_a_verification_letter_gets_yes_or_no_never_the_value(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, purpose="verification", categories=ALL_CATEGORIES)
    yes = ask(client, auth("bank"), **TAX, threshold="100000")
    assert yes.status_code == 200, yes.text
    assert (yes.json()["holds"], yes.json()["remaining"]) == (True, 2)
    assert TAX_PAID not in yes.text
    assert str(TAX_LAST_YEAR) not in yes.text
    no = ask(client, auth("bank"), **TAX, threshold=300000)
    assert no.json()["holds"] is False
    headcount = ask(
        client, auth("bank"), credit_code=ENTERPRISE_CODE, question="insured_headcount", threshold=1
    )
    # the demo enterprise's insurance record gives no headcount: a missing value is "no"
    assert headcount.json()["holds"] is False
    clean = ask(client, auth("bank"), credit_code=ENTERPRISE_CODE, question="no_arrears")
    assert clean.json()["holds"] is True
    logged = events(session)
    assert [(e.outcome, e.purpose, e.basis, e.letter_id, e.channel) for e in logged] == [
        ("allow", "verification", "letter", letter.public_id, "api:joint.threshold")
    ] * 4
    assert [e.public_id for e in logged] == [
        a.event_id for a in session.query(ThresholdAnswer).order_by(ThresholdAnswer.id)
    ]
    listed = client.get(URL, headers=auth("bank")).json()
    assert listed["total"] == 4
    assert client.get(URL, headers=auth("bank2")).json()["total"] == 0


def test_registered_capital_is_public_and_answered_for_any_bank(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    body = {"credit_code": ENTERPRISE_CODE, "question": "registered_capital"}
    assert ask(client, auth("bank2"), **body, threshold=5000000).json()["holds"] is True
    assert ask(client, auth("bank2"), **body, threshold=5000001).json()["holds"] is False
    assert [(e.basis, e.outcome) for e in events(session)] == [("public", "allow")] * 2


def test_walking_thresholds_stops_at_the_limit_far_from_the_value(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, purpose="verification")
    low, high = Decimal(0), Decimal(10_000_000)
    steps = 0
    while True:
        middle = (low + high) / 2
        answered = ask(client, auth("bank"), **TAX, threshold=str(middle))
        if answered.status_code == 429:
            break
        assert answered.status_code == 200, answered.text
        steps += 1
        if answered.json()["holds"]:
            low = middle
        else:
            high = middle
    assert steps == 3
    error = answered.json()["error"]
    assert (error["code"], error["field"]) == ("too_many_requests", "question")
    assert int(answered.headers["Retry-After"]) > 29 * 24 * 3600
    # what three answers leave: a band of 1.25 million yuan around the value
    assert high - low == Decimal(1_250_000)
    assert low <= TAX_LAST_YEAR < high
    # the refusal read nothing: no decision, no answer stored
    assert len(events(session)) == 3
    assert count(session, ThresholdAnswer) == 3
    # the limit is per question and per organization
    other = ask(client, auth("bank"), credit_code=ENTERPRISE_CODE, question="no_arrears")
    assert other.status_code == 403  # its letter covers tax only: refused, but not limited
    assert ask(client, auth("bank2"), **TAX, threshold=1).status_code == 403


def test_the_window_frees_answers_again(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    xyd_env: Callable[..., Any],
) -> None:
    xyd_env(XYD_JOINT_THRESHOLD_ANSWERS="1", XYD_JOINT_THRESHOLD_WINDOW_DAYS="7")
    grant(session, world, purpose="verification", valid_until=clock.now() + timedelta(days=60))
    assert ask(client, auth("bank"), **TAX, threshold=1).status_code == 200
    assert ask(client, auth("bank"), **TAX, threshold=2).status_code == 429
    with clock.frozen_at(clock.now() + timedelta(days=7, minutes=1)):
        assert ask(client, auth("bank"), **TAX, threshold=2).status_code == 200


def test_without_a_letter_the_refusal_is_an_access_event_and_nothing_is_answered(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    refused = ask(client, auth("bank"), **TAX, threshold=1)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_basis"
    assert [e.outcome for e in events(session)] == ["deny"]
    assert count(session, ThresholdAnswer) == 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"question": "favourite_colour"}, "question", "must be one of: tax_paid_last_year"),
        ({}, "threshold", "this question needs a threshold"),
        ({"threshold": "lots"}, "threshold", "must be a number"),
        ({"threshold": "-1"}, "threshold", "must be between 0 and"),
        ({"threshold": "NaN"}, "threshold", "must be between 0 and"),
        ({"question": "no_arrears", "threshold": 1}, "threshold", "takes no threshold"),
        ({"credit_code": ENTERPRISE_CODE[:17], "threshold": 1}, "credit_code", "18 characters"),
    ],
)
def test_a_question_that_cannot_be_asked_names_the_field_and_leaves_nothing(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    grant(session, world, purpose="verification")
    refused = ask(client, auth("bank"), **(TAX | body))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == field
    assert message in error["message"]
    assert events(session) == []
    assert count(session, ThresholdAnswer) == 0


def test_an_enterprise_may_not_ask(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    refused = ask(client, auth("enterprise"), **TAX, threshold=1)
    assert refused.status_code == 403
    assert events(session) == []


def test_the_limit_message_speaks_chinese_by_default(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env: Callable[..., Any]
) -> None:
    xyd_env(XYD_JOINT_THRESHOLD_ANSWERS="1")
    grant(session, world, purpose="verification")
    client.post(URL, json=TAX | {"threshold": 1}, headers=auth("bank"))
    refused = client.post(URL, json=TAX | {"threshold": 2}, headers=auth("bank"))
    assert refused.status_code == 429
    assert "请于" in refused.json()["error"]["message"]
