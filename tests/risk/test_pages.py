"""The institution's alert inbox and watch list in the portal, in Chinese by default: an
alert moved through its states by forms, a refused move shown next to its field with
nothing changed, another institution's alert refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.market.conftest import Auth
from tests.risk.conftest import alerts_of, lend, penalty
from tests.web.conftest import csrf_of, sign_in
from xinyidai.risk.models import AlertState


def _as(client: TestClient, username: str) -> str:
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303  # type: ignore[attr-defined]
    return csrf_of(client.get("/dashboard").text)


def test_the_inbox_through_the_portal(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    penalty(session)
    [alert] = alerts_of(session)
    token = _as(client, "bank")
    assert "/risk/alerts" in client.get("/dashboard").text
    inbox = client.get("/risk/alerts")
    assert inbox.status_code == 200
    assert "贷后预警" in inbox.text
    assert "新增负面记录" in inbox.text
    assert f'data-alert="{alert.public_id}"' in inbox.text
    page = client.get(f"/risk/alerts/{alert.public_id}")
    assert page.status_code == 200
    assert "南青市监罚〔2026〕88号" in page.text  # public: shown in full
    base = f"/risk/alerts/{alert.public_id}"
    early = client.post(f"{base}/close", data={"csrf_token": token}, follow_redirects=False)
    assert early.status_code == 409
    assert 'data-error-for="state"' in early.text
    assert alerts_of(session)[0].state == AlertState.NEW
    for move, data in (
        ("acknowledge", {}),
        ("act", {"action": "freeze", "note": "冻结剩余额度"}),
        ("close", {}),
    ):
        done = client.post(
            f"{base}/{move}", data={"csrf_token": token, **data}, follow_redirects=False
        )
        assert done.status_code == 303, (move, done.text)
    [closed] = alerts_of(session)
    assert (closed.state, closed.action) == (AlertState.CLOSED, "freeze")
    history = client.get(base).text
    assert "已冻结额度" in history
    assert history.count("<li>") >= 4
    watch = client.get("/risk/watchlist")
    assert watch.status_code == 200
    assert "监测名单" in watch.text
    _as(client, "bank2")
    assert client.get(base).status_code == 403
    _as(client, "enterprise")
    assert client.get("/risk/alerts").status_code == 403


def test_an_act_without_its_action_is_refused_on_the_page(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    penalty(session)
    [alert] = alerts_of(session)
    token = _as(client, "bank")
    base = f"/risk/alerts/{alert.public_id}"
    client.post(f"{base}/acknowledge", data={"csrf_token": token}, follow_redirects=False)
    refused = client.post(f"{base}/act", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 422
    assert 'data-error-for="action"' in refused.text
    assert alerts_of(session)[0].state == AlertState.ACKNOWLEDGED
