"""Business logic of subject rights: ``objections`` (异议), ``documents`` (proof files),
``notices`` (the rights inboxes), ``outbox`` (what other nodes read), ``repairs``
(信用修复), ``self_query`` (free self-query)."""

from __future__ import annotations

from xinyidai.rights.service import (
    documents,
    notices,
    objections,
    outbox,
    repairs,
    self_query,
)

__all__ = ["documents", "notices", "objections", "outbox", "repairs", "self_query"]
