"""Business logic of ``risk``: one module per concern, re-exported here for callers.

Post-loan monitoring: ``watch`` (the watch list of live loans), ``alerts`` (the events
raised about watched enterprises, their inbox and webhooks), ``demo`` (alerts for the demo).
"""

from __future__ import annotations

from xinyidai.risk.service import alerts, demo, watch

__all__ = ["alerts", "demo", "watch"]
