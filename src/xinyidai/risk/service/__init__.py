"""Business logic of ``risk``: one module per concern, re-exported here for callers.

``blacklist`` (the financial blacklist and its due process), ``fraud_cases`` (cases the
fraud rules open, investigated by institutions), ``fraud`` (the anti-fraud rules and scans).
"""

from __future__ import annotations

from xinyidai.market import service as market_service
from xinyidai.risk.service import blacklist, fraud, fraud_cases

# The product rules' hard declines this domain answers.
market_service.rules.register_decline("blacklisted", blacklist.is_listed)
market_service.rules.register_decline("fraud_confirmed", fraud_cases.has_confirmed)

__all__ = ["blacklist", "fraud", "fraud_cases"]
