"""JSON API of the network of platforms, under ``/api/v1/federation``: this node's identity,
the registry of peers (operator), messages and refusals (operator), usage noted for the
center, and the inbox other nodes post signed messages to (the signature is the
credential: no account, no API key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.db import commit_refusal
from xinyidai.core.pagination import Page, page_of
from xinyidai.federation import keys
from xinyidai.federation.models import Direction, NodeState, UsageKind
from xinyidai.federation.schemas import (
    IdentityOut,
    MessageOut,
    NodeIn,
    NodeOut,
    NodeStatusOut,
    NodeUpdate,
    ReceivedSummaryOut,
    RefusalOut,
    UsageIn,
    UsageOut,
)
from xinyidai.federation.service import down, exchange, nodes, up
from xinyidai.iam.auth import OperatorUser, OperatorWriter

router = APIRouter(prefix="/federation", tags=["federation"], responses=ERROR_RESPONSES)


@router.get("/identity", response_model=IdentityOut)
def identity(principal: OperatorUser) -> IdentityOut:
    """This node's name and public key, as the center registers it."""
    return IdentityOut(name=keys.node_name(), public_key=keys.public_text(keys.load_key()))


@router.get("/nodes", response_model=Page[NodeOut])
def list_nodes(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    state: Annotated[NodeState | None, Query(description="only this state")] = None,
) -> Page[NodeOut]:
    """The nodes this node exchanges with, by name."""
    return page_of(session, nodes.statement(state=state), paging, nodes.out)


@router.post("/nodes", response_model=NodeOut, status_code=201)
def register_node(data: NodeIn, session: SessionDep, principal: OperatorWriter) -> NodeOut:
    """Register a node: its key, role, address and entitlements (a ledger event)."""
    return nodes.out(nodes.register(session, data=data, actor=principal.actor))


@router.get("/nodes/{name}", response_model=NodeStatusOut)
def read_node(name: str, session: SessionDep, principal: OperatorUser) -> NodeStatusOut:
    """A node with its lag, refusals and messages."""
    return nodes.status(session, nodes.get_or_raise(session, name=name))


@router.patch("/nodes/{name}", response_model=NodeOut)
def update_node(
    name: str, data: NodeUpdate, session: SessionDep, principal: OperatorWriter
) -> NodeOut:
    """Change a node's registration (a ledger event)."""
    return nodes.out(nodes.update(session, name=name, data=data, actor=principal.actor))


@router.get("/messages", response_model=Page[MessageOut])
def list_messages(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    node: Annotated[str | None, Query(max_length=120, description="only this peer")] = None,
    direction: Annotated[Direction | None, Query(description="in or out")] = None,
) -> Page[MessageOut]:
    """Messages sent and received, newest first, with their receipts' digests."""
    return page_of(
        session,
        exchange.messages_statement(peer=node, direction=direction),
        paging,
        lambda row: MessageOut.model_validate(row, from_attributes=True),
    )


@router.get("/refusals", response_model=Page[RefusalOut])
def list_refusals(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    node: Annotated[str | None, Query(max_length=120, description="only this sender")] = None,
) -> Page[RefusalOut]:
    """Messages refused (bad signature, unknown node, stale, replayed…), newest first."""
    return page_of(
        session,
        exchange.refusals_statement(sender=node),
        paging,
        lambda row: RefusalOut.model_validate(row, from_attributes=True),
    )


@router.get("/received", response_model=list[ReceivedSummaryOut])
def received(session: SessionDep, principal: OperatorUser) -> list[ReceivedSummaryOut]:
    """What this node received, per origin node and category (counts only)."""
    return down.received_summary(session)


@router.post("/usage", response_model=list[UsageOut], status_code=201)
def note_usage(data: UsageIn, session: SessionDep, principal: OperatorWriter) -> list[UsageOut]:
    """Note that records held here were used for a loan, to be fed back to the center."""
    return [
        UsageOut.model_validate(row, from_attributes=True)
        for row in up.note_usage(session, data=data)
    ]


@router.get("/usage", response_model=Page[UsageOut])
def list_usage(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    kind: Annotated[UsageKind | None, Query(description="local or received")] = None,
    node: Annotated[str | None, Query(max_length=120, description="only this node")] = None,
) -> Page[UsageOut]:
    """Usage noted here or fed back by platforms, newest first."""
    return page_of(
        session,
        up.usage_statement(kind=kind, node=node),
        paging,
        lambda row: UsageOut.model_validate(row, from_attributes=True),
    )


@router.post("/inbox")
def inbox(session: SessionDep, raw: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """A signed message from another node: applied once, answered with a signed receipt.
    A refused message is logged and answered with the one error shape."""
    try:
        return exchange.receive(session, raw=raw)
    except exchange.MessageRefused as refused:
        raise commit_refusal(session, refused) from None
