"""Who is looking at a portal page, the session cookie, and CSRF on every form."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from xinyidai.core.api import (
    DATABASE_DOWN,
    DATABASE_ERRORS,
    DATABASE_RETRY_AFTER,
    REQUEST_ID_HEADER,
    SessionDep,
    database_down,
    log_unavailable,
    log_unexpected,
    unexpected_error,
)
from xinyidai.core.db import database_unavailable
from xinyidai.core.settings import get_settings
from xinyidai.iam import security
from xinyidai.iam.auth import CSRF_FIELD, SESSION_COOKIE, portal_principal
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service import PORTAL_SESSION_TTL
from xinyidai.web.forms import N_

log = logging.getLogger(__name__)

ANON_CSRF_COOKIE = "xyd_csrf"
LANG_COOKIE = "xyd_lang"


class LoginRequired(Exception):
    """The page needs a signed-in user; the portal answers with the sign-in page."""


class PortalForbidden(Exception):
    """The signed-in user may not see this page."""

    def __init__(self, message: str = N_("you may not open this page"), **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class PageNotFound(Exception):
    """What the page shows does not exist (an unknown organization, user or key)."""


class CsrfRejected(Exception):
    """A form came without the CSRF token of this session."""


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the ``Secure`` flag: ``settings.web.cookie_secure`` when set
    (``XYD_COOKIE_SECURE``), else always in production (TLS may end at a proxy), else when
    the request came over HTTPS."""
    settings = get_settings()
    if settings.web.cookie_secure is not None:
        return settings.web.cookie_secure
    return settings.env == "production" or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(PORTAL_SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=cookie_secure(request), path="/"
    )


def set_lang_cookie(response: Response, request: Request, locale: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=365 * 24 * 3600,
        httponly=False,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def optional_portal_user(request: Request, session: SessionDep) -> Principal | None:
    """The signed-in portal user, or None."""
    principal = portal_principal(request, session)
    request.state.principal = principal
    return principal


OptionalPortalUser = Annotated[Principal | None, Depends(optional_portal_user)]


def portal_user(principal: OptionalPortalUser) -> Principal:
    """The signed-in portal user; the sign-in page otherwise."""
    if principal is None:
        raise LoginRequired()
    return principal


PortalUser = Annotated[Principal, Depends(portal_user)]


def portal_roles(
    *kinds: str, admin: bool = False, write: bool = False
) -> Callable[[Principal], Principal]:
    """A page dependency admitting active members of these organization kinds."""

    def dependency(principal: PortalUser) -> Principal:
        if principal.organization_kind not in kinds:
            raise PortalForbidden()
        if principal.organization_state != OrgState.ACTIVE:
            raise PortalForbidden(
                "your organization's access is {state}", state=principal.organization_state
            )
        if admin and not principal.is_admin:
            raise PortalForbidden("only an administrator may do this")
        if write and not principal.can_write:
            raise PortalForbidden("read-only members cannot change anything")
        return principal

    return dependency


OperatorPage = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, write=True))]
OperatorViewer = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR))]


def csrf_token_for(request: Request) -> str:
    """The token a form on this page must send back: the session's, or an anonymous one."""
    token = getattr(request.state, "csrf_token", None)
    if getattr(request.state, "principal", None) is not None and token:
        return str(token)
    anonymous = request.cookies.get(ANON_CSRF_COOKIE) or getattr(
        request.state, "new_anon_csrf", None
    )
    if not anonymous:
        anonymous = security.new_token()
        request.state.new_anon_csrf = anonymous
    return str(anonymous)


def attach_anonymous_csrf(response: Response, request: Request) -> None:
    """Send the anonymous CSRF cookie when this request minted one."""
    token = getattr(request.state, "new_anon_csrf", None)
    if token:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
            path="/",
        )


async def checked_form(request: Request, principal: OptionalPortalUser) -> FormData:
    """The submitted form, once its ``csrf_token`` matches this session (or visitor)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if principal is not None:
        expected = getattr(request.state, "csrf_token", None)
    else:
        expected = request.cookies.get(ANON_CSRF_COOKIE)
    if not security.same(sent if isinstance(sent, str) else None, expected):
        raise CsrfRejected()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def safe_next(value: str | None, default: str = "/dashboard") -> str:
    """A local path to go back to; anything else (other hosts) becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


_BARE_ERROR_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>出错了</title>'
    "<h1>出错了</h1><p>系统发生意外错误。报告问题时请提供请求编号："
    "<code>{request_id}</code></p></html>"
)


_BARE_OUTAGE_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>暂时无法访问</title>'
    "<h1>暂时无法访问</h1><p>平台暂时无法连接数据库，请 {seconds} 秒后重试。请求编号："
    "<code>{request_id}</code></p></html>"
)


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers


def install_portal_error_handlers(app: FastAPI) -> None:
    """Sign-in redirects, forbidden pages, CSRF refusals and unexpected errors for portal
    pages (the last replaces the API's handler, which it calls for everything else)."""
    from xinyidai.web.templating import render

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PortalForbidden)
    async def _forbidden(request: Request, exc: PortalForbidden) -> Response:
        return render(
            request,
            "error.html",
            status=403,
            title=N_("Not allowed"),
            message=exc.message,
            params=exc.params,
        )

    @app.exception_handler(PageNotFound)
    async def _missing(request: Request, exc: PageNotFound) -> Response:
        return render(
            request,
            "error.html",
            status=404,
            title=N_("Not found"),
            message=N_("this page does not exist"),
            params={},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A page (not the API) asked for by a browser gets the portal's error page with the
        # request id to quote; anything else the API's one error shape.
        if request.url.path.startswith("/api/") or not _wants_page(request):
            return await unexpected_error(request, exc)
        rid = log_unexpected(request, exc)
        try:
            response: Response = render(
                request,
                "error.html",
                status=500,
                title=N_("Something went wrong"),
                message=N_(
                    "an unexpected error occurred; try again later, or report it with the "
                    "request ID below"
                ),
                params={},
                request_id=rid,
            )
        except Exception:  # the layout itself failed: a bare page still gives the id
            log.exception("the error page could not be drawn (request_id=%s)", rid)
            response = HTMLResponse(_BARE_ERROR_PAGE.format(request_id=rid), status_code=500)
        response.headers[REQUEST_ID_HEADER] = rid
        return response

    async def _database_down(request: Request, exc: Exception) -> Response:
        # A page asked for by a browser while the database cannot be reached: the portal's
        # page saying so, 503 with Retry-After; the API and programs get the error shape.
        if request.url.path.startswith("/api/") or not _wants_page(request):
            return await database_down(request, exc)
        if not database_unavailable(exc):
            raise exc  # a fault of ours: the error page above, with its request id
        rid = log_unavailable(request, exc)
        try:
            response: Response = render(
                request,
                "error.html",
                status=503,
                title=N_("Temporarily unavailable"),
                message=DATABASE_DOWN,
                params={"seconds": DATABASE_RETRY_AFTER},
                request_id=rid,
            )
        except Exception:  # the layout itself failed: a bare page still says it
            log.exception("the outage page could not be drawn (request_id=%s)", rid)
            response = HTMLResponse(
                _BARE_OUTAGE_PAGE.format(seconds=DATABASE_RETRY_AFTER, request_id=rid),
                status_code=503,
            )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        response.headers["Cache-Control"] = "no-store"
        return response  # inside the request-id middleware, which adds X-Request-ID

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_down)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        return render(
            request,
            "error.html",
            status=403,
            title=N_("The form has expired"),
            message="the form has expired or did not come from this site; reload and try again",
            params={},
        )
