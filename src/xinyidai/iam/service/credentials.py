"""Sign-in and throttling, portal sessions, API tokens with refresh, API keys."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from xinyidai.core.ids import new_id
from xinyidai.iam import security
from xinyidai.iam.models import (
    ORG_ACTIVE,
    ORG_REJECTED,
    ORG_SUSPENDED,
    ROLE_READ_ONLY,
    ROLE_STAFF,
    TOKEN_ACCESS,
    TOKEN_PORTAL,
    TOKEN_REFRESH,
    USER_ACTIVE,
    USER_DISABLED,
    USER_LOCKED,
    ApiKey,
    AuthSession,
    LoginFailure,
    Organization,
    User,
)
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service.rules import (
    ACCESS_TOKEN_TTL,
    FAILURE_WINDOW,
    IP_LOCK_AFTER_FAILURES,
    KIND_SCOPES,
    LOCK_AFTER_FAILURES,
    LOCK_DURATION,
    PORTAL_SESSION_TTL,
    REFRESH_TOKEN_TTL,
    SCOPES,
    required_text,
)

# --------------------------------------------------------------------------- sign-in


def get_user(session: Session, *, username: str) -> User | None:
    """The user with this username (any case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def locked_until(session: Session, *, username: str) -> datetime | None:
    """When the throttle lock on ``username`` ends, or None when it is not locked.

    Locked when the last ``LOCK_AFTER_FAILURES`` failures all fell within
    ``FAILURE_WINDOW``; the lock lasts ``LOCK_DURATION`` from the last of them.
    """
    now = clock.now()
    recent = list(
        session.scalars(
            select(LoginFailure.at)
            .where(
                LoginFailure.username == username,
                LoginFailure.at > now - FAILURE_WINDOW - LOCK_DURATION,
            )
            .order_by(LoginFailure.at.desc())
            .limit(LOCK_AFTER_FAILURES)
        )
    )
    if len(recent) < LOCK_AFTER_FAILURES or recent[0] - recent[-1] > FAILURE_WINDOW:
        return None
    until: datetime = recent[0] + LOCK_DURATION
    return until if until > now else None


def _ip_locked(session: Session, *, client_ip: str | None) -> bool:
    if not client_ip:
        return False
    count = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.client_ip == client_ip, LoginFailure.at > clock.now() - FAILURE_WINDOW)
    )
    return int(count or 0) >= IP_LOCK_AFTER_FAILURES


def record_login_failure(session: Session, *, username: str, client_ip: str | None) -> None:
    """Remember one failed sign-in for throttling."""
    session.add(LoginFailure(username=username[:60], client_ip=client_ip, at=clock.now()))
    session.flush()


def prune(session: Session, *, keep: timedelta = timedelta(days=1)) -> tuple[int, int]:
    """Delete sessions and tokens ended or expired, and failed sign-ins, older than ``keep``.

    Returns how many (sessions, failures) were deleted; run it daily (``xyd iam prune``).
    """
    cutoff = clock.now() - max(keep, FAILURE_WINDOW + LOCK_DURATION)
    sessions = session.execute(
        delete(AuthSession).where(
            (AuthSession.expires_at < cutoff)
            # spent refresh tokens stay until they expire: replaying one ends its family
            | ((AuthSession.revoked_at < cutoff) & (AuthSession.kind != TOKEN_REFRESH))
        )
    )
    failures = session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
    return int(sessions.rowcount or 0), int(failures.rowcount or 0)  # type: ignore[attr-defined]


def clear_login_failures(session: Session, *, username: str) -> None:
    """Forget the failed sign-ins of ``username`` (after a success or an unlock)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))


def authenticate(
    session: Session, *, username: str, password: str, client_ip: str | None = None
) -> User:
    """The user whose password this is; refuses locked, disabled and suspended accounts.

    A failure is recorded before the error is raised: the caller must commit even when
    this raises, or throttling cannot count it.
    """
    name = (username or "").strip().lower()[:60]
    if not name:
        raise ValidationFailed("this field is required", field="username")
    until = locked_until(session, username=name)
    if until is None and _ip_locked(session, client_ip=client_ip):
        until = clock.now() + FAILURE_WINDOW
    if until is not None:
        raise TooManyRequests(
            "too many failed sign-ins; try again in {minutes} minutes",
            field="username",
            error_code="locked",
            minutes=max(1, math.ceil((until - clock.now()).total_seconds() / 60)),
        )
    user = get_user(session, username=name)
    if user is None or not security.verify_password(user.password_hash, password or ""):
        record_login_failure(session, username=name, client_ip=client_ip)
        raise Unauthorized(
            "wrong username or password", field="password", error_code="invalid_credentials"
        )
    if user.state == USER_DISABLED:
        raise Forbidden("this account is disabled", field="username", error_code="account_disabled")
    if user.state == USER_LOCKED:
        raise Forbidden(
            "this account is locked; ask your administrator", field="username", error_code="locked"
        )
    if user.organization.state in (ORG_REJECTED, ORG_SUSPENDED):
        raise Forbidden(
            "your organization's access is {state}",
            field="username",
            error_code="organization_inactive",
            state=user.organization.state,
        )
    clear_login_failures(session, username=name)
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.last_login_at = clock.now()
    session.flush()
    return user


# --------------------------------------------------------------------------- sessions, tokens


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def _new_session_row(
    session: Session,
    *,
    user: User,
    kind: str,
    ttl: timedelta,
    family: str,
    client_ip: str | None = None,
    csrf: bool = False,
) -> tuple[str, AuthSession]:
    token = security.new_token()
    row = AuthSession(
        token_hash=security.token_hash(token),
        kind=kind,
        user_id=user.id,
        user=user,
        family=family,
        csrf_token=security.new_token() if csrf else None,
        client_ip=client_ip,
        created_at=clock.now(),
        expires_at=clock.now() + ttl,
    )
    session.add(row)
    session.flush()
    return token, row


def start_portal_session(
    session: Session, *, user: User, client_ip: str | None = None
) -> tuple[str, AuthSession]:
    """A new portal session: the cookie value (shown once) and its row with a CSRF token."""
    return _new_session_row(
        session,
        user=user,
        kind=TOKEN_PORTAL,
        ttl=PORTAL_SESSION_TTL,
        family=new_id("ses"),
        client_ip=client_ip,
        csrf=True,
    )


def issue_tokens(
    session: Session, *, user: User, family: str | None = None, client_ip: str | None = None
) -> TokenPair:
    """A short-lived access token and a refresh token for the API (OAuth2 password flow)."""
    family = family or new_id("tkf")
    access, access_row = _new_session_row(
        session,
        user=user,
        kind=TOKEN_ACCESS,
        ttl=ACCESS_TOKEN_TTL,
        family=family,
        client_ip=client_ip,
    )
    refresh, refresh_row = _new_session_row(
        session,
        user=user,
        kind=TOKEN_REFRESH,
        ttl=REFRESH_TOKEN_TTL,
        family=family,
        client_ip=client_ip,
    )
    return TokenPair(access, refresh, access_row.expires_at, refresh_row.expires_at)


def _find_token(session: Session, *, token: str, kind: str) -> AuthSession | None:
    if not token:
        return None
    return session.scalar(
        select(AuthSession).where(
            AuthSession.token_hash == security.token_hash(token), AuthSession.kind == kind
        )
    )


def _usable(row: AuthSession | None) -> bool:
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return False
    user = row.user
    return user.state == USER_ACTIVE and user.organization.state not in (
        ORG_REJECTED,
        ORG_SUSPENDED,
    )


def resolve_token(session: Session, *, token: str, kind: str) -> AuthSession | None:
    """The live session or access token behind ``token``; None if unknown, expired or ended."""
    row = _find_token(session, token=token, kind=kind)
    return row if _usable(row) else None


def refresh_tokens(
    session: Session, *, refresh_token: str, client_ip: str | None = None
) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent (rotation).

    Presenting a spent refresh token again means it leaked: every token of its family ends
    (the caller commits even when this raises, or the revocation is lost).
    """
    row = _find_token(session, token=refresh_token, kind=TOKEN_REFRESH)
    if row is not None and row.revoked_at is not None:
        _revoke_family(session, family=row.family)
    if row is None or not _usable(row):
        raise Unauthorized(
            "the refresh token is invalid or expired",
            field="refresh_token",
            error_code="invalid_grant",
        )
    row.revoked_at = clock.now()
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.family == row.family,
            AuthSession.kind == TOKEN_ACCESS,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
    return issue_tokens(session, user=row.user, family=row.family, client_ip=client_ip)


def _revoke_family(session: Session, *, family: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.family == family, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def end_session(session: Session, *, token: str, kind: str = TOKEN_PORTAL) -> bool:
    """End a portal session or revoke a token (and its refresh family); True if it was live."""
    row = _find_token(session, token=token, kind=kind)
    if row is None or row.revoked_at is not None:
        return False
    if kind == TOKEN_PORTAL:
        row.revoked_at = clock.now()
    else:
        _revoke_family(session, family=row.family)
    session.flush()
    return True


def revoke_user_sessions(session: Session, *, user_id: int, except_id: int | None = None) -> None:
    """End every session and token of a user, except the one with ``except_id``."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if except_id is not None:
        stmt = stmt.where(AuthSession.id != except_id)
    session.execute(stmt)


def principal_for_user(
    user: User, *, via: str = "token", session_id: int | None = None
) -> Principal:
    """The principal a signed-in user acts as."""
    organization = user.organization
    scopes = KIND_SCOPES.get(organization.kind, frozenset())
    return Principal(
        organization_id=organization.id,
        organization_public_id=organization.public_id,
        organization_kind=organization.kind,
        organization_name=organization.name,
        organization_state=organization.state,
        role=user.role,
        user_id=user.id,
        user_public_id=user.public_id,
        username=user.username,
        display_name=user.display_name,
        credit_code=organization.credit_code,
        organization_code=organization.department_code,
        institution_type=organization.institution_type,
        scopes=scopes if user.role != ROLE_READ_ONLY else frozenset(),
        session_id=session_id,
        via=via,
    )


# --------------------------------------------------------------------------- API keys


def check_scopes(*, organization: Organization, scopes: Sequence[str]) -> list[str]:
    """The scopes, sorted and unique, if this organization may hold them all."""
    wanted = sorted({scope.strip() for scope in scopes if scope and scope.strip()})
    if not wanted:
        raise ValidationFailed("choose at least one scope", field="scopes")
    allowed = KIND_SCOPES.get(organization.kind, frozenset())
    for scope in wanted:
        if scope not in SCOPES:
            raise ValidationFailed("unknown scope {scope}", field="scopes", scope=scope)
        if scope not in allowed:
            raise ValidationFailed(
                "scope {scope} is not available to this organization", field="scopes", scope=scope
            )
    return wanted


def create_api_key(
    session: Session, *, organization: Organization, name: str, scopes: Sequence[str], actor: str
) -> tuple[ApiKey, str]:
    """A new key for ``organization``: the row and the whole key, which is never stored."""
    if organization.state != ORG_ACTIVE:
        raise Conflict(
            "cannot {transition} an organization that is {state}",
            field="state",
            transition="issue keys for",
            state=organization.state,
        )
    name = required_text(name, field="name", max_length=100)
    wanted = check_scopes(organization=organization, scopes=scopes)
    key, prefix = security.new_api_key()
    row = ApiKey(
        public_id=new_id("key"),
        prefix=prefix,
        key_hash=security.token_hash(key),
        name=name,
        scopes=wanted,
        organization_id=organization.id,
        organization=organization,
        created_by=actor,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(session: Session, *, organization_id: int) -> list[ApiKey]:
    """The organization's keys, newest first (revoked ones included, marked)."""
    stmt = (
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return list(session.scalars(stmt))


def get_api_key_or_raise(session: Session, *, organization_id: int, public_id: str) -> ApiKey:
    """One key of this organization; ``NotFound`` for keys of others too."""
    row = session.scalar(
        select(ApiKey).where(
            ApiKey.public_id == public_id, ApiKey.organization_id == organization_id
        )
    )
    if row is None:
        raise NotFound("no API key {id}", field="api_key", id=public_id)
    return row


def revoke_api_key(session: Session, *, organization_id: int, public_id: str, actor: str) -> ApiKey:
    """Revoke a key at once; revoking twice is a conflict."""
    row = get_api_key_or_raise(session, organization_id=organization_id, public_id=public_id)
    if row.revoked_at is not None:
        raise Conflict("this API key is already revoked", field="api_key")
    row.revoked_at = clock.now()
    row.revoked_by = actor
    session.flush()
    return row


def resolve_api_key(session: Session, *, key: str) -> ApiKey | None:
    """The live key for ``key`` (its last-used time updated, to the minute), or None."""
    prefix = security.api_key_prefix(key or "")
    if prefix is None:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or not security.same(row.key_hash, security.token_hash(key)):
        return None
    if row.revoked_at is not None or row.organization.state != ORG_ACTIVE:
        return None
    # A busy machine presents its key many times a second: record the use once a minute.
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at >= timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
    return row


def principal_for_api_key(row: ApiKey) -> Principal:
    """The principal a machine acts as when it presents this key."""
    organization = row.organization
    return Principal(
        organization_id=organization.id,
        organization_public_id=organization.public_id,
        organization_kind=organization.kind,
        organization_name=organization.name,
        organization_state=organization.state,
        role=ROLE_STAFF,
        credit_code=organization.credit_code,
        organization_code=organization.department_code,
        institution_type=organization.institution_type,
        api_key_id=row.public_id,
        scopes=frozenset(row.scopes or ()),
        via="api_key",
    )
