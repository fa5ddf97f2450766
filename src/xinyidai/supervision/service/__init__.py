"""Business logic of supervision; each function adds and flushes, the caller commits.

``agreements`` (the confidentiality agreement's versions and signatures), ``checklist``
(the security checklist), ``assessments`` (answers with evidence, review, level and
expiry, the yearly cycle), ``findings`` (from the access log's flags or a confirmed misuse,
to a remedy or a sanction), ``standing`` (the operator's table of institutions).
"""

from __future__ import annotations

from xinyidai.supervision.service import (
    agreements,
    assessments,
    checklist,
    cycle,
    demo,
    findings,
    standing,
)

__all__ = ["agreements", "assessments", "checklist", "cycle", "demo", "findings", "standing"]
