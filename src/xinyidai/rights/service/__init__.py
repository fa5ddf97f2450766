"""Business logic of subject rights: ``objections`` (异议), ``documents`` (proof files),
``notices`` (the rights inboxes), ``outbox`` (what other nodes read), ``repairs``
(信用修复), ``self_query`` (free self-query),
``self_reports`` (自愿填报)."""

from __future__ import annotations

from xinyidai.rights.service import (
    documents,
    notices,
    objections,
    outbox,
    repairs,
    self_query,
    self_reports,
)

__all__ = ["documents", "notices", "objections", "outbox", "repairs", "self_query", "self_reports"]
