"""An organization's administrators manage its members: list, add, disable, enable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.core.api import SessionDep
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, Role
from xinyidai.iam.schemas import Principal
from xinyidai.web.auth import CheckedForm, PageNotFound, portal_roles
from xinyidai.web.forms import FormState, text
from xinyidai.web.templating import render

router = APIRouter(include_in_schema=False)

OrganizationAdminPage = Annotated[Principal, Depends(portal_roles(*OrgKind, admin=True))]

MEMBERS_SHOWN = 200
_TRANSITIONS = {"disable": iam_service.disable_user, "enable": iam_service.enable_user}


def _page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    users = page_of(
        session,
        iam_service.users_statement(organization_id=principal.organization_id),
        PageRequest(size=MEMBERS_SHOWN),
    )
    return render(
        request,
        "members.html",
        status=status,
        users=users.items,
        user_total=users.total,
        roles=tuple(Role),
        form=form or FormState(),
    )


@router.get("/account/members")
def members(request: Request, principal: OrganizationAdminPage, session: SessionDep) -> Response:
    return _page(request, session, principal)


@router.post("/account/members")
def add_member(
    request: Request, principal: OrganizationAdminPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Add a member with a role and an initial password."""
    state = FormState.from_form(form)
    try:
        organization = iam_service.get_organization_or_raise(
            session, public_id=principal.organization_public_id
        )
        iam_service.create_user(
            session,
            organization=organization,
            username=text(form, "username"),
            display_name=text(form, "display_name"),
            password=text(form, "password"),
            role=text(form, "role"),
            email=text(form, "email") or None,
            actor=principal.actor,
        )
    except XydError as exc:
        session.rollback()
        return _page(request, session, principal, form=state.fail(exc), status=exc.status)
    return RedirectResponse("/account/members", status_code=303)


@router.post("/account/members/{user_id}/{transition}")
def change_member_state(
    user_id: str,
    transition: str,
    request: Request,
    principal: OrganizationAdminPage,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Disable or enable a member (never oneself)."""
    try:
        user = iam_service.get_member_or_raise(
            session, organization_id=principal.organization_id, public_id=user_id
        )
    except NotFound as exc:
        raise PageNotFound() from exc
    try:
        move = _TRANSITIONS.get(transition)
        if move is None:
            raise ValidationFailed(
                "must be one of: {choices}", field="transition", choices=", ".join(_TRANSITIONS)
            )
        iam_service.check_not_own_account(principal, user)
        move(session, user=user, actor=principal.actor)
    except XydError as exc:
        session.rollback()
        return _page(request, session, principal, form=FormState().fail(exc), status=exc.status)
    return RedirectResponse("/account/members", status_code=303)
