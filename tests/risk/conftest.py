"""Fixtures of the risk tests: the marketplace's (the demo enterprise registered and signed,
a second bank) and the portal's (a signed-in client)."""

from __future__ import annotations

from tests.market.conftest import market, signed
from tests.web.conftest import portal

__all__ = ["market", "portal", "signed"]
