"""Builds the FastAPI application: the JSON API, the portal and machine endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyidai import __version__
from xinyidai.audit.api import router as audit_router
from xinyidai.catalog.api import router as catalog_router
from xinyidai.consent.api import router as consent_router
from xinyidai.core import queue
from xinyidai.core.admission import AdmissionLimit
from xinyidai.core.api import (
    install_error_handlers,
    install_request_ids,
    refuse_nul_text,
    request_id,
    request_locale,
)
from xinyidai.core.db import database_status
from xinyidai.core.i18n import set_locale
from xinyidai.core.ratelimit import RateLimits
from xinyidai.core.settings import get_settings
from xinyidai.graph.api import router as graph_router
from xinyidai.iam.api import router as iam_router
from xinyidai.ingest.api import router as ingest_router
from xinyidai.jobs import load_all_tasks
from xinyidai.ledger.api import router as ledger_router
from xinyidai.market.api import router as market_router
from xinyidai.privacy.api import router as privacy_router
from xinyidai.profile.api import router as profile_router
from xinyidai.records.api import router as records_router
from xinyidai.registry.api import router as registry_router
from xinyidai.risk.api import router as risk_router
from xinyidai.scoring.api import router as scoring_router
from xinyidai.web import mount_portal, refuse_demo_accounts_in_production

API_PREFIX = "/api/v1"

log = logging.getLogger(__name__)


def api_router() -> APIRouter:
    """Every domain's router under ``/api/v1``."""
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(registry_router)
    router.include_router(catalog_router)
    router.include_router(ledger_router)
    router.include_router(iam_router)
    router.include_router(ingest_router)
    router.include_router(records_router)
    router.include_router(consent_router)
    router.include_router(audit_router)
    router.include_router(privacy_router)
    router.include_router(graph_router)
    router.include_router(scoring_router)
    router.include_router(market_router)
    router.include_router(risk_router)
    router.include_router(profile_router)
    return router


class RequestLocale:
    """Set the request's language (``?lang=``, the cookie, Accept-Language) for everything
    that runs for it. Plain ASGI: ``BaseHTTPMiddleware`` would run the app in a task of its
    own and cost every request a copy of its body stream."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_locale(request_locale(Request(scope)))
        await self.app(scope, receive, send)


# Answered even when every slot is taken: health checks, and files served from memory.
UNLIMITED_PATHS = ("/healthz", "/static/")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool that runs the (synchronous) endpoints to the admission limit:
    every admitted request finds a thread, and so does the commit at its end."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, get_settings().web.max_concurrency + 8)
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    settings.check_production()
    refuse_demo_accounts_in_production()
    load_all_tasks()  # the routes and services queue tasks by name
    app = FastAPI(
        lifespan=_lifespan,
        dependencies=[Depends(refuse_nul_text)],
        title="XYD 信易贷",
        version=__version__,
        summary="Credit-information sharing and SME financing platform",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.include_router(api_router())

    app.add_middleware(RequestLocale)
    app.add_middleware(
        AdmissionLimit,
        active=settings.web.max_concurrency,
        waiting=settings.web.max_waiting,
        wait_seconds=settings.web.wait_seconds,
        exempt=UNLIMITED_PATHS,
        request_id=request_id,
    )
    install_request_ids(app)  # after every other middleware: outside them all

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        """Liveness and database status; 503 when the database cannot be reached."""
        database = database_status()
        ok = database["status"] == "ok"
        body = {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "env": settings.env,
            "database": database,
            "queue": queue.backend_name(),
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    mount_portal(app)

    return app
