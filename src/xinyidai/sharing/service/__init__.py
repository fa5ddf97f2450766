"""Business logic of risk sharing; each function adds and flushes, the caller commits.

``split`` (the exact arithmetic of shares), ``schemes`` (terms, versions, coverage),
``enrolment`` (loans covered at disbursement, guarantee contracts), ``claims`` (filing,
review, payout, recoveries), ``pools`` (regional compensation pools and their
statements), ``money`` (every movement of money, a ledger leaf), ``policy`` (the schemes
a policy product in the marketplace may name).
"""

from __future__ import annotations

from xinyidai.sharing.service import (
    claims,
    enrolment,
    money,
    policy,
    pools,
    schemes,
    split,
    subsidies,
)

__all__ = ["claims", "enrolment", "money", "policy", "pools", "schemes", "split", "subsidies"]
