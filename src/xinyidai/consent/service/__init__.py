"""Business logic of consent: the commitment, letters, the access decision and its views.

Every function takes the caller's session and only adds and flushes; the caller commits.
Callers use this package (``from xinyidai.consent import service``); the modules behind it:
``commitment`` (the credit commitment), ``letters`` (authorization letters and their
transitions), ``decision`` (the one access decision), ``views`` (records as a decision lets
them be seen: record lists, reports, exports), ``demo``.
"""

from __future__ import annotations

from xinyidai.consent.service.commitment import (
    get_text_or_raise,
    has_signed,
    latest_text,
    latest_text_or_raise,
    load_default_text,
    publish_text,
    require_signed,
    sign,
    signature_count,
    signatures_of,
    text_digest,
)
from xinyidai.consent.service.decision import (
    console_principal,
    covers,
    decide,
    grantable,
    problem_with,
    refusal,
    resolve_purpose,
)
from xinyidai.consent.service.demo import DemoConsent, ensure_demo_consent
from xinyidai.consent.service.letters import (
    applications_by_grantee,
    approve,
    candidates,
    check_terms,
    end_of_day,
    expire,
    expire_due,
    get,
    get_or_raise,
    grant,
    list_letters,
    may_see,
    open_application_letters,
    pause,
    record_use,
    reject,
    request,
    resume,
    revoke,
    start_of_day,
    state_counts,
    transitions_of,
    visible_or_raise,
)
from xinyidai.consent.service.views import (
    apply,
    credit_report,
    field_views,
    records_csv,
    records_for,
    report_number,
)

__all__ = [
    "DemoConsent",
    "applications_by_grantee",
    "apply",
    "approve",
    "candidates",
    "check_terms",
    "console_principal",
    "covers",
    "credit_report",
    "decide",
    "end_of_day",
    "ensure_demo_consent",
    "expire",
    "expire_due",
    "field_views",
    "get",
    "get_or_raise",
    "get_text_or_raise",
    "grant",
    "grantable",
    "has_signed",
    "latest_text",
    "latest_text_or_raise",
    "list_letters",
    "load_default_text",
    "may_see",
    "open_application_letters",
    "pause",
    "problem_with",
    "publish_text",
    "record_use",
    "records_csv",
    "records_for",
    "refusal",
    "reject",
    "report_number",
    "request",
    "require_signed",
    "resolve_purpose",
    "resume",
    "revoke",
    "sign",
    "signature_count",
    "signatures_of",
    "start_of_day",
    "state_counts",
    "text_digest",
    "transitions_of",
    "visible_or_raise",
]
