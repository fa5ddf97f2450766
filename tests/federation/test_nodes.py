"""The registry of peers over the API: every change a ledger leaf, every bad input refused
with its field and reason and nothing written; the inbox answers a refusal in the one
error shape and keeps it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.federation import keys
from xinyidai.federation.models import Node, NodeChange, Refusal
from xinyidai.federation.schemas import NodeIn
from xinyidai.federation.service import nodes, up
from xinyidai.ingest.models import Batch
from xinyidai.ledger import keys as ledger_keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.verify import verify_ledger

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def peer_key(db_url: str, xyd_env: Callable[..., object]) -> str:
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true", XYD_NODE_NAME="center.example")
    keys.create_key()
    return keys.public_text(keys.create_key(path=keys.key_path().with_name("peer.key")))


def _node(key: str, **more: Any) -> dict[str, Any]:
    return {
        "name": "city-a.example",
        "role": "city",
        "url": "http://127.0.0.1:9",
        "public_key": key,
        "categories": ["*", "tax_rating"],
        "regions": ["6401"],
        **more,
    }


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_registering_and_changing_a_node_is_on_the_ledger(
    client: TestClient, auth: Auth, session: Session, peer_key: str
) -> None:
    made = client.post("/api/v1/federation/nodes", json=_node(peer_key), headers=auth("operator"))
    assert made.status_code == 201, made.text
    assert made.json()["categories"] == ["*", "tax_rating"]
    changed = client.patch(
        "/api/v1/federation/nodes/city-a.example",
        json={"state": "suspended", "regions": ["6401", "6402"]},
        headers=auth("operator"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["state"] == "suspended"
    read = client.get("/api/v1/federation/nodes/city-a.example", headers=auth("operator")).json()
    assert read["regions"] == ["6401", "6402"]
    assert read["pending_records"] == 0
    changes = list(session.scalars(select(NodeChange).order_by(NodeChange.id)))
    assert [c.change for c in changes] == ["registered", "updated"]
    assert changes[1].snapshot["state"] == "suspended"
    ledger_keys.create_key()
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert report.sources["federation.node"] == 2
    assert client.get("/api/v1/federation/nodes", headers=auth("bank")).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"public_key": "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"}, "public_key"),  # 30 bytes
        ({"public_key": "not base64 at all, not at all, not at all"}, "public_key"),
        ({"categories": ["no_such_category"]}, "categories"),
        ({"accepts": ["no_such_category"]}, "accepts"),
        ({"regions": ["64x1"]}, "regions"),
        ({"url": "http://10.0.0.5"}, "url"),
        ({"url": "ftp://127.0.0.1"}, "url"),
        ({"name": "center.example"}, "name"),
        ({"name": "Not A Name"}, "name"),
        ({"role": "mayor"}, "role"),
    ],
)
def test_a_bad_registration_names_its_field_and_writes_nothing(
    client: TestClient,
    auth: Auth,
    session: Session,
    peer_key: str,
    change: dict[str, Any],
    field: str,
) -> None:
    answer = client.post(
        "/api/v1/federation/nodes", json=_node(peer_key, **change), headers=auth("operator")
    )
    assert answer.status_code in (400, 422), answer.text
    assert field in (answer.json()["error"]["field"] or ""), answer.json()
    assert _count(session, Node) == 0
    assert _count(session, NodeChange) == 0


def test_twice_the_same_node_or_an_empty_change_is_refused(
    client: TestClient, auth: Auth, session: Session, peer_key: str
) -> None:
    headers = auth("operator")
    assert (
        client.post("/api/v1/federation/nodes", json=_node(peer_key), headers=headers).status_code
        == 201
    )
    again = client.post("/api/v1/federation/nodes", json=_node(peer_key), headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "name"
    empty = client.patch("/api/v1/federation/nodes/city-a.example", json={}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["error"]["field"] == "body"
    missing = client.patch(
        "/api/v1/federation/nodes/nobody.example", json={"state": "active"}, headers=headers
    )
    assert missing.status_code == 404
    assert _count(session, NodeChange) == 1


def test_the_inbox_refuses_in_the_one_error_shape_and_keeps_the_refusal(
    client: TestClient, session: Session, peer_key: str
) -> None:
    answer = client.post("/api/v1/federation/inbox", json={"id": "fmsg_x", "from": "nobody"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "message_refused"
    assert answer.json()["error"]["field"] == "envelope"
    (refusal,) = session.scalars(select(Refusal))
    assert (refusal.reason, refusal.claimed_sender, refusal.message_id) == (
        "malformed",
        "nobody",
        "fmsg_x",
    )


def test_collected_rows_of_a_retired_category_are_counted_not_refused_forever(
    session: Session, peer_key: str
) -> None:
    node = nodes.register(
        session,
        data=NodeIn(**_node(peer_key, accepts=["admin_penalty", "tax_rating"])),
        actor="user:operator",
    )
    catalog_service.set_active(session, code="tax_rating", active=False, actor="user:operator")
    result = up.apply_collected(
        session,
        node,
        {"id": "fmsg_collected", "body": {"rows": {"tax_rating": [{"credit_code": "x"}]}}},
    )
    assert (result["items"], result["accepted"], result["not_accepted"]) == (1, 0, 1)
    assert _count(session, Batch) == 0
