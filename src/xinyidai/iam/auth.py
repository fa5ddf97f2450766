"""The authorization dependencies of every router: who is calling, and who may call.

Other domains declare who may call an endpoint with one of these, never by hand::

    from xinyidai.iam.auth import InstitutionUser, ProviderPrincipal

    @router.post("/batches")
    def push(principal: ProviderPrincipal, session: SessionDep) -> ...: ...

A caller is identified by, in order: an ``Authorization: Bearer`` access token (or an
API key given as the bearer), an ``X-API-Key`` header, or the portal's session cookie.
Requests riding on the cookie must carry the session's CSRF token (``X-CSRF-Token``
header or ``csrf_token`` form field) on every unsafe method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from xinyidai.core.api import SessionDep
from xinyidai.core.errors import Forbidden, Unauthorized
from xinyidai.iam import security, service
from xinyidai.iam.models import OrgKind, OrgState, TokenKind
from xinyidai.iam.schemas import Principal

SESSION_COOKIE = "xyd_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)

# --------------------------------------------------------------------------- who is calling


def client_ip(request: Request) -> str | None:
    """The caller's address as the server sees it (throttling, session records)."""
    return request.client.host if request.client else None


def portal_principal(request: Request, session: SessionDep) -> Principal | None:
    """The principal of the portal session cookie, or None (no CSRF check: see callers)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    row = service.resolve_token(session, token=token, kind=TokenKind.PORTAL)
    if row is None:
        return None
    request.state.csrf_token = row.csrf_token
    return service.principal_for_user(row.user, via="portal", session_id=row.id)


async def _form_csrf(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if "form" not in content_type:
        return None
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def credentials_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)] = None,
    api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
) -> Principal | None:
    """Whoever the credentials name, or None when none were given (CSRF not checked here).

    Credentials that were given but are wrong, expired or revoked are refused (401) rather
    than treated as anonymous.
    """
    if bearer:
        if security.looks_like_api_key(bearer):
            api_key = bearer
        else:
            row = service.resolve_token(session, token=bearer, kind=TokenKind.ACCESS)
            if row is None:
                raise Unauthorized(
                    "the access token is invalid or expired", error_code="invalid_token"
                )
            return service.principal_for_user(row.user, via="token", session_id=row.id)
    if api_key:
        key_row = service.resolve_api_key(session, key=api_key)
        if key_row is None:
            raise Unauthorized("the API key is invalid or revoked", error_code="invalid_api_key")
        return service.principal_for_api_key(key_row)
    return portal_principal(request, session)


async def optional_principal(
    request: Request,
    principal: Annotated[Principal | None, Depends(credentials_principal)],
) -> Principal | None:
    """The caller, if any; a cookie-borne unsafe request must also carry the CSRF token.

    The caller is kept on the request's state for the access log (public ids only).
    """
    request.state.principal = principal
    if principal is not None and principal.via == "portal" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        if not security.same(sent, getattr(request.state, "csrf_token", None)):
            raise Forbidden(
                "the form has expired or did not come from this site; reload and try again",
                field=CSRF_FIELD,
                error_code="csrf",
            )
    return principal


def signed_in_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """Any authenticated caller whatever its organization's state; 401 otherwise.

    Only for one's own account (``/me``, the password): pending, and the organization's
    other states, may still see where their application stands.
    """
    if principal is None:
        raise Unauthorized("sign in first", error_code="unauthorized")
    return principal


SignedInPrincipal = Annotated[Principal, Depends(signed_in_principal)]


def check_active(principal: Principal) -> None:
    """403 ``organization_inactive`` unless the caller's organization is active (approved)."""
    service.check_active(principal)


def current_principal(principal: SignedInPrincipal) -> Principal:
    """Any authenticated caller (user or API key) of an active organization.

    Every route that reads or writes data uses this or one built on it; 401 without
    credentials, 403 ``organization_inactive`` for a pending, rejected or suspended one.
    """
    check_active(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def optional_active_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal | None:
    """The caller if its organization is active, else None: a public route answers a
    pending organization as it answers anyone."""
    if principal is None or principal.organization_state != OrgState.ACTIVE:
        return None
    return principal


def any_user(principal: SignedInPrincipal) -> Principal:
    """A signed-in person (not an API key) whatever the organization's state (``/me``)."""
    if not principal.is_user:
        raise Forbidden("this needs a signed-in user, not an API key", error_code="forbidden")
    return principal


AnyUser = Annotated[Principal, Depends(any_user)]


def current_user(principal: AnyUser) -> Principal:
    """A signed-in person of an active organization (pending applicants are refused)."""
    check_active(principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_roles(
    *kinds: str, admin: bool = False, write: bool = False
) -> Callable[[Principal], Principal]:
    """A dependency admitting signed-in users of active organizations of these kinds.

    ``admin`` also requires the organization's admin role; ``write`` refuses read-only
    members. Everyone else gets 403 in the error shape (a pending organization
    ``organization_inactive``, whatever the route).
    """
    unknown = set(kinds) - set(tuple(OrgKind))
    if unknown:
        raise ValueError(f"unknown organization kinds: {sorted(unknown)}")

    def dependency(principal: AnyUser) -> Principal:
        check_active(principal)
        if principal.organization_kind not in kinds:
            raise Forbidden("your organization may not do this", error_code="forbidden")
        if admin and not principal.is_admin:
            raise Forbidden("only an administrator may do this", error_code="forbidden")
        if write and not principal.can_write:
            raise Forbidden("read-only members cannot change anything", error_code="forbidden")
        return principal

    dependency.__name__ = "require_" + "_".join(kinds) + ("_admin" if admin else "")
    return dependency


def require_scope(scope: str) -> Callable[[Principal], Principal]:
    """A dependency admitting an API key with ``scope``, or a user whose organization has it."""
    if scope not in service.SCOPES:
        raise ValueError(f"unknown scope {scope}")

    def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden("this needs the scope {scope}", error_code="forbidden", scope=scope)
        return principal

    dependency.__name__ = "require_scope_" + scope.replace(":", "_")
    return dependency


OperatorUser = Annotated[Principal, Depends(require_roles(OrgKind.OPERATOR))]
OperatorWriter = Annotated[Principal, Depends(require_roles(OrgKind.OPERATOR, write=True))]
OperatorAdmin = Annotated[Principal, Depends(require_roles(OrgKind.OPERATOR, admin=True))]
ProviderUser = Annotated[Principal, Depends(require_roles(OrgKind.PROVIDER))]
EnterpriseUser = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE))]
InstitutionUser = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION))]
AuditorUser = Annotated[Principal, Depends(require_roles(OrgKind.AUDITOR))]
PlatformUser = Annotated[Principal, Depends(require_roles(OrgKind.PLATFORM))]
OrganizationAdmin = Annotated[Principal, Depends(require_roles(*tuple(OrgKind), admin=True))]
ProviderPrincipal = Annotated[Principal, Depends(require_scope("ingest:write"))]
WitnessPrincipal = Annotated[Principal, Depends(require_scope("ledger:witness"))]
FederationPrincipal = Annotated[Principal, Depends(require_scope("federation"))]
