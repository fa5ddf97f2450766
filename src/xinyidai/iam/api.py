"""HTTP routes of identity and access: tokens, one's own account, API keys, onboarding,
organizations and their members.

The authorization dependencies every router declares its callers with are in
``xinyidai.iam.auth``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam import service
from xinyidai.iam.auth import AnyUser, OperatorUser, OperatorWriter, OrganizationAdmin, client_ip
from xinyidai.iam.models import Organization, TokenKind, User
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

router = APIRouter(tags=["iam"], responses=ERROR_RESPONSES)


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


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(
    principal: OrganizationAdmin, session: SessionDep, paging: PageDep
) -> Page[ApiKeyOut]:
    """Your organization's API keys, newest first (secrets are never shown again)."""
    stmt = service.api_keys_statement(organization_id=principal.organization_id)
    return page_of(session, stmt, paging, ApiKeyOut.model_validate)


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
    stmt = service.organizations_statement(kind=kind, state=state, q=q)
    return page_of(session, stmt, paging, _organization_out)


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
    stmt = service.users_statement(organization_id=organization.id)
    return page_of(session, stmt, paging, UserOut.model_validate)


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
    service.check_not_own_account(principal, user)
    return UserOut.model_validate(move(session, user=user, actor=principal.actor))


# --------------------------------------------------------------------------- own members


@router.get("/my-organization/users", response_model=Page[UserOut])
def list_members(
    principal: OrganizationAdmin, session: SessionDep, paging: PageDep
) -> Page[UserOut]:
    """The members of your organization (its admins)."""
    stmt = service.users_statement(organization_id=principal.organization_id)
    return page_of(session, stmt, paging, UserOut.model_validate)


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
    service.check_not_own_account(principal, user)
    return UserOut.model_validate(move(session, user=user, actor=principal.actor))
