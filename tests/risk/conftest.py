"""Fixtures of the risk tests: the marketplace's (the demo enterprise registered and signed,
a second bank)."""

from __future__ import annotations

from tests.market.conftest import market, signed

__all__ = ["market", "signed"]
