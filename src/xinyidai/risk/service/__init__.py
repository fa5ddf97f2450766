"""Business logic of ``risk``: one module per concern, re-exported here for callers.

Post-loan monitoring: ``watch`` (the watch list of live loans), ``alerts`` (the events
raised about watched enterprises, their inbox and webhooks), ``demo`` (alerts for the demo).
The financial blacklist and anti-fraud: ``blacklist`` (the blacklist and its due process),
``fraud_cases`` (cases the fraud rules open, investigated by institutions), ``fraud`` (the
anti-fraud rules and scans), ``blacklist_demo`` (the demo's fraud case and listing).
Early warning: ``warning`` (the latest warning of every live loan, ranked per lender).
"""

from __future__ import annotations

from xinyidai.market import service as market_service
from xinyidai.risk.service import alerts, blacklist, demo, fraud, fraud_cases, warning, watch

# The product rules' hard declines this domain answers.
market_service.rules.register_decline("blacklisted", blacklist.is_listed)
market_service.rules.register_decline("fraud_confirmed", fraud_cases.has_confirmed)

__all__ = ["alerts", "blacklist", "demo", "fraud", "fraud_cases", "warning", "watch"]
