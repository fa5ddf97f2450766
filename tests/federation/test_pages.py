"""The operator's nodes page and what this node received, in Chinese by default; other
roles are turned away."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.conftest import sign_in
from xinyidai.federation import keys
from xinyidai.federation.models import NodeRole
from xinyidai.federation.schemas import NodeIn
from xinyidai.federation.service import exchange, nodes
from xinyidai.iam.service import DemoAccount


def test_the_nodes_page_shows_each_peer_and_the_refusals(
    client: TestClient, session: Session, demo: list[DemoAccount], xyd_env: Callable[..., object]
) -> None:
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    keys.create_key()
    peer = keys.public_text(keys.create_key(path=keys.key_path().with_name("peer.key")))
    nodes.register(
        session,
        data=NodeIn(
            name="city-a.example",
            role=NodeRole.CITY,
            url="http://127.0.0.1:9",
            public_key=peer,
            categories=["*"],
            regions=["6401"],
        ),
        actor="user:operator",
    )
    with pytest.raises(exchange.MessageRefused):
        exchange.receive(session, raw={"id": "x"})
    session.commit()
    sign_in(client, "operator")
    html = client.get("/federation").text
    assert "平台网络" in html
    assert 'data-node="city-a.example"' in html
    assert "格式错误" in html  # the refusal, by its reason
    assert keys.public_text(keys.load_key()) in html
    received = client.get("/federation/received")
    assert received.status_code == 200
    assert "尚未收到" in received.text
    client.cookies.clear()
    sign_in(client, "bank")
    assert client.get("/federation").status_code == 403
