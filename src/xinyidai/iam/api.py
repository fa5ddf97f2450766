"""HTTP routes of identity and access, and the authorization dependencies of every router.

Other domains declare who may call an endpoint with one of these, never by hand::

    from xinyidai.iam.api import InstitutionUser, ProviderPrincipal

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

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.errors import Forbidden, Unauthorized, ValidationFailed, XydError
from xinyidai.core.pagination import Page
from xinyidai.iam import security, service
from xinyidai.iam.models import Organization, OrgKind, OrgState, TokenKind, User
from xinyidai.iam.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    DecisionIn,
    EnterpriseRegistrationIn,
    InstitutionApplicationIn,
    MeOut,
    OrganizationCount,
    OrganizationIn,
    OrganizationOut,
    PasswordChangeIn,
    Principal,
    TokenOut,
    UserIn,
    UserOut,
)

SESSION_COOKIE = "xyd_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)

router = APIRouter(tags=["iam"], responses=ERROR_RESPONSES)


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
    """The caller, if any; a cookie-borne unsafe request must also carry the CSRF token."""
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
    unknown = set(kinds) - set(OrgKind)
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
OrganizationAdmin = Annotated[Principal, Depends(require_roles(*OrgKind, admin=True))]
ProviderPrincipal = Annotated[Principal, Depends(require_scope("ingest:write"))]
WitnessPrincipal = Annotated[Principal, Depends(require_scope("ledger:witness"))]
FederationPrincipal = Annotated[Principal, Depends(require_scope("federation"))]


# --------------------------------------------------------------------------- helpers


def _organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut.model_validate(organization)


def _me(user: User) -> MeOut:
    return MeOut(
        user=UserOut.model_validate(user), organization=_organization_out(user.organization)
    )


def _token_out(pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        expires_in=int(service.ACCESS_TOKEN_TTL.total_seconds()),
        refresh_token=pair.refresh_token,
        refresh_expires_in=int(service.REFRESH_TOKEN_TTL.total_seconds()),
    )


def _user_of(session: SessionDep, principal: Principal) -> User:
    return service.get_user_or_raise(session, username=principal.username or "")


# --------------------------------------------------------------------------- auth


@router.post("/auth/token", response_model=TokenOut)
def issue_token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(description="password or refresh_token")] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenOut:
    """OAuth2 token endpoint: password grant, or refresh grant (the refresh token rotates).

    Failed sign-ins are throttled, never locked: after five failures of a username the
    next attempt waits 1 s, then 2 s, 4 s … (429, code ``too_many_requests``, field
    ``username``, header ``Retry-After``); see the ``XYD_LOGIN_*`` settings.
    """
    if grant_type == "refresh_token":
        try:
            pair = service.refresh_tokens(
                session, refresh_token=refresh_token or "", client_ip=client_ip(request)
            )
        except XydError:
            session.commit()  # keep the revocation of a replayed token's family
            raise
        return _token_out(pair)
    if grant_type != "password":
        raise ValidationFailed(
            "unsupported grant type {grant_type}", field="grant_type", grant_type=grant_type
        )
    try:
        user = service.authenticate(
            session, username=username or "", password=password or "", client_ip=client_ip(request)
        )
    except XydError:
        session.commit()  # keep the recorded failure for throttling
        raise
    return _token_out(service.issue_tokens(session, user=user, client_ip=client_ip(request)))


@router.post("/auth/revoke", status_code=204)
def revoke_token(
    session: SessionDep,
    token: Annotated[str, Form(description="an access or refresh token")],
) -> Response:
    """Revoke a token and the rest of its family (RFC 7009: unknown tokens are not an error)."""
    if not service.end_session(session, token=token, kind=TokenKind.ACCESS):
        service.end_session(session, token=token, kind=TokenKind.REFRESH)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def read_me(principal: AnyUser, session: SessionDep) -> MeOut:
    """The signed-in user, its role and its organization (with its credit code if any)."""
    return _me(_user_of(session, principal))


@router.post("/me/password", status_code=204)
def change_my_password(data: PasswordChangeIn, principal: AnyUser, session: SessionDep) -> Response:
    """Change your password; your other sessions and tokens end."""
    service.change_password(
        session,
        user=_user_of(session, principal),
        current_password=data.current_password,
        new_password=data.new_password,
        keep_session_id=principal.session_id,
    )
    return Response(status_code=204)


# --------------------------------------------------------------------------- API keys


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(principal: OrganizationAdmin, session: SessionDep) -> list[ApiKeyOut]:
    """Your organization's API keys (secrets are never shown again)."""
    rows = service.list_api_keys(session, organization_id=principal.organization_id)
    return [ApiKeyOut.model_validate(row) for row in rows]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    data: ApiKeyIn, principal: OrganizationAdmin, session: SessionDep
) -> ApiKeyCreated:
    """Create a scoped key for a machine; the response is the only time the key is shown."""
    organization = service.get_organization_or_raise(
        session, public_id=principal.organization_public_id
    )
    row, key = service.create_api_key(
        session,
        organization=organization,
        name=data.name,
        scopes=data.scopes,
        actor=principal.actor,
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: str, principal: OrganizationAdmin, session: SessionDep) -> ApiKeyOut:
    """Revoke a key of your organization at once."""
    row = service.revoke_api_key(
        session,
        organization_id=principal.organization_id,
        public_id=key_id,
        actor=principal.actor,
    )
    return ApiKeyOut.model_validate(row)


# --------------------------------------------------------------------------- onboarding


@router.post("/registrations/enterprise", response_model=MeOut, status_code=201)
def register_enterprise(data: EnterpriseRegistrationIn, session: SessionDep) -> MeOut:
    """An enterprise claims its credit code, pending the operator's approval.

    Pending or rejected claims by others never block a code; a code held by an approved
    account is refused (409, field ``credit_code``).
    """
    _, user = service.register_enterprise(session, **data.model_dump())
    return _me(user)


@router.post("/registrations/institution", response_model=MeOut, status_code=201)
def apply_institution(data: InstitutionApplicationIn, session: SessionDep) -> MeOut:
    """A financial institution applies for access; the operator decides."""
    _, user = service.apply_institution(session, **data.model_dump())
    return _me(user)


# --------------------------------------------------------------------------- operator


@router.get("/organizations", response_model=Page[OrganizationOut])
def list_organizations(
    principal: OperatorUser,
    session: SessionDep,
    paging: PageDep,
    kind: Annotated[str | None, Query(description="organization kind")] = None,
    state: Annotated[str | None, Query(description="pending, active, rejected, suspended")] = None,
    q: Annotated[str | None, Query(description="part of the name or start of the code")] = None,
) -> Page[OrganizationOut]:
    """Every organization, newest first (operator)."""
    rows, total = service.list_organizations(
        session, kind=kind, state=state, q=q, page=paging.page, size=paging.size
    )
    return Page(
        items=[_organization_out(row) for row in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.post("/organizations", response_model=OrganizationOut, status_code=201)
def create_organization(
    data: OrganizationIn, principal: OperatorWriter, session: SessionDep
) -> OrganizationOut:
    """Create a provider, auditor or platform organization (operator)."""
    organization = service.create_partner_organization(
        session, actor=principal.actor, **data.model_dump()
    )
    return _organization_out(organization)


@router.get("/organization-counts", response_model=list[OrganizationCount])
def organization_counts(principal: OperatorUser, session: SessionDep) -> list[OrganizationCount]:
    """How many organizations of each kind are in each state (operator)."""
    return service.organization_counts(session)


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def read_organization(org_id: str, principal: OperatorUser, session: SessionDep) -> OrganizationOut:
    """One organization (operator)."""
    return _organization_out(service.get_organization_or_raise(session, public_id=org_id))


_DECISIONS = {
    "approve": service.approve_organization,
    "reject": service.reject_organization,
    "suspend": service.suspend_organization,
    "reactivate": service.reactivate_organization,
}


def _decide(
    transition: str, org_id: str, data: DecisionIn, principal: Principal, session: SessionDep
) -> OrganizationOut:
    organization = service.get_organization_or_raise(session, public_id=org_id)
    decided = _DECISIONS[transition](
        session, organization=organization, actor=principal.actor, reason=data.reason
    )
    return _organization_out(decided)


@router.post("/organizations/{org_id}/approve", response_model=OrganizationOut)
def approve_organization(
    org_id: str, principal: OperatorWriter, session: SessionDep, data: DecisionIn | None = None
) -> OrganizationOut:
    """Pending → active (operator); for an enterprise, its claim becomes the code's account
    and the other pending claims to the code are closed."""
    return _decide("approve", org_id, data or DecisionIn(), principal, session)


@router.post("/organizations/{org_id}/reject", response_model=OrganizationOut)
def reject_organization(
    org_id: str, data: DecisionIn, principal: OperatorWriter, session: SessionDep
) -> OrganizationOut:
    """Pending → rejected, with a reason (operator)."""
    return _decide("reject", org_id, data, principal, session)


@router.post("/organizations/{org_id}/suspend", response_model=OrganizationOut)
def suspend_organization(
    org_id: str, data: DecisionIn, principal: OperatorWriter, session: SessionDep
) -> OrganizationOut:
    """Active → suspended, with a reason (operator); its users and keys stop working."""
    return _decide("suspend", org_id, data, principal, session)


@router.post("/organizations/{org_id}/reactivate", response_model=OrganizationOut)
def reactivate_organization(
    org_id: str, principal: OperatorWriter, session: SessionDep, data: DecisionIn | None = None
) -> OrganizationOut:
    """Suspended → active (operator)."""
    return _decide("reactivate", org_id, data or DecisionIn(), principal, session)


@router.get("/organizations/{org_id}/users", response_model=Page[UserOut])
def list_organization_users(
    org_id: str, principal: OperatorUser, session: SessionDep, paging: PageDep
) -> Page[UserOut]:
    """The members of one organization (operator)."""
    organization = service.get_organization_or_raise(session, public_id=org_id)
    rows, total = service.list_users(
        session, organization_id=organization.id, page=paging.page, size=paging.size
    )
    return Page(
        items=[UserOut.model_validate(row) for row in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.post("/organizations/{org_id}/users", response_model=UserOut, status_code=201)
def create_organization_user(
    org_id: str, data: UserIn, principal: OperatorWriter, session: SessionDep
) -> UserOut:
    """Add a user to an organization (operator)."""
    organization = service.get_organization_or_raise(session, public_id=org_id)
    user = service.create_user(
        session, organization=organization, actor=principal.actor, **data.model_dump()
    )
    return UserOut.model_validate(user)


_USER_TRANSITIONS = {
    "lock": service.lock_user,
    "unlock": service.unlock_user,
    "disable": service.disable_user,
    "enable": service.enable_user,
}


@router.post("/users/{user_id}/{transition}", response_model=UserOut)
def change_user_state(
    user_id: str, transition: str, principal: OperatorWriter, session: SessionDep
) -> UserOut:
    """Lock, unlock, disable or enable a user (operator)."""
    move = _USER_TRANSITIONS.get(transition)
    if move is None:
        raise ValidationFailed(
            "must be one of: {choices}", field="transition", choices=", ".join(_USER_TRANSITIONS)
        )
    user = service.get_user_by_public_id_or_raise(session, public_id=user_id)
    if user.id == principal.user_id:
        raise Forbidden("you cannot change your own account's state", error_code="forbidden")
    return UserOut.model_validate(move(session, user=user, actor=principal.actor))


# --------------------------------------------------------------------------- own members


@router.get("/my-organization/users", response_model=Page[UserOut])
def list_members(
    principal: OrganizationAdmin, session: SessionDep, paging: PageDep
) -> Page[UserOut]:
    """The members of your organization (its admins)."""
    rows, total = service.list_users(
        session, organization_id=principal.organization_id, page=paging.page, size=paging.size
    )
    return Page(
        items=[UserOut.model_validate(row) for row in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.post("/my-organization/users", response_model=UserOut, status_code=201)
def add_member(data: UserIn, principal: OrganizationAdmin, session: SessionDep) -> UserOut:
    """Add a member to your organization (its admins)."""
    organization = service.get_organization_or_raise(
        session, public_id=principal.organization_public_id
    )
    user = service.create_user(
        session, organization=organization, actor=principal.actor, **data.model_dump()
    )
    return UserOut.model_validate(user)


_MEMBER_TRANSITIONS = {"disable": service.disable_user, "enable": service.enable_user}


@router.post("/my-organization/users/{user_id}/{transition}", response_model=UserOut)
def change_member_state(
    user_id: str, transition: str, principal: OrganizationAdmin, session: SessionDep
) -> UserOut:
    """Disable or enable a member of your organization (its admins)."""
    move = _MEMBER_TRANSITIONS.get(transition)
    if move is None:
        raise ValidationFailed(
            "must be one of: {choices}", field="transition", choices=", ".join(_MEMBER_TRANSITIONS)
        )
    user = service.get_member_or_raise(
        session, organization_id=principal.organization_id, public_id=user_id
    )
    if user.id == principal.user_id:
        raise Forbidden("you cannot change your own account's state", error_code="forbidden")
    return UserOut.model_validate(move(session, user=user, actor=principal.actor))
