"""Rules shared by the iam services: limits, field checks, scopes, recorded transitions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from xinyidai.core.errors import (
    ValidationFailed,
)
from xinyidai.core.i18n import N_
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import Machine, Step
from xinyidai.iam.models import OrgKind, StateChange

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
PORTAL_SESSION_TTL = timedelta(hours=12)

PASSWORD_MIN = 8
PASSWORD_MAX = 128
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
_DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# What machines may be allowed to do, and which organizations may hold each permission.
SCOPES = ("ingest:write", "ledger:witness", "federation", "audit:read")
KIND_SCOPES: dict[str, frozenset[str]] = {
    OrgKind.OPERATOR: frozenset(SCOPES),
    OrgKind.PROVIDER: frozenset({"ingest:write"}),
    OrgKind.PLATFORM: frozenset({"federation", "ledger:witness"}),
    OrgKind.AUDITOR: frozenset({"ledger:witness", "audit:read"}),
    OrgKind.INSTITUTION: frozenset(),
    OrgKind.ENTERPRISE: frozenset(),
}
# Organizations the operator creates directly (others register or apply).
OPERATOR_CREATED_KINDS = (OrgKind.PROVIDER, OrgKind.AUDITOR, OrgKind.PLATFORM)

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


def check_password_rules(
    password: str | None, *, field: str = "password", user_inputs: Sequence[str | None] = ()
) -> str:
    """The password if it is long enough, not too long and not easy to guess.

    Easy to guess is judged by zxcvbn (its own lists of common passwords, words and names,
    keyboard patterns, repeats, sequences, dates; nothing is fetched): a password scoring
    below ``XYD_PASSWORD_MIN_SCORE`` is refused with the reason. ``user_inputs`` (the
    username, the person's name, the e-mail address) count as words an attacker tries first.
    """
    value = password or ""
    if len(value) < PASSWORD_MIN:
        raise ValidationFailed(
            "a password needs at least {minimum} characters", field=field, minimum=PASSWORD_MIN
        )
    if len(value) > PASSWORD_MAX:
        raise ValidationFailed(
            "a password has at most {maximum} characters", field=field, maximum=PASSWORD_MAX
        )
    words = [word.strip().lower() for word in user_inputs if word and word.strip()]
    # zxcvbn judges at most 72 characters (it refuses longer ones): a passphrase longer
    # than that is judged by its first 72, which already make it strong or not.
    judged = zxcvbn(value[:ZXCVBN_MAX], user_inputs=words)
    if judged["score"] < get_settings().iam.password_min_score:
        raise ValidationFailed(_weakness(judged["sequence"]), field=field)
    return value


ZXCVBN_MAX = 72


def _weakness(sequence: Sequence[dict[str, Any]]) -> str:
    """Why zxcvbn found a password easy to guess, from its longest pattern (as zxcvbn's own
    feedback does), as one of our message ids."""
    if not sequence:
        return _GUESSABLE
    match = max(sequence, key=lambda m: len(m["token"]))
    if match["pattern"] == "dictionary":
        return _DICTIONARY_WEAKNESS.get(
            match.get("dictionary_name", ""), N_("this password is built on a common word or name")
        )
    return _PATTERN_WEAKNESS.get(match["pattern"], _GUESSABLE)


_GUESSABLE = N_("this password is too easy to guess; use a few uncommon words")
_DICTIONARY_WEAKNESS = {
    "passwords": N_("this password is one of the most common passwords"),
    "user_inputs": N_("this password is built on your username, name or e-mail address"),
}
_PATTERN_WEAKNESS = {
    "spatial": N_("this password is a keyboard pattern, which is easy to guess"),
    "repeat": N_("this password repeats characters, which is easy to guess"),
    "sequence": N_("this password is a sequence like abc or 6543, which is easy to guess"),
    "date": N_("this password is built on a date, which is easy to guess"),
    "regex": N_("this password is built on a year, which is easy to guess"),
}


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


class StateChanges:
    """Where iam's machines record their moves: ``iam_state_change``, kept since the start,
    whose rows name organizations and users by their table keys."""

    def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None:
        if subject.id is None:
            session.flush()  # a new subject's key first: the row names it
        session.add(
            StateChange(
                subject_type=machine.kind,
                subject_id=subject.id,
                transition=step.transition,
                from_state=step.from_state,
                to_state=step.to_state,
                actor=step.actor,
                reason=step.reason,
                at=step.at,
            )
        )

    def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]:
        return list(state_changes(session, subject_type=machine.kind, subject_id=subject.id))


def state_changes(session: Session, *, subject_type: str, subject_id: int) -> list[StateChange]:
    """The recorded transitions of one organization or user, oldest first."""
    stmt = (
        select(StateChange)
        .where(StateChange.subject_type == subject_type, StateChange.subject_id == subject_id)
        .order_by(StateChange.at, StateChange.id)
    )
    return list(session.scalars(stmt))
