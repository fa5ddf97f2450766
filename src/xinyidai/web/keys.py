"""API-key management for an organization's administrators: create (shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.core.api import SessionDep
from xinyidai.core.errors import XydError
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.web.auth import CheckedForm, PortalForbidden, portal_roles
from xinyidai.web.forms import FormState, text
from xinyidai.web.templating import render

router = APIRouter(include_in_schema=False)


def key_admin(
    principal: Annotated[Principal, Depends(portal_roles(*OrgKind, admin=True))],
) -> Principal:
    """An administrator of an organization that may hold API keys."""
    if not iam_service.KIND_SCOPES.get(principal.organization_kind):
        raise PortalForbidden()
    return principal


KeyAdmin = Annotated[Principal, Depends(key_admin)]


def _page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: FormState | None = None,
    created_key: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "api_keys.html",
        status=status,
        keys=session.scalars(
            iam_service.api_keys_statement(organization_id=principal.organization_id)
        ).all(),
        scopes=sorted(iam_service.KIND_SCOPES[principal.organization_kind]),
        form=form or FormState(),
        created_key=created_key,
    )


@router.get("/account/api-keys")
def api_keys_page(request: Request, principal: KeyAdmin, session: SessionDep) -> Response:
    return _page(request, session, principal)


@router.post("/account/api-keys")
def create_api_key(
    request: Request, principal: KeyAdmin, form: CheckedForm, session: SessionDep
) -> Response:
    """Create a key and show it this once."""
    state = FormState.from_form(form)
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    state.values["scopes"] = ",".join(scopes)
    try:
        organization = iam_service.get_organization_or_raise(
            session, public_id=principal.organization_public_id
        )
        _, key = iam_service.create_api_key(
            session,
            organization=organization,
            name=text(form, "name"),
            scopes=scopes,
            actor=principal.actor,
        )
    except XydError as exc:
        session.rollback()
        return _page(request, session, principal, form=state.fail(exc), status=exc.status)
    return _page(request, session, principal, created_key=key)


@router.post("/account/api-keys/{key_id}/revoke")
def revoke_api_key(
    key_id: str, request: Request, principal: KeyAdmin, form: CheckedForm, session: SessionDep
) -> Response:
    """Revoke a key at once."""
    try:
        iam_service.revoke_api_key(
            session,
            organization_id=principal.organization_id,
            public_id=key_id,
            actor=principal.actor,
        )
    except XydError as exc:
        session.rollback()
        return _page(request, session, principal, form=FormState().fail(exc), status=exc.status)
    return RedirectResponse("/account/api-keys", status_code=303)
