"""``POST /api/v1/verify``, served beside the grading ("usable but invisible"): a yes/no
answer through the access decision, each answer logged; a question that cannot be asked is
refused in the API's error shape, naming the field, and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, events

Auth = Callable[[str], dict[str, str]]

# The demo enterprise's penalty (public): a fine of 20000, decided 100 days ago.
ASK = {"credit_code": ENTERPRISE_CODE, "category": "admin_penalty"}
ENGLISH = {"Accept-Language": "en"}


def _error(response: Response) -> dict[str, Any]:
    """The error body without its request id, once that is checked against the header."""
    error = dict(response.json()["error"])
    assert error.pop("request_id") == response.headers["X-Request-ID"]
    return error


def test_a_bank_is_answered_yes_or_no_and_each_answer_is_logged(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    asked = [
        ({"op": "gt", "field": "fine_amount", "value": 10000}, True),
        ({"op": "lt", "field": "fine_amount", "value": "10000"}, False),
        ({"op": "in", "field": "fine_amount", "value": [20000, 30000]}, True),
        ({"op": "not_exists"}, False),
        ({"op": "gt", "field": "fine_amount", "value": "NaN"}, False),  # text, not a number
    ]
    for question, holds in asked:
        answered = client.post("/api/v1/verify", json=ASK | question, headers=auth("bank"))
        assert answered.status_code == 200, answered.text
        assert answered.json() == {
            "credit_code": ENTERPRISE_CODE,
            "category": "admin_penalty",
            "op": question["op"],
            "field": question.get("field"),
            "holds": holds,
        }
        assert "20000" not in answered.text  # the answer, never the record
    logged = events(session)
    assert [(e.outcome, e.purpose, e.basis, e.channel) for e in logged] == [
        ("allow", "verification", "public", "api:verify")
    ] * len(asked)
    assert {e.subject for e in logged} == {ENTERPRISE_CODE}


@pytest.mark.parametrize(
    ("question", "field", "message"),
    [
        (
            {"op": "like", "field": "fine_amount", "value": 1},
            "op",
            "op must be one of exists, not_exists, eq, ne, gt, gte, lt, lte, in",
        ),
        (
            {"op": "eq", "field": "colour", "value": 1},
            "field",
            "category admin_penalty has no field colour",
        ),
        ({"op": "gt", "field": "fine_amount"}, "value", "a comparison needs a field and a value"),
        (
            {"op": "in", "field": "fine_amount", "value": 20000},
            "value",
            "op in needs a list of values",
        ),
        (
            {"op": "exists", "category": "horoscope"},
            "category",
            "category horoscope is not in the catalogue",
        ),
        (
            {"op": "exists", "credit_code": ENTERPRISE_CODE[:17]},
            "credit_code",
            "credit code must have 18 characters, got 17",
        ),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused_naming_the_field(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    question: dict[str, Any],
    field: str,
    message: str,
) -> None:
    refused = client.post("/api/v1/verify", json=ASK | question, headers=auth("bank") | ENGLISH)
    assert refused.status_code == 422
    assert _error(refused) == {"code": "invalid", "message": message, "field": field}
    assert events(session) == []  # not asked, so nothing seen and nothing logged


def test_the_refusal_speaks_chinese_by_default(
    client: TestClient, auth: Auth, world: World
) -> None:
    refused = client.post("/api/v1/verify", json=ASK | {"op": "like"}, headers=auth("bank"))
    assert _error(refused) == {
        "code": "invalid",
        "message": "op 必须是以下之一：exists, not_exists, eq, ne, gt, gte, lt, lte, in",
        "field": "op",
    }


def test_an_enterprise_may_not_ask_and_nothing_is_logged(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    refused = client.post("/api/v1/verify", json=ASK | {"op": "exists"}, headers=auth("enterprise"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/verify", json=ASK | {"op": "exists"}).status_code == 401
    assert events(session) == []
