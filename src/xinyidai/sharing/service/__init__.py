"""Business logic of risk sharing; each function adds and flushes, the caller commits.

``split`` (the exact arithmetic of shares), ``schemes`` (terms, versions, coverage),
``enrolment`` (loans covered at disbursement, guarantee contracts), ``claims`` (filing,
review, payout, recoveries), ``pools`` (regional compensation pools and their
statements), ``money`` (every movement of money, a ledger leaf).
"""

from __future__ import annotations

from xinyidai.sharing.service import claims, enrolment, money, pools, schemes, split, subsidies

__all__ = ["claims", "enrolment", "money", "pools", "schemes", "split", "subsidies"]
