"""Tables of post-loan monitoring, anti-fraud and the financial blacklist."""

from __future__ import annotations
