"""Business logic of the marketplace; each function adds and flushes, the caller commits.

Callers use this package (``from xinyidai.market import service``); the modules behind it:
``products`` (publishing and the product supermarket), ``matching`` (needs, eligibility,
fit and the reasons for each), ``applications`` (applying, the letter, reviewing and
deciding), ``rules`` (automatic approval),
``loans`` (disbursement, schedules, repayments, the loan book), ``webhooks``
(need.matched to institutions' endpoints), ``visibility`` (who may see which applications,
loans and needs: the one rule every entry point applies), ``behaviour`` (repayment
behaviour per loan, registered with the rating's loan indicators).
"""

from __future__ import annotations

from xinyidai.market.service import (
    applications,
    behaviour,
    demo,
    loans,
    matching,
    products,
    rules,
    visibility,
    webhooks,
)

__all__ = [
    "applications",
    "behaviour",
    "demo",
    "loans",
    "matching",
    "products",
    "rules",
    "visibility",
    "webhooks",
]
