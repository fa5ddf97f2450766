"""Alerts raised when something happens to a watched enterprise: a new negative record,
a tax grade falling, a correction, cross-default; once per event and loan."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth
from tests.risk.conftest import alerts_of, lend, penalty, watches_of
from xinyidai.core.db import session_scope
from xinyidai.risk.models import AlertKind, AlertSeverity, AlertState, WatchRelation
from xinyidai.risk.service import alerts


def test_a_live_loan_watches_its_borrower(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = lend(client, auth)
    rows = watches_of(session, loan["id"])
    assert [(r.credit_code, r.relation) for r in rows] == [
        (ENTERPRISE_CODE, WatchRelation.BORROWER)
    ]


def test_a_new_penalty_raises_one_alert_for_the_lender(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = lend(client, auth)
    assert alerts_of(session) == []  # the penalty seeded before the loan raises nothing
    penalty(session)
    raised = alerts_of(session)
    assert len(raised) == 1
    alert = raised[0]
    assert alert.kind == AlertKind.NEGATIVE_RECORD
    assert alert.category == "admin_penalty"
    assert alert.severity == AlertSeverity.MEDIUM
    assert alert.state == AlertState.NEW
    assert alert.loan_id == loan["id"]
    (ref,) = alert.evidence["records"]
    assert ref["category"] == "admin_penalty"
    assert ref["version"] == 1
    # Scanning again, as the sweep does, raises nothing more.
    with session_scope() as other:
        assert alerts.scan(other, codes=[ENTERPRISE_CODE]).raised == []
    assert len(alerts_of(session)) == 1
