"""``/api/v1/risk/warnings``: an institution's own live loans ranked with reasons, through
the access decision; the operator's view of all; paging; bad input refused, nothing changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.risk.conftest import Book
from xinyidai.audit.models import AccessEvent
from xinyidai.risk.models import LoanWarning
from xinyidai.risk.service import warning

Auth = Callable[[str], dict[str, str]]
URL = "/api/v1/risk/warnings"


@pytest.fixture
def warned(session: Session, book: Book) -> Book:
    warning.refresh(session)
    session.commit()
    return book


def _events(session: Session) -> list[AccessEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AccessEvent)
            .where(AccessEvent.channel == warning.CHANNEL)
            .order_by(AccessEvent.id)
        )
    )


def test_the_lender_sees_its_own_loans_ranked_with_reasons(
    client: TestClient, auth: Auth, session: Session, warned: Book, monitoring_letter: str
) -> None:
    response = client.get(URL, headers=auth("bank"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "page", "size"}
    ids = [item["loan_id"] for item in body["items"]]
    # its two live loans, not the second bank's; the borrower with a letter first
    assert ids == [warned.troubled, warned.clean]
    assert body["total"] == 2
    first, second = body["items"]
    assert first["probability"] > 0
    assert first["band"]
    assert first["reasons"]
    assert first["withheld"] is None
    assert first["reasons"][0]["text"]  # Chinese by default
    assert all(not r["text"].isascii() for r in first["reasons"])
    # no letter from the other enterprise: listed, but nothing of its warning shown
    assert second["credit_code"] == OTHER_CODE
    assert second["withheld"]
    assert second["probability"] is None
    assert second["reasons"] == []
    assert second["band"] is None
    assert second["score"] is None
    # the warning shown was one recorded read for post-loan monitoring
    events = _events(session)
    assert [(e.subject, e.purpose, e.outcome) for e in events] == [
        (ENTERPRISE_CODE, "post_loan_monitoring", "allow")
    ]


def test_english_on_request(
    client: TestClient, auth: Auth, warned: Book, monitoring_letter: str
) -> None:
    body = client.get(URL, headers=auth("bank") | {"Accept-Language": "en"}).json()
    assert body["items"][0]["reasons"][0]["text"].isascii()


def test_without_a_letter_every_warning_is_withheld_and_none_is_ranked(
    client: TestClient, auth: Auth, warned: Book
) -> None:
    body = client.get(URL, headers=auth("bank")).json()
    assert [item["loan_id"] for item in body["items"]] == sorted([warned.troubled, warned.clean])
    assert all(item["withheld"] and item["probability"] is None for item in body["items"])
    # a probability filter lists only what may be shown: nothing
    floor = client.get(URL, params={"min_probability": 0.0}, headers=auth("bank")).json()
    assert floor["total"] == 0


def test_paging_and_the_probability_filter(
    client: TestClient, auth: Auth, warned: Book, monitoring_letter: str
) -> None:
    page2 = client.get(URL, params={"size": 1, "page": 2}, headers=auth("bank")).json()
    assert (page2["total"], page2["page"], page2["size"]) == (2, 2, 1)
    assert [item["loan_id"] for item in page2["items"]] == [warned.clean]
    shown = client.get(URL, headers=auth("bank")).json()["items"][0]["probability"]
    above = client.get(URL, params={"min_probability": shown}, headers=auth("bank")).json()
    assert [item["loan_id"] for item in above["items"]] == [warned.troubled]
    over = client.get(
        URL, params={"min_probability": min(1.0, shown + 0.0001)}, headers=auth("bank")
    )
    assert over.json()["total"] == 0


def test_the_operator_sees_all_and_filters_by_institution(
    client: TestClient, auth: Auth, session: Session, warned: Book
) -> None:
    body = client.get(URL, headers=auth("operator")).json()
    assert body["total"] == 3
    probabilities = [item["probability"] for item in body["items"]]
    assert all(p is not None for p in probabilities)
    assert probabilities == sorted(probabilities, reverse=True)
    other = client.get(
        URL, params={"institution": warned.world.other_bank_id}, headers=auth("operator")
    ).json()
    assert [item["loan_id"] for item in other["items"]] == [warned.elsewhere]
    one = client.get(f"{URL}/{warned.clean}", headers=auth("operator"))
    assert one.status_code == 200
    assert one.json()["reasons"] is not None


def test_one_loan_for_its_lender_and_nobody_else(
    client: TestClient, auth: Auth, session: Session, warned: Book, monitoring_letter: str
) -> None:
    mine = client.get(f"{URL}/{warned.troubled}", headers=auth("bank"))
    assert mine.status_code == 200
    assert mine.json()["probability"] > 0
    # another institution's loan: as if it did not exist
    theirs = client.get(f"{URL}/{warned.elsewhere}", headers=auth("bank"))
    assert theirs.status_code == 404
    assert theirs.json()["error"]["field"] == "loan_id"
    # its own loan, but no basis to read what the warning is derived from: refused, recorded
    refused = client.get(f"{URL}/{warned.clean}", headers=auth("bank"))
    assert refused.status_code == 403
    assert [e.outcome for e in _events(session)][-1] == "deny"
    # a repaid loan has no warning; an unknown loan is not found
    assert client.get(f"{URL}/{warned.repaid}", headers=auth("bank")).status_code == 404
    assert client.get(f"{URL}/loan_nothing", headers=auth("bank")).status_code == 404


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, auth: Auth, session: Session, warned: Book
) -> None:
    before = session.scalar(select(func.count()).select_from(LoanWarning))
    for params in ({"min_probability": 1.5}, {"min_probability": "x"}, {"size": 0}, {"page": 0}):
        response = client.get(URL, params=params, headers=auth("bank"))
        assert response.status_code == 422, params
    other = client.get(
        URL, params={"institution": warned.world.other_bank_id}, headers=auth("bank")
    )
    assert other.status_code == 403
    assert other.json()["error"]["field"] == "institution"
    unknown = client.get(URL, params={"institution": "org_nothing"}, headers=auth("operator"))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "institution"
    assert client.get(URL, headers=auth("enterprise")).status_code == 403
    assert _events(session) == []
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(LoanWarning)) == before


def test_the_operator_queues_a_refresh_and_an_unknown_code_queues_nothing(
    client: TestClient, auth: Auth, warned: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xinyidai.core import queue

    queued: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, at=None: queued.append((name, args)))
    ok = client.post(
        f"{URL}/refresh", json={"credit_code": ENTERPRISE_CODE}, headers=auth("operator")
    )
    assert ok.status_code == 202, ok.text
    assert queued == [(warning.REFRESH_ENTERPRISE_TASK, (ENTERPRISE_CODE,))]
    bad = client.post(f"{URL}/refresh", json={"credit_code": "nonsense"}, headers=auth("operator"))
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "credit_code"
    bank = client.post(
        f"{URL}/refresh", json={"credit_code": ENTERPRISE_CODE}, headers=auth("bank")
    )
    assert bank.status_code == 403
    assert len(queued) == 1
