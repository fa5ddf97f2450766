"""A client is never told that a write succeeded when it was not stored: the request commits
before it answers, so a commit that fails (the database connection lost at that moment)
answers an error, and the write is not there. The same for a read that delivered data:
its access event is stored, or the client gets an error instead of the data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, grant
from tests.market.conftest import Auth, apply, need_payload, publish
from tests.web.conftest import csrf_of, sign_in
from xinyidai.audit.models import AccessEvent
from xinyidai.core import db as core_db
from xinyidai.market.models import Application, Need


class CommitFault:
    """While ``on``, every commit on the test's database fails as a lost connection does."""

    def __init__(self) -> None:
        self.on = False
        self.failed = 0

    def __call__(self, connection: object) -> None:
        if self.on:
            self.failed += 1
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))


@pytest.fixture
def fault(db_url: str) -> Iterator[CommitFault]:
    engine = core_db.get_engine()
    fault = CommitFault()
    event.listen(engine, "commit", fault)
    yield fault
    event.remove(engine, "commit", fault)


@pytest.fixture
def lenient(client: TestClient) -> TestClient:
    """The app as a real server answers: an unexpected error is a response, not raised."""
    return TestClient(client.app, raise_server_exceptions=False)


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_need_whose_commit_fails_is_answered_with_an_error_and_not_stored(
    lenient: TestClient, auth: Auth, signed: None, session: Session, fault: CommitFault
) -> None:
    headers = auth("enterprise")
    fault.on = True
    answer = lenient.post("/api/v1/needs", json=need_payload(), headers=headers)
    fault.on = False
    assert fault.failed >= 1
    assert answer.status_code >= 500, answer.text
    assert answer.json()["error"]["request_id"]
    assert count(session, Need) == 0
    again = lenient.post("/api/v1/needs", json=need_payload(), headers=headers)
    assert again.status_code == 201  # the next request is served: nothing to restart
    assert count(session, Need) == 1


def test_a_withdrawal_whose_commit_fails_leaves_the_application_as_it_was(
    lenient: TestClient, auth: Auth, signed: None, session: Session, fault: CommitFault
) -> None:
    product = publish(lenient, auth("bank"))
    headers = auth("enterprise")
    application = apply(lenient, headers, product["id"])
    fault.on = True
    answer = lenient.post(f"/api/v1/applications/{application['id']}/withdraw", headers=headers)
    fault.on = False
    assert answer.status_code >= 500, answer.text
    session.expire_all()
    stored = session.scalar(select(Application).where(Application.public_id == application["id"]))
    assert stored is not None
    assert stored.state == application["state"]


def test_a_report_whose_access_event_cannot_be_stored_is_not_delivered(
    lenient: TestClient, auth: Auth, signed: None, session: Session, fault: CommitFault
) -> None:
    bank_id = _bank_id(session)
    grant(session, World(platform_id="", bank_id=bank_id, other_bank_id="", enterprise_id=""))
    headers = auth("bank")
    before = count(session, AccessEvent)
    fault.on = True
    answer = lenient.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/report", headers=headers)
    fault.on = False
    assert answer.status_code >= 500, answer.text
    assert "sections" not in answer.text
    assert count(session, AccessEvent) == before


def _bank_id(session: Session) -> str:
    from xinyidai.iam import service as iam_service

    return iam_service.get_user_or_raise(session, username="bank").organization.public_id


def test_a_portal_form_whose_commit_fails_shows_an_error_and_stores_nothing(
    lenient: TestClient, signed: None, session: Session, fault: CommitFault
) -> None:
    assert sign_in(lenient, "enterprise").status_code == 303  # type: ignore[attr-defined]
    page = lenient.get("/market/needs")
    form = {
        "csrf_token": csrf_of(page.text),
        "amount": "500000",
        "term_months": "12",
        "purpose": "采购原材料",
        "urgency": "normal",
    }
    fault.on = True
    answer = lenient.post("/market/needs", data=form, follow_redirects=False)
    fault.on = False
    assert answer.status_code >= 500
    assert count(session, Need) == 0
