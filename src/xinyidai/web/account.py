"""Portal pages of the visitor and of one's own account: home, sign-in, registration,
password, language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.consent import service as consent_service
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import TooManyRequests, XydError
from xinyidai.core.i18n import normalize_locale
from xinyidai.iam import service as iam_service
from xinyidai.iam.auth import SESSION_COOKIE, client_ip
from xinyidai.iam.models import InstitutionType, TokenKind, User
from xinyidai.web.auth import (
    CheckedForm,
    OptionalPortalUser,
    PortalUser,
    clear_session_cookie,
    safe_next,
    set_lang_cookie,
    set_session_cookie,
)
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request, session: SessionDep, user: User, target: str) -> Response:
    token, _ = iam_service.start_portal_session(session, user=user, client_ip=client_ip(request))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.get("/")
def home(request: Request, principal: OptionalPortalUser) -> Response:
    """The portal's front page; signed-in users go to their dashboard."""
    if principal is not None:
        return RedirectResponse("/dashboard", status_code=303)
    return render(request, "home.html")


@router.get("/lang/{code}")
def switch_language(
    code: str, request: Request, next: Annotated[str | None, Query()] = None
) -> Response:
    """Remember the chosen language (cookie ``xyd_lang``) and go back."""
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    set_lang_cookie(response, request, normalize_locale(code))
    return response


@router.get("/login")
def login_page(
    request: Request, principal: OptionalPortalUser, next: Annotated[str | None, Query()] = None
) -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", form=FormState(), next=safe_next(next))


@router.post("/login")
def login(request: Request, form: CheckedForm, session: SessionDep) -> Response:
    """Check the password (throttled) and start a portal session."""
    state = FormState.from_form(form)
    target = safe_next(text(form, "next"))
    try:
        user = iam_service.authenticate(
            session,
            username=text(form, "username"),
            password=text(form, "password"),
            client_ip=client_ip(request),
        )
    except XydError as exc:
        session.commit()  # keep the recorded failure for throttling
        status = exc.status if exc.status in (401, 403, 429) else 422
        response = render(request, "login.html", status=status, form=state.fail(exc), next=target)
        if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _signed_in(request, session, user, target)


@router.post("/logout")
def logout(request: Request, form: CheckedForm, session: SessionDep) -> Response:
    """End the session on the server and forget the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        iam_service.end_session(session, token=token, kind=TokenKind.PORTAL)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("/register")
def register_choice(request: Request, principal: OptionalPortalUser) -> Response:
    return render(request, "register.html")


def _register_enterprise_page(
    request: Request, session: SessionDep, *, form: FormState, status: int = 200
) -> Response:
    return render(
        request,
        "register_enterprise.html",
        status=status,
        form=form,
        commitment=consent_service.latest_text(session),
    )


@router.get("/register/enterprise")
def register_enterprise_page(
    request: Request, principal: OptionalPortalUser, session: SessionDep
) -> Response:
    return _register_enterprise_page(request, session, form=FormState())


@router.post("/register/enterprise")
def register_enterprise(request: Request, form: CheckedForm, session: SessionDep) -> Response:
    """An enterprise claims its credit code and is signed in, pending the operator's approval
    (it signs the credit commitment in the enterprise's name only once approved)."""
    state = FormState.from_form(form)
    if text(form, "password") != text(form, "password_confirm"):
        state.errors["password_confirm"] = (N_("the two passwords differ"), {})
        return _register_enterprise_page(request, session, form=state, status=422)
    try:
        _, user = iam_service.register_enterprise(
            session,
            credit_code=text(form, "credit_code"),
            enterprise_name=text(form, "enterprise_name") or None,
            contact_name=text(form, "contact_name"),
            contact_phone=text(form, "contact_phone") or None,
            contact_email=text(form, "contact_email") or None,
            username=text(form, "username"),
            password=text(form, "password"),
        )
    except XydError as exc:
        session.rollback()
        return _register_enterprise_page(request, session, form=state.fail(exc), status=exc.status)
    return _signed_in(request, session, user, "/dashboard")


@router.get("/register/institution")
def register_institution_page(request: Request, principal: OptionalPortalUser) -> Response:
    return render(
        request, "register_institution.html", form=FormState(), types=tuple(InstitutionType)
    )


@router.post("/register/institution")
def register_institution(request: Request, form: CheckedForm, session: SessionDep) -> Response:
    """A financial institution applies; it is signed in and waits for the operator."""
    state = FormState.from_form(form)
    if text(form, "password") != text(form, "password_confirm"):
        state.errors["password_confirm"] = (N_("the two passwords differ"), {})
        return render(
            request,
            "register_institution.html",
            status=422,
            form=state,
            types=tuple(InstitutionType),
        )
    try:
        _, user = iam_service.apply_institution(
            session,
            name=text(form, "name"),
            institution_type=text(form, "institution_type"),
            licence_number=text(form, "licence_number"),
            credit_code=text(form, "credit_code") or None,
            contact_name=text(form, "contact_name"),
            contact_phone=text(form, "contact_phone") or None,
            contact_email=text(form, "contact_email") or None,
            username=text(form, "username"),
            password=text(form, "password"),
        )
    except XydError as exc:
        session.rollback()
        return render(
            request,
            "register_institution.html",
            status=exc.status,
            form=state.fail(exc),
            types=tuple(InstitutionType),
        )
    return _signed_in(request, session, user, "/dashboard")


@router.get("/account/password")
def password_page(request: Request, principal: PortalUser) -> Response:
    return render(request, "password.html", form=FormState(), done=False)


@router.post("/account/password")
def change_password(
    request: Request, principal: PortalUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Change one's password; other sessions end, this one stays."""
    state = FormState.from_form(form)
    if text(form, "new_password") != text(form, "new_password_confirm"):
        state.errors["new_password_confirm"] = (N_("the two passwords differ"), {})
        return render(request, "password.html", status=422, form=state, done=False)
    try:
        user = iam_service.get_user_or_raise(session, username=principal.username or "")
        iam_service.change_password(
            session,
            user=user,
            current_password=text(form, "current_password"),
            new_password=text(form, "new_password"),
            keep_session_id=principal.session_id,
        )
    except XydError as exc:
        return render(request, "password.html", status=exc.status, form=state.fail(exc), done=False)
    return render(request, "password.html", form=FormState(), done=True)
