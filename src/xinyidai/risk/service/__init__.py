"""Business logic of ``risk``: one module per concern, re-exported here for callers."""

from __future__ import annotations

from xinyidai.risk.service import warning

__all__ = ["warning"]
