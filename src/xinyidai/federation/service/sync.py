"""Sending to peers until they are caught up: build the next message for a node, commit it,
post it, check the receipt, move the marks; on failure keep the marks and back off.

Each message is its own units of work (stored before it is sent, the receipt stored after),
so a node that was down catches up from its last acknowledged marks with nothing lost, and
the receiver's idempotent apply means nothing is doubled when a receipt was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.federation.models import Message, MessageKind, Node, NodeRole, NodeState
from xinyidai.federation.service import down, exchange, nodes, up

Builder = Callable[..., tuple[dict[str, Any], int]]
MAX_MESSAGES = 10_000  # per node per run: a guard against a mark that never moves


def streams(node: Node) -> list[tuple[str, Builder]]:
    """What this node sends ``node``: usage and collected data up to a center, records
    down to every other node."""
    if node.role == NodeRole.CENTER:
        return [(MessageKind.USAGE, up.usage_body), (MessageKind.COLLECTED, up.collected_body)]
    return [(MessageKind.RECORDS, down.records_body)]


@dataclass
class SyncReport:
    node: str
    messages: int = 0
    items: int = 0
    failed: str | None = None
    skipped: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)


def _advance(node: Node, marks: dict[str, Any]) -> None:
    down.advance(node, marks)
    up.advance(node, marks)


def sync_node(name: str, *, force: bool = False, limit: int | None = None) -> SyncReport:
    """Send ``name`` everything it has not acknowledged. A node backing off after failures
    is skipped until its next try unless ``force``."""
    report = SyncReport(node=name)
    with session_scope() as session:
        node = _node(session, name)
        if node.state != NodeState.ACTIVE or (
            not force
            and node.next_try_at is not None
            and clock.as_utc(node.next_try_at) > clock.now()
        ):
            report.skipped = True
            return report
        kinds = streams(node)
    for kind, build in kinds:
        for _ in range(MAX_MESSAGES):
            with session_scope() as session:
                node = _node(session, name)
                body, items = build(session, node=node, limit=limit)
                if not items:
                    break
                row = exchange.prepare(session, node=node, kind=kind, body=body, items=items)
                url, sealed, row_id = node.url, row.envelope, row.id
            try:
                answer = exchange.post(url, sealed)
                with session_scope() as session:
                    node = _node(session, name)
                    sent = session.get(Message, row_id)
                    assert sent is not None
                    result = exchange.accept_receipt(session, row=sent, node=node, raw=answer)
                    _advance(node, result.get("marks") or {})
            except exchange.SendFailed as failure:
                with session_scope() as session:
                    node = _node(session, name)
                    exchange.fail(
                        session, row=session.get(Message, row_id), node=node, error=str(failure)
                    )
                report.failed = str(failure)
                return report
            report.messages += 1
            report.items += items
            report.results.append(result)
    return report


def sync_all(*, force: bool = False) -> list[SyncReport]:
    """Send every active peer what it has not acknowledged (those backing off wait)."""
    with session_scope() as session:
        names = list(
            session.scalars(
                select(Node.name).where(Node.state == NodeState.ACTIVE).order_by(Node.name)
            )
        )
    return [sync_node(name, force=force) for name in names]


def _node(session: Session, name: str) -> Node:
    return nodes.get_or_raise(session, name=name)
