"""The HTTP kit every domain's router shares: the session dependency, paging, errors,
request ids.

Only modules named ``api`` (and ``web``/``app``) import FastAPI; this is core's one.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_fastapi_instrumentator.routing import get_route_name as route_name
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyidai.core.bounds import Int
from xinyidai.core.db import commit, database_unavailable, new_session, settle_refusal
from xinyidai.core.errors import RefusedAtCommit, ValidationFailed, XydError
from xinyidai.core.i18n import (
    gettext,
    locale_from_accept_language,
    normalize_locale,
    validation_reason,
)
from xinyidai.core.pagination import DEFAULT_SIZE, MAX_SIZE, PageRequest

log = logging.getLogger(__name__)


def get_session() -> Iterator[Session]:
    """A session per request: committed when the endpoint returns, rolled back on error.

    The commit happens before the answer is sent (the dependency's ``scope="function"``):
    a client told that a write succeeded has it stored, and a read that delivered data has
    its access event stored, or the client gets an error instead. Authentication and the
    endpoint share this one session, so a request holds one pooled connection at a time.
    An endpoint that streams its answer reads through a session of its own
    (``core.db.streamed``), opened once this one is closed.
    """
    session = new_session()
    try:
        yield session
        commit(session)
    except RefusedAtCommit as refusal:  # also when the endpoint committed by itself
        settle_refusal(session, refusal)
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


PageParams = PageRequest  # what ``page_params`` gives a route: ``core.pagination.page_of`` takes it


def page_params(
    page: Annotated[Int, Query(ge=1, description="page number, from 1")] = 1,
    size: Annotated[Int, Query(ge=1, le=MAX_SIZE, description="items per page")] = DEFAULT_SIZE,
) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(page_params)]


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


# Errors are JSON whatever a route answers when it succeeds (a CSV file, a signed note): the
# content is named, or FastAPI would document the error under the route's own media type.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ErrorResponse,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
}

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is taken when it is a short token of safe characters (a UUID, a
# trace id, a load balancer's id); anything else is replaced by one of ours, so that no
# header, log line or error body carries what a caller made up beyond that.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def sane_request_id(value: str) -> bool:
    """Whether a caller's ``X-Request-ID`` is taken as it is."""
    return _SANE_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def install_request_ids(app: FastAPI) -> None:
    """Give every request an id (the caller's ``X-Request-ID`` when sane, else a new one),
    kept for the request's logs and errors and sent back in ``X-Request-ID``.

    Added last, the middleware is the outermost but Starlette's error middleware: an
    unexpected error's answer comes from outside it, so ``unexpected_error`` sets the
    header itself.
    """
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=sane_request_id,
        generator=new_request_id,
    )


def request_id() -> str:
    """The id of the request being answered."""
    return correlation_id.get() or new_request_id()


def request_locale(request: Request) -> str:
    """The caller's language: ``?lang=``, the ``xyd_lang`` cookie, then Accept-Language."""
    explicit = request.query_params.get("lang") or request.cookies.get("xyd_lang")
    if explicit:
        return normalize_locale(explicit)
    return locale_from_accept_language(request.headers.get("accept-language"))


def error_json(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """The one error shape, with the request's id."""
    body = {"code": code, "message": message, "field": field, "request_id": request_id()}
    return JSONResponse(status_code=status, content={"error": body})


def log_unexpected(request: Request, exc: Exception) -> str:
    """Log an error nobody handled, with its traceback and the request's id; the id."""
    rid = request_id()
    log.error(
        "unexpected error answering %s %s (request_id=%s)",
        request.method,
        request.url.path,
        rid,
        exc_info=exc,
    )
    return rid


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A 500 in the one error shape: the request id, never the exception's text."""
    rid = log_unexpected(request, exc)
    message = gettext(
        "an unexpected error occurred; quote request {request_id} when you report it",
        request_locale(request),
        request_id=rid,
    )
    response = error_json(500, "internal", message)
    response.headers[REQUEST_ID_HEADER] = rid
    return response


NUL = "\x00"
NUL_REFUSED = "must not contain the NUL character (U+0000)"


def _nul_at(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a decoded JSON document the first text holding NUL is (a key counts too)."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return (*path, key.replace(NUL, "\\0"))
            found = _nul_at(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, (*path, index))
            if found is not None:
                return found
    return None


def _refuse_nul(field: str | int | tuple[str | int, ...]) -> ValidationFailed:
    parts = field if isinstance(field, tuple) else (field,)
    name = ".".join(str(part).replace(NUL, "\\0") for part in parts)
    return ValidationFailed(NUL_REFUSED, field=name or None)


async def refuse_nul_text(request: Request) -> None:
    """Refuse text holding the NUL character anywhere a request carries it: path, query, a
    JSON body or a form's text fields (a 422 naming the field). No caller means one, and
    PostgreSQL's text cannot hold it: it would fail in the database as a fault of ours.

    Runs for every route (an application dependency), after FastAPI has read the body of a
    route that declares one, so nothing is read twice; a JSON body is decoded again only
    when its bytes hold the escape ``\\u0000``, the one way JSON spells NUL.
    """
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refuse_nul(name)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refuse_nul(name)
    content_type = request.headers.get("content-type", "").lower()
    if "json" in content_type:
        body = await request.body()
        if b"\\u0000" not in body:
            return
        try:
            document = json.loads(body)
        except ValueError:  # not JSON: the route's own parsing says so
            return
        found = _nul_at(document)
        if found is not None:
            raise _refuse_nul(found)
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, item in form.multi_items():
            if NUL in name or (isinstance(item, str) and NUL in item):
                raise _refuse_nul(name)


# Seconds a client is asked to wait when the database cannot be reached: a restart or a
# fail-over of the database takes that long or more, and a client that asks again at once
# only adds to the line that forms when it comes back.
DATABASE_RETRY_AFTER = 5
DATABASE_DOWN = "the platform cannot reach its database just now; try again in {seconds} seconds"


def log_unavailable(request: Request, exc: Exception) -> str:
    """Log an outage of the database met by a request (one line, the driver's reason); the
    request's id."""
    rid = request_id()
    log.warning(
        "database unavailable answering %s %s (request_id=%s): %s",
        request.method,
        request.url.path,
        rid,
        str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
    )
    return rid


async def database_down(request: Request, exc: Exception) -> Response:
    """A 503 in the one error shape with ``Retry-After`` while the database cannot be
    reached; any other database error is a fault of ours, answered as one (500)."""
    if not database_unavailable(exc):
        raise exc  # to the outermost handler: logged with its traceback, a 500
    log_unavailable(request, exc)
    message = gettext(DATABASE_DOWN, request_locale(request), seconds=DATABASE_RETRY_AFTER)
    response = error_json(503, "unavailable", message)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response  # inside the request-id middleware, which adds X-Request-ID


# What a database outage raises: the driver's errors (wrapped by SQLAlchemy) and the pool's
# time-out; ``database_down`` answers those that are an outage and passes the rest on.
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def install_error_handlers(app: FastAPI) -> None:
    """Turn every error into the one shape, in the caller's language."""

    @app.exception_handler(XydError)
    async def _xyd_error(request: Request, exc: XydError) -> JSONResponse:
        body = exc.to_dict(request_locale(request))
        body["error"]["request_id"] = request_id()
        return JSONResponse(status_code=exc.status, content=body, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = _field_of(first.get("loc", ()))
        locale = request_locale(request)
        reason = validation_reason(first, locale)
        message = gettext("{field}: {reason}", locale, field=field, reason=reason)
        return error_json(422, "invalid", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        message = gettext(str(exc.detail), request_locale(request))
        response = error_json(exc.status_code, code.get(exc.status_code, "http_error"), message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, database_down)

    # Anything else is a fault of ours. Starlette answers it from its outermost middleware
    # and then raises it again for the server to see (and a test client to re-raise).
    app.add_exception_handler(Exception, unexpected_error)


class JobOut(BaseModel):
    """A long job as its caller sees it: state, progress, result or error."""

    id: str
    kind: str
    state: str
    done: int
    total: int | None
    percent: float | None
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    attempts: int


def job_out(job: Any) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        done=job.done,
        total=job.total,
        percent=job.percent,
        message=job.message,
        result=job.result,
        error=job.error,
        attempts=job.attempts,
    )


# --------------------------------------------------------------------------- access log

access_log = logging.getLogger("xinyidai.access")


class AccessLog:
    """One log line per request answered: method, route template, status, latency, and who
    called as public ids (``request.state.principal``, set by the authorization kit).

    Plain ASGI, inside the request-id middleware so the line carries the request's id.
    The path is never logged, only the route's template: paths hold credit codes.
    """

    def __init__(self, app: Any, *, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.skip):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access_log.info("request", extra=access_fields(scope, status, started))


def access_fields(scope: Any, status: int, started: float) -> dict[str, Any]:
    """What the access line says of a request: nothing personal, no path, no query."""
    principal = (scope.get("state") or {}).get("principal")
    return {
        "method": scope.get("method"),
        "route": route_name(Request(scope), should_include_root_path=False) or "unmatched",
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "user": getattr(principal, "user_public_id", None)
        or getattr(principal, "api_key_id", None),
        "organization": getattr(principal, "organization_public_id", None),
        "organization_kind": getattr(principal, "organization_kind", None),
    }
