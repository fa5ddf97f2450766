"""The registry of peers: register and edit a node (each change a ledger leaf), find it,
list it with its lag."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock, outbound
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.federation import keys
from xinyidai.federation.models import Message, Node, NodeChange, NodeState, Refusal
from xinyidai.federation.schemas import NodeIn, NodeOut, NodeStatusOut, NodeUpdate
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.records import service as records_service

LEDGER_KIND = "federation.node"
LEDGER_SUBJECT = "federation"
ALL = "*"
SNAPSHOT_FIELDS = ("name", "role", "url", "public_key", "state", "categories", "regions")
SNAPSHOT_MORE = ("personal", "accepts")


def get(session: Session, *, name: str) -> Node | None:
    return session.scalar(select(Node).where(Node.name == name))


def get_or_raise(session: Session, *, name: str) -> Node:
    node = get(session, name=name)
    if node is None:
        raise NotFound("no node {name}", field="name", name=name)
    return node


def statement(*, state: str | None = None) -> Select[Any]:
    stmt = select(Node).order_by(Node.name)
    return stmt if state is None else stmt.where(Node.state == state)


def _check_categories(session: Session, values: list[str], field: str) -> list[str]:
    known = catalog_service.specs_in_force(session)
    cleaned = sorted({value.strip() for value in values if value.strip()})
    for value in cleaned:
        if value != ALL and value not in known:
            raise ValidationFailed("{category} is not a category", field=field, category=value)
    return cleaned


def _check_regions(values: list[str]) -> list[str]:
    cleaned = sorted({value.strip() for value in values if value.strip()})
    for value in cleaned:
        if not value.isdigit() or not 2 <= len(value) <= 6:
            raise ValidationFailed(
                "{region} is not a region code prefix (2 to 6 digits)",
                field="regions",
                region=value,
            )
    return cleaned


def _check_address(url: str) -> str:
    outbound.check_url(url, field="url")
    return url.rstrip("/")


def snapshot(node: Node) -> dict[str, Any]:
    """What a change records of a node (and what its ledger leaf commits to)."""
    return {name: getattr(node, name) for name in (*SNAPSHOT_FIELDS, *SNAPSHOT_MORE)}


def _record_change(session: Session, node: Node, change: str, actor: str) -> NodeChange:
    row = NodeChange(
        node_name=node.name,
        change=change,
        snapshot=snapshot(node),
        actor=actor,
        at=clock.now(),
        salt=ledger_service.new_salt(),
    )
    session.add(row)
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=actor,
        subject=LEDGER_SUBJECT,
        ref=f"{node.name}:{row.id}",
        body=_body(row),
        salt=row.salt,
    )
    return row


def _body(row: NodeChange) -> dict[str, Any]:
    return {"node": row.node_name, "change": row.change, "snapshot": row.snapshot}


def register(session: Session, *, data: NodeIn, actor: str) -> Node:
    """A new peer, active; a ledger leaf records it."""
    if data.name == keys.node_name():
        raise ValidationFailed("a node does not register itself", field="name")
    if get(session, name=data.name) is not None:
        raise Conflict("node {name} is registered already", field="name", name=data.name)
    keys.parse_public(data.public_key)
    node = Node(
        name=data.name,
        role=data.role,
        url=_check_address(data.url),
        public_key=data.public_key.strip(),
        state=NodeState.ACTIVE,
        categories=_check_categories(session, data.categories, "categories"),
        regions=_check_regions(data.regions),
        personal=data.personal,
        accepts=_check_categories(session, data.accepts, "accepts"),
        record_mark=0,
        record_mark_id="",
        feed_mark=0,
        usage_mark=0,
        failures=0,
        updated_by=actor,
    )
    session.add(node)
    session.flush()
    _record_change(session, node, "registered", actor)
    return node


def update(session: Session, *, name: str, data: NodeUpdate, actor: str) -> Node:
    """Change a peer's registration; a ledger leaf records its new state."""
    node = get_or_raise(session, name=name)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise ValidationFailed("nothing to change", field="body")
    if "public_key" in changes:
        keys.parse_public(changes["public_key"])
        node.public_key = changes["public_key"].strip()
    if "url" in changes:
        node.url = _check_address(changes["url"])
    if "categories" in changes:
        node.categories = _check_categories(session, changes["categories"], "categories")
    if "accepts" in changes:
        node.accepts = _check_categories(session, changes["accepts"], "accepts")
    if "regions" in changes:
        node.regions = _check_regions(changes["regions"])
    for name_ in ("role", "state", "personal"):
        if name_ in changes:
            setattr(node, name_, changes[name_])
    node.updated_at = clock.now()
    node.updated_by = actor
    session.flush()
    _record_change(session, node, "updated", actor)
    return node


def changes_of(session: Session, *, name: str) -> list[NodeChange]:
    return list(
        session.scalars(
            select(NodeChange).where(NodeChange.node_name == name).order_by(NodeChange.id)
        )
    )


def out(node: Node) -> NodeOut:
    return NodeOut.model_validate(node, from_attributes=True)


def shared_categories(session: Session, node: Node) -> list[str]:
    """The categories this node sends ``node``: those it is entitled to that are shared
    (a not-shared category never leaves; ``*`` means those shared unconditionally)."""
    specs = catalog_service.specs_in_force(session)
    wanted = set(node.categories)
    return sorted(
        code
        for code, spec in specs.items()
        if spec.sharing_type != "not_shared"
        and (code in wanted or (ALL in wanted and spec.sharing_type == "unconditional"))
    )


def pending_records(session: Session, node: Node) -> tuple[int, datetime | None]:
    """How many current record versions ``node`` has not acknowledged, and the time the
    oldest was stored (region filtering happens on sending: this counts before it)."""
    categories = shared_categories(session, node)
    if not categories:
        return 0, None
    return records_service.pending_after(
        session, categories=categories, after=(node.record_mark, node.record_mark_id)
    )


def status(session: Session, node: Node) -> NodeStatusOut:
    """The node with its lag, refusals and messages."""
    pending, oldest = pending_records(session, node)
    feed = sum(
        1
        for name in records_service.feed_names()
        for _ in records_service.feed_after(session, name=name, after=node.feed_mark, limit=500)
    )
    refused = session.scalar(
        select(func.count()).select_from(Refusal).where(Refusal.claimed_sender == node.name)
    )
    messages = session.scalar(
        select(func.count()).select_from(Message).where(Message.peer == node.name)
    )
    lag = None if oldest is None else max(0.0, (clock.now() - clock.as_utc(oldest)).total_seconds())
    return NodeStatusOut(
        **out(node).model_dump(),
        pending_records=pending,
        pending_feed=feed,
        lag_seconds=lag,
        refused=int(refused or 0),
        messages=int(messages or 0),
    )


# --------------------------------------------------------------------------- the ledger


def _stored(row: NodeChange) -> StoredEvent:
    return StoredEvent(
        ref=f"{row.node_name}:{row.id}",
        digest=ledger_service.digest_of(_body(row)),
        salt=bytes(row.salt),
        subject=LEDGER_SUBJECT,
        actor=row.actor,
    )


def _leaves(session: Session) -> Iterator[StoredEvent]:
    for row in session.scalars(select(NodeChange).order_by(NodeChange.id)):
        yield _stored(row)


def _bodies(session: Session, ref: str) -> list[StoredEvent]:
    name, _, number = ref.rpartition(":")
    if not number.isdigit():
        return []
    row = session.scalar(
        select(NodeChange).where(NodeChange.id == int(number), NodeChange.node_name == name)
    )
    return [] if row is None else [_stored(row)]


ledger_service.register_source(LEDGER_KIND, _leaves)
ledger_service.register_body(LEDGER_KIND, _bodies)
