"""Business logic of the network of platforms, one module per concern: ``nodes`` (the
registry of peers, their changes on the ledger, their lag), ``exchange`` (signed messages
and receipts, refusals, evidence), ``down`` (records to a platform, applied once there),
``up`` (usage and collected data back to the center), ``sync`` (sending until caught up,
backing off), ``national`` (the national platform's batch file)."""

from __future__ import annotations

from xinyidai.federation.service import down, exchange, national, nodes, up

__all__ = ["down", "exchange", "national", "nodes", "up"]
