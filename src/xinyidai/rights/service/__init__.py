"""Business logic of subject rights: ``objections`` (异议), ``documents`` (proof files),
``notices`` (the rights inboxes), ``outbox`` (what other nodes read), ``repairs``
(信用修复), ``self_query`` (free self-query),
``self_reports`` (自愿填报), ``restructuring`` (破产重整 notes)."""

from __future__ import annotations

from xinyidai.rights.service import (
    documents,
    notices,
    objections,
    outbox,
    repairs,
    restructuring,
    self_query,
    self_reports,
)

__all__ = [
    "documents",
    "notices",
    "objections",
    "outbox",
    "repairs",
    "restructuring",
    "self_query",
    "self_reports",
]
