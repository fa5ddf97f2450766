"""The operator's administration pages: organizations, applications, users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.core.api import SessionDep
from xinyidai.core.bounds import Int
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import Organization, OrgKind, OrgState, Role, User
from xinyidai.web.auth import CheckedForm, OperatorPage, OperatorViewer, PageNotFound
from xinyidai.web.forms import FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 20
MEMBERS_SHOWN = 200

_ORG_TRANSITIONS = {
    "approve": iam_service.approve_organization,
    "reject": iam_service.reject_organization,
    "suspend": iam_service.suspend_organization,
    "reactivate": iam_service.reactivate_organization,
}
_USER_TRANSITIONS = {
    "lock": iam_service.lock_user,
    "unlock": iam_service.unlock_user,
    "disable": iam_service.disable_user,
    "enable": iam_service.enable_user,
}


def _organization_or_404(session: SessionDep, public_id: str) -> Organization:
    try:
        return iam_service.get_organization_or_raise(session, public_id=public_id)
    except NotFound as exc:
        raise PageNotFound() from exc


def _user_or_404(session: SessionDep, public_id: str) -> User:
    try:
        return iam_service.get_user_by_public_id_or_raise(session, public_id=public_id)
    except NotFound as exc:
        raise PageNotFound() from exc


def _organizations_page(
    request: Request,
    session: SessionDep,
    *,
    kind: str | None,
    state: str | None,
    q: str | None,
    page: int,
    form: FormState | None = None,
    status: int = 200,
    template: str = "admin/organizations.html",
) -> Response:
    stmt = iam_service.organizations_statement(kind=kind or None, state=state or None, q=q)
    return render(
        request,
        template,
        status=status,
        page=page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE)),
        filters={"kind": kind or "", "state": state or "", "q": q or ""},
        kinds=tuple(OrgKind),
        states=tuple(OrgState),
        creatable_kinds=iam_service.OPERATOR_CREATED_KINDS,
        form=form or FormState(),
    )


@router.get("/organizations")
def organizations(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    kind: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query()] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Every organization, filtered and paged, with the form to create a partner."""
    return _organizations_page(request, session, kind=kind, state=state, q=q, page=page)


@router.get("/applications")
def applications(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Organizations waiting for a decision."""
    return _organizations_page(
        request,
        session,
        kind=None,
        state=OrgState.PENDING,
        q=None,
        page=page,
        template="admin/applications.html",
    )


@router.post("/organizations")
def create_organization(
    request: Request, principal: OperatorPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Create a provider, auditor or platform organization."""
    state = FormState.from_form(form)
    try:
        organization = iam_service.create_partner_organization(
            session,
            kind=text(form, "kind"),
            name=text(form, "name"),
            credit_code=text(form, "credit_code") or None,
            department_code=text(form, "department_code") or None,
            contact_name=text(form, "contact_name") or None,
            contact_phone=text(form, "contact_phone") or None,
            contact_email=text(form, "contact_email") or None,
            actor=principal.actor,
        )
    except XydError as exc:
        session.rollback()
        return _organizations_page(
            request,
            session,
            kind=None,
            state=None,
            q=None,
            page=1,
            form=state.fail(exc),
            status=exc.status,
        )
    return RedirectResponse(f"/admin/organizations/{organization.public_id}", status_code=303)


def _organization_page(
    request: Request,
    session: SessionDep,
    organization: Organization,
    *,
    form: FormState | None = None,
    decision: FormState | None = None,
    status: int = 200,
) -> Response:
    users = page_of(
        session,
        iam_service.users_statement(organization_id=organization.id),
        PageRequest(size=MEMBERS_SHOWN),
    )
    return render(
        request,
        "admin/organization.html",
        status=status,
        organization=organization,
        users=users.items,
        user_total=users.total,
        history=iam_service.ORGANIZATIONS.history(session, organization),
        roles=tuple(Role),
        form=form or FormState(),
        decision=decision or FormState(),
        claims=(
            iam_service.enterprise_claims(session, credit_code=organization.credit_code)
            if organization.kind == OrgKind.ENTERPRISE and organization.credit_code
            else []
        ),
    )


@router.get("/organizations/{org_id}")
def organization(
    org_id: str, request: Request, principal: OperatorViewer, session: SessionDep
) -> Response:
    """One organization: facts, history, decisions, members."""
    found = _organization_or_404(session, org_id)
    return _organization_page(request, session, found)


@router.post("/organizations/{org_id}/users")
def create_user(
    org_id: str,
    request: Request,
    principal: OperatorPage,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Add a user to an organization."""
    found = _organization_or_404(session, org_id)
    state = FormState.from_form(form)
    try:
        iam_service.create_user(
            session,
            organization=found,
            username=text(form, "username"),
            display_name=text(form, "display_name"),
            password=text(form, "password"),
            role=text(form, "role"),
            email=text(form, "email") or None,
            actor=principal.actor,
        )
    except XydError as exc:
        session.rollback()
        return _organization_page(request, session, found, form=state.fail(exc), status=exc.status)
    return RedirectResponse(f"/admin/organizations/{org_id}", status_code=303)


@router.post("/organizations/{org_id}/{transition}")
def decide(
    org_id: str,
    transition: str,
    request: Request,
    principal: OperatorPage,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Approve, reject, suspend or reactivate an organization."""
    found = _organization_or_404(session, org_id)
    decision = FormState.from_form(form)
    try:
        move = _ORG_TRANSITIONS.get(transition)
        if move is None:
            raise ValidationFailed(
                "must be one of: {choices}", field="transition", choices=", ".join(_ORG_TRANSITIONS)
            )
        move(session, organization=found, actor=principal.actor, reason=text(form, "reason"))
    except XydError as exc:
        session.rollback()
        decision.values["transition"] = transition
        return _organization_page(
            request,
            session,
            found,
            decision=decision.fail(exc, default_field="reason"),
            status=exc.status,
        )
    back = text(form, "back")
    return RedirectResponse(
        back if back == "/admin/applications" else f"/admin/organizations/{org_id}",
        status_code=303,
    )


@router.get("/users")
def users(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    q: Annotated[str | None, Query()] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Every user, paged."""
    stmt = iam_service.users_statement(q=q)
    return render(
        request,
        "admin/users.html",
        page=page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE)),
        filters={"q": q or ""},
    )


@router.post("/users/{user_id}/{transition}")
def change_user_state(
    user_id: str,
    transition: str,
    request: Request,
    principal: OperatorPage,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Lock, unlock, disable or enable a user, then go back to its organization."""
    user = _user_or_404(session, user_id)
    move = _USER_TRANSITIONS.get(transition)
    try:
        if move is None:
            raise ValidationFailed(
                "must be one of: {choices}",
                field="transition",
                choices=", ".join(_USER_TRANSITIONS),
            )
        iam_service.check_not_own_account(principal, user)
        move(session, user=user, actor=principal.actor)
    except XydError as exc:
        session.rollback()
        return _organization_page(
            request, session, user.organization, form=FormState().fail(exc), status=exc.status
        )
    return RedirectResponse(f"/admin/organizations/{user.organization.public_id}", status_code=303)
