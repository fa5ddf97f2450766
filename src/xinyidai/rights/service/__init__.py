"""Business logic of subject rights: ``objections`` (异议), ``documents`` (proof files),
``notices`` (the rights inboxes), ``outbox`` (what other nodes read)."""

from __future__ import annotations

from xinyidai.rights.service import documents, notices, objections, outbox

__all__ = ["documents", "notices", "objections", "outbox"]
