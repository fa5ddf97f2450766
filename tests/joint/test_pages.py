"""The joint-modelling page in the portal, in Chinese by default: the institution asks a
threshold question and reads yes or no (never the value), a refused or limited question is
shown next to its field, the operator reads the alignments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import TAX_PAID, World, events, grant
from tests.web.conftest import csrf_of, sign_in


def _as(client: TestClient, username: str) -> str:
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303  # type: ignore[attr-defined]
    return csrf_of(client.get("/dashboard").text)


def test_the_bank_asks_a_threshold_question_in_the_portal(
    client: TestClient, world: World, session: Session, xyd_env: Callable[..., Any]
) -> None:
    xyd_env(XYD_JOINT_THRESHOLD_ANSWERS="1")
    grant(session, world, purpose="verification")
    token = _as(client, "bank")
    assert "/joint" in client.get("/dashboard").text
    page = client.get("/joint")
    assert page.status_code == 200
    assert "联合建模" in page.text
    form = {
        "csrf_token": token,
        "credit_code": ENTERPRISE_CODE,
        "question": "tax_paid_last_year",
        "threshold": "100000",
    }
    answered = client.post("/joint/thresholds", data=form)
    assert answered.status_code == 200, answered.text
    assert 'data-testid="threshold-answer"' in answered.text
    assert TAX_PAID not in answered.text
    assert [e.channel for e in events(session)] == ["api:joint.threshold"]
    limited = client.post("/joint/thresholds", data=form | {"threshold": "200000"})
    assert limited.status_code == 429
    assert "请于" in limited.text
    refused = client.post(
        "/joint/thresholds", data=form | {"question": "no_arrears", "threshold": ""}
    )
    assert refused.status_code == 403
    assert [e.outcome for e in events(session)] == ["allow", "deny"]
    forged = client.post("/joint/thresholds", data=form | {"csrf_token": "nonsense"})
    assert forged.status_code in (400, 403)


def test_the_operator_reads_alignments_and_an_enterprise_may_not(
    client: TestClient, world: World, session: Session
) -> None:
    _as(client, "operator")
    page = client.get("/joint")
    assert page.status_code == 200
    assert 'data-testid="alignments"' in page.text
    assert 'data-testid="threshold-form"' not in page.text
    _as(client, "enterprise")
    assert client.get("/joint").status_code == 403
