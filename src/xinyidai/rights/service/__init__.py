"""Business logic of subject rights: ``objections`` (异议), ``documents`` (proof files),
``notices`` (the rights inboxes), ``outbox`` (what other nodes read), ``repairs`` (信用修复)."""

from __future__ import annotations

from xinyidai.rights.service import documents, notices, objections, outbox, repairs

__all__ = ["documents", "notices", "objections", "outbox", "repairs"]
