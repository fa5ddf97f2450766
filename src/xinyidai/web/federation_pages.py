"""The network of platforms in the portal: the operator's nodes page (each peer's state, lag,
last exchange, last error, messages refused; the latest refusals and messages) and what
this node received (per origin node and category; usage fed back). On a platform's own
install its operator reads the second page as the platform's view of what it receives.

The work is the federation service's; these routes check the role, page and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from xinyidai.core.api import SessionDep
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.federation import keys
from xinyidai.federation.models import (
    Direction,
    MessageKind,
    MessageState,
    NodeRole,
    NodeState,
    RefusalReason,
)
from xinyidai.federation.schemas import MessageOut, RefusalOut
from xinyidai.federation.service import down, exchange, nodes, up
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.web.auth import portal_roles
from xinyidai.web.forms import N_
from xinyidai.web.templating import render

router = APIRouter(prefix="/federation", include_in_schema=False)

Operator = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR))]
PAGE_SIZE = 25
LATEST = 10
# How the page names each role, state, reason, direction and kind.
LABELS = {
    NodeRole.CENTER: N_("Data center"),
    NodeRole.CITY: N_("City platform"),
    NodeRole.SERVICE: N_("Service platform"),
    NodeRole.NATIONAL: N_("National platform adapter"),
    NodeState.ACTIVE: N_("Active"),
    NodeState.SUSPENDED: N_("Suspended"),
    RefusalReason.MALFORMED: N_("Malformed"),
    RefusalReason.UNKNOWN_NODE: N_("Unknown node"),
    RefusalReason.SUSPENDED: N_("Sender suspended"),
    RefusalReason.WRONG_RECEIVER: N_("Addressed to another node"),
    RefusalReason.BAD_SIGNATURE: N_("Bad signature"),
    RefusalReason.STALE: N_("Stale time"),
    RefusalReason.REPLAYED: N_("Replayed id"),
    Direction.IN: N_("Received from"),
    Direction.OUT: N_("Sent to"),
    MessageKind.RECORDS: N_("Records down"),
    MessageKind.USAGE: N_("Usage"),
    MessageKind.COLLECTED: N_("Collected data"),
    MessageState.SENDING: N_("Sending"),
    MessageState.ACKNOWLEDGED: N_("Acknowledged"),
    MessageState.FAILED: N_("Failed"),
    MessageState.RECEIVED: N_("Applied and answered"),
}


@router.get("")
def nodes_page(
    request: Request,
    session: SessionDep,
    principal: Operator,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Every peer with its lag and errors; the latest refusals and messages."""
    peers = page_of(session, nodes.statement(), PageRequest(page=page, size=PAGE_SIZE), lambda n: n)
    rows = [nodes.status(session, node) for node in peers.items]
    refusals = page_of(
        session,
        exchange.refusals_statement(),
        PageRequest(page=1, size=LATEST),
        lambda row: RefusalOut.model_validate(row, from_attributes=True),
    )
    messages = page_of(
        session,
        exchange.messages_statement(),
        PageRequest(page=1, size=LATEST),
        lambda row: MessageOut.model_validate(row, from_attributes=True),
    )
    try:
        public_key = keys.public_text(keys.load_key())
    except Exception:  # no key yet: the page says so
        public_key = None
    return render(
        request,
        "federation/nodes.html",
        peers=peers,
        rows=rows,
        refusals=refusals.items,
        refused_total=refusals.total,
        messages=messages.items,
        node_name=keys.node_name(),
        public_key=public_key,
        labels=LABELS,
    )


@router.get("/received")
def received_page(request: Request, session: SessionDep, principal: Operator) -> Response:
    """What this node received, per origin node and category; usage fed back to it."""
    rows = down.received_summary(session)
    return render(
        request,
        "federation/received.html",
        rows=rows,
        usage=up.usage_counts(session),
        node_name=keys.node_name(),
    )
