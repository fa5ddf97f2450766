"""What the OpenAPI document is held to under schemathesis, in one place for the CI-sized
run (``tests/core/test_schemathesis.py``) and the fuller drill (``bench/drills.py
schemathesis``): the roles that drive it, the checks every answer passes, and a fresh token
for a role's demo account on each case (a case that revoked its token, or changed the
account's password, spoils no later case).
"""

from __future__ import annotations

from typing import Any

# The demo accounts that drive every operation.
ROLES = ("operator", "provider-tax", "enterprise", "bank")


def checks() -> list[Any]:
    """What a case's answer is held to: no 5xx; a status, content type, headers and body the
    document describes for the operation; a case the schema forbids refused with a 4xx."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]


def fresh_token(username: str) -> str:
    """A new bearer token for the demo account ``username``, from the node's database."""
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service

    with session_scope() as session:
        user = iam_service.get_user_or_raise(session, username=username)
        return iam_service.issue_tokens(session, user=user).access_token
