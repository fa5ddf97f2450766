"""Queue tasks of ``risk``."""

from __future__ import annotations
