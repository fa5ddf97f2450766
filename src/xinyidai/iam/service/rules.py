"""Rules shared by the iam services: limits, field checks, scopes, recorded transitions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import (
    ValidationFailed,
)
from xinyidai.iam.models import (
    KIND_AUDITOR,
    KIND_ENTERPRISE,
    KIND_INSTITUTION,
    KIND_OPERATOR,
    KIND_PLATFORM,
    KIND_PROVIDER,
    StateChange,
)

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
PORTAL_SESSION_TTL = timedelta(hours=12)

LOCK_AFTER_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
IP_LOCK_AFTER_FAILURES = 50

PASSWORD_MIN = 8
PASSWORD_MAX = 128
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
_DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# What machines may be allowed to do, and which organizations may hold each permission.
SCOPES = ("ingest:write", "ledger:witness", "federation", "audit:read")
KIND_SCOPES: dict[str, frozenset[str]] = {
    KIND_OPERATOR: frozenset(SCOPES),
    KIND_PROVIDER: frozenset({"ingest:write"}),
    KIND_PLATFORM: frozenset({"federation", "ledger:witness"}),
    KIND_AUDITOR: frozenset({"ledger:witness", "audit:read"}),
    KIND_INSTITUTION: frozenset(),
    KIND_ENTERPRISE: frozenset(),
}
# Organizations the operator creates directly (others register or apply).
OPERATOR_CREATED_KINDS = (KIND_PROVIDER, KIND_AUDITOR, KIND_PLATFORM)

DEMO_PASSWORD = "demo-password"
DEMO_USERNAMES = ("operator", "provider-tax", "provider-market", "enterprise", "bank", "auditor")


# --------------------------------------------------------------------------- validation


def clean_username(raw: str | None, *, field: str = "username") -> str:
    """The username folded to lower case, or ``ValidationFailed`` saying what is allowed."""
    value = (raw or "").strip().lower()
    if not value:
        raise ValidationFailed("this field is required", field=field)
    if not _USERNAME.match(value):
        raise ValidationFailed(
            "a username has 3 to 60 characters: lower-case letters, digits, '.', '_' or '-'",
            field=field,
        )
    return value


def check_password_rules(password: str | None, *, field: str = "password") -> str:
    """The password if it is long enough and not too long; ``ValidationFailed`` otherwise."""
    value = password or ""
    if len(value) < PASSWORD_MIN:
        raise ValidationFailed(
            "a password needs at least {minimum} characters", field=field, minimum=PASSWORD_MIN
        )
    if len(value) > PASSWORD_MAX:
        raise ValidationFailed(
            "a password has at most {maximum} characters", field=field, maximum=PASSWORD_MAX
        )
    return value


def required_text(raw: str | None, *, field: str, max_length: int = 200) -> str:
    """Trimmed text that must be present and not too long."""
    value = (raw or "").strip()
    if not value:
        raise ValidationFailed("this field is required", field=field)
    if len(value) > max_length:
        raise ValidationFailed("at most {maximum} characters", field=field, maximum=max_length)
    return value


def optional_text(raw: str | None, *, field: str, max_length: int = 200) -> str | None:
    """Trimmed text or None; too long is an error."""
    value = (raw or "").strip()
    if not value:
        return None
    return required_text(value, field=field, max_length=max_length)


def optional_email(raw: str | None, *, field: str = "email") -> str | None:
    """A plausible e-mail address or None."""
    value = optional_text(raw, field=field)
    if value is not None and not _EMAIL.match(value):
        raise ValidationFailed("not a valid e-mail address", field=field)
    return value


def clean_department_code(raw: str | None, *, field: str = "department_code") -> str:
    """A provider's department code: lower-case letters, digits and '_' (e.g. ``tax``)."""
    value = (raw or "").strip().lower()
    if not value:
        raise ValidationFailed("this field is required", field=field)
    if not _DEPARTMENT_CODE.match(value):
        raise ValidationFailed(
            "a department code has 2 to 40 characters: lower-case letters, digits or '_'",
            field=field,
        )
    return value


def _choice(value: str | None, *, allowed: Sequence[str], field: str) -> str:
    text = (value or "").strip()
    if text not in allowed:
        raise ValidationFailed("must be one of: {choices}", field=field, choices=", ".join(allowed))
    return text


# --------------------------------------------------------------------------- transitions


def _record(
    session: Session,
    *,
    subject_type: str,
    subject_id: int,
    transition: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    reason: str | None,
) -> None:
    session.add(
        StateChange(
            subject_type=subject_type,
            subject_id=subject_id,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            at=clock.now(),
        )
    )


def state_changes(session: Session, *, subject_type: str, subject_id: int) -> list[StateChange]:
    """The recorded transitions of one organization or user, oldest first."""
    stmt = (
        select(StateChange)
        .where(StateChange.subject_type == subject_type, StateChange.subject_id == subject_id)
        .order_by(StateChange.at, StateChange.id)
    )
    return list(session.scalars(stmt))
