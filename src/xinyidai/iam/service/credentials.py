"""Sign-in and throttling, portal sessions, API tokens with refresh, API keys."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
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
from xinyidai.core.settings import get_settings
from xinyidai.iam import security
from xinyidai.iam.models import (
    ApiKey,
    AuthSession,
    LoginFailure,
    Organization,
    OrgState,
    Role,
    TokenKind,
    User,
    UserState,
)
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service.rules import (
    ACCESS_TOKEN_TTL,
    KIND_SCOPES,
    PORTAL_SESSION_TTL,
    REFRESH_TOKEN_TTL,
    SCOPES,
    required_text,
)

# --------------------------------------------------------------------------- sign-in


def get_user(session: Session, *, username: str) -> User | None:
    """The user with this username (any case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def throttle_delay(failures: int, *, free: int, base: float, cap: float) -> float:
    """Seconds the next attempt waits after ``failures`` recent failures of one key.

    None up to ``free`` failures, then ``base``, twice that, four times … up to ``cap``.
    """
    if failures < free:
        return 0.0
    return float(min(base * 2 ** min(failures - free, 40), cap))


def _failure_counts(
    session: Session, *, username: str, client_ip: str | None, since: datetime
) -> dict[str, tuple[int, datetime | None]]:
    """(count, last time) of the recent failures of this username from this address
    (``pair``), of this username from anywhere (``username``) and of this address for any
    username (``address``), in one query."""
    is_user = LoginFailure.username == username
    from_here = (
        LoginFailure.client_ip == client_ip if client_ip else LoginFailure.client_ip.is_(None)
    )
    keys: dict[str, ColumnElement[bool]] = {"pair": and_(is_user, from_here), "username": is_user}
    if client_ip:  # failures with no address known are not one address's
        keys["address"] = from_here
    columns = []
    for condition in keys.values():
        columns.append(func.count().filter(condition))
        columns.append(func.max(LoginFailure.at).filter(condition))
    row = session.execute(
        select(*columns).where(LoginFailure.at > since, or_(*keys.values()))
    ).one()
    return {
        key: (int(row[2 * number] or 0), row[2 * number + 1]) for number, key in enumerate(keys)
    }


def retry_at(session: Session, *, username: str, client_ip: str | None) -> datetime | None:
    """When the next sign-in as ``username`` from ``client_ip`` may be tried; None: now.

    Three keys, each waiting from its own last failure (settings ``XYD_LOGIN_*``):

    - this username from this address: after ``login_free_failures`` failures it waits 1 s,
      2 s, 4 s … up to ``login_delay_max_seconds`` (15 minutes);
    - this username from anywhere: the same delays, but never longer than
      ``login_username_delay_max_seconds`` (a minute), so that someone failing elsewhere
      cannot keep the real user out for long;
    - this address, whatever the username: after ``login_address_free_failures`` it waits
      the same growing delays (password spraying).

    There is no lock: an attempt made once the wait is over has its password checked.
    """
    settings = get_settings().iam
    now = clock.now()
    since = now - timedelta(minutes=settings.login_failure_window_minutes)
    counts = _failure_counts(session, username=username, client_ip=client_ip, since=since)
    caps = {
        "pair": (settings.login_free_failures, settings.login_delay_max_seconds),
        "username": (settings.login_free_failures, settings.login_username_delay_max_seconds),
        "address": (settings.login_address_free_failures, settings.login_delay_max_seconds),
    }
    latest: datetime | None = None
    for key, (failures, last) in counts.items():
        free, cap = caps[key]
        wait = throttle_delay(failures, free=free, base=settings.login_delay_base_seconds, cap=cap)
        if last is None or wait <= 0:
            continue
        until = last + timedelta(seconds=wait)
        if until > now and (latest is None or until > latest):
            latest = until
    return latest


def record_login_failure(session: Session, *, username: str, client_ip: str | None) -> None:
    """Remember one failed sign-in for throttling."""
    session.add(LoginFailure(username=username[:60], client_ip=client_ip, at=clock.now()))
    session.flush()


def prune(session: Session, *, keep: timedelta = timedelta(days=1)) -> tuple[int, int]:
    """Delete sessions and tokens ended or expired, and failed sign-ins, older than ``keep``.

    Returns how many (sessions, failures) were deleted; run it daily (``xyd iam prune``).
    Failed sign-ins are kept at least as long as they count for throttling.
    """
    window = timedelta(minutes=get_settings().iam.login_failure_window_minutes)
    cutoff = clock.now() - max(keep, window)
    sessions = session.execute(
        delete(AuthSession).where(
            (AuthSession.expires_at < cutoff)
            # spent refresh tokens stay until they expire: replaying one ends its family
            | ((AuthSession.revoked_at < cutoff) & (AuthSession.kind != TokenKind.REFRESH))
        )
    )
    failures = session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
    return int(sessions.rowcount or 0), int(failures.rowcount or 0)  # type: ignore[attr-defined]


def clear_login_failures(
    session: Session, *, username: str, client_ip: str | None = None, everywhere: bool = True
) -> None:
    """Forget failed sign-ins of ``username``: all of them (an operator's unlock or password
    reset), or only those from ``client_ip`` (``everywhere=False``: a success there, which
    must not wipe what another address has been trying)."""
    stmt = delete(LoginFailure).where(LoginFailure.username == username)
    if not everywhere:
        stmt = stmt.where(
            LoginFailure.client_ip == client_ip if client_ip else LoginFailure.client_ip.is_(None)
        )
    session.execute(stmt)


def _throttled(until: datetime) -> TooManyRequests:
    seconds = max(1, math.ceil((until - clock.now()).total_seconds()))
    if seconds < 120:
        return TooManyRequests(
            "too many failed sign-ins; try again in {seconds} seconds",
            field="username",
            retry_after=seconds,
            seconds=seconds,
        )
    return TooManyRequests(
        "too many failed sign-ins; try again in {minutes} minutes",
        field="username",
        retry_after=seconds,
        minutes=math.ceil(seconds / 60),
    )


def authenticate(
    session: Session, *, username: str, password: str, client_ip: str | None = None
) -> User:
    """The user whose password this is; refuses disabled and locked users and members of
    rejected and suspended organizations.

    Every attempt that is not throttled checks one argon2 hash, whether or not the user
    exists (a dummy hash stands in), so the time taken tells nothing about the username.
    A failure is recorded before the error is raised: the caller must commit even when
    this raises, or throttling cannot count it.
    """
    name = (username or "").strip().lower()[:60]
    if not name:
        raise ValidationFailed("this field is required", field="username")
    until = retry_at(session, username=name, client_ip=client_ip)
    if until is not None:
        raise _throttled(until)
    user = get_user(session, username=name)
    matches = security.verify_password(user.password_hash if user else None, password or "")
    if user is None or not matches:
        record_login_failure(session, username=name, client_ip=client_ip)
        raise Unauthorized(
            "wrong username or password", field="password", error_code="invalid_credentials"
        )
    if user.state == UserState.DISABLED:
        raise Forbidden("this account is disabled", field="username", error_code="account_disabled")
    if user.state == UserState.LOCKED:
        raise Forbidden(
            "this account is locked; ask your administrator", field="username", error_code="locked"
        )
    if user.organization.state in (OrgState.REJECTED, OrgState.SUSPENDED):
        raise Forbidden(
            "your organization's access is {state}",
            field="username",
            error_code="organization_inactive",
            state=user.organization.state,
        )
    clear_login_failures(session, username=name, client_ip=client_ip, everywhere=False)
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
        kind=TokenKind.PORTAL,
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
        kind=TokenKind.ACCESS,
        ttl=ACCESS_TOKEN_TTL,
        family=family,
        client_ip=client_ip,
    )
    refresh, refresh_row = _new_session_row(
        session,
        user=user,
        kind=TokenKind.REFRESH,
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
    return user.state == UserState.ACTIVE and user.organization.state not in (
        OrgState.REJECTED,
        OrgState.SUSPENDED,
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
    row = _find_token(session, token=refresh_token, kind=TokenKind.REFRESH)
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
            AuthSession.kind == TokenKind.ACCESS,
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


def end_session(session: Session, *, token: str, kind: str = TokenKind.PORTAL) -> bool:
    """End a portal session or revoke a token (and its refresh family); True if it was live."""
    row = _find_token(session, token=token, kind=kind)
    if row is None or row.revoked_at is not None:
        return False
    if kind == TokenKind.PORTAL:
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
        scopes=scopes if user.role != Role.READ_ONLY else frozenset(),
        session_id=session_id,
        via=via,
    )


def check_active(principal: Principal) -> None:
    """``Forbidden`` (code ``organization_inactive``) unless the principal's organization is
    active: what a pending, rejected or suspended organization does in anyone's name, or
    reads, is refused. (An enterprise's claim to its credit code is pending until the
    operator approves it.)"""
    if principal.organization_state == OrgState.ACTIVE:
        return
    if principal.organization_state == OrgState.PENDING:
        raise Forbidden(
            "your organization is waiting for the credit center's approval; "
            "this opens once it is approved",
            error_code="organization_inactive",
        )
    raise Forbidden(
        "your organization's access is {state}",
        error_code="organization_inactive",
        state=principal.organization_state,
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
    if organization.state != OrgState.ACTIVE:
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


def api_keys_statement(*, organization_id: int) -> Select[Any]:
    """The organization's keys, newest first (revoked ones included, marked)."""
    return (
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )


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
    if row.revoked_at is not None or row.organization.state != OrgState.ACTIVE:
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
        role=Role.STAFF,
        credit_code=organization.credit_code,
        organization_code=organization.department_code,
        institution_type=organization.institution_type,
        api_key_id=row.public_id,
        scopes=frozenset(row.scopes or ()),
        via="api_key",
    )
