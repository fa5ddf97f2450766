"""Builds the FastAPI application: the JSON API, the portal and machine endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyidai import __version__
from xinyidai.audit.api import router as audit_router
from xinyidai.catalog.api import router as catalog_router
from xinyidai.consent.api import router as consent_router
from xinyidai.core import logs, metrics, queue
from xinyidai.core.admission import AdmissionLimit
from xinyidai.core.api import (
    AccessLog,
    install_error_handlers,
    install_request_ids,
    refuse_nul_text,
    request_id,
    request_locale,
)
from xinyidai.core.db import database_status, new_session
from xinyidai.core.errors import NotFound, Unauthorized
from xinyidai.core.i18n import set_locale
from xinyidai.core.ratelimit import ApiRateLimit, RateLimits
from xinyidai.core.settings import Settings, get_settings
from xinyidai.federation.api import router as federation_router
from xinyidai.graph.api import router as graph_router
from xinyidai.iam.api import router as iam_router
from xinyidai.iam.security import same
from xinyidai.ingest.api import router as ingest_router
from xinyidai.jobs import load_all_tasks
from xinyidai.joint.api import router as joint_router
from xinyidai.ledger.api import router as ledger_router
from xinyidai.market.api import router as market_router
from xinyidai.observability import readiness
from xinyidai.privacy.api import router as privacy_router
from xinyidai.profile.api import router as profile_router
from xinyidai.records.api import router as records_router
from xinyidai.registry.api import router as registry_router
from xinyidai.rights.api import router as rights_router
from xinyidai.risk.api import router as risk_router
from xinyidai.scoring.api import router as scoring_router
from xinyidai.sharing.api import router as sharing_router
from xinyidai.stats.api import router as stats_router
from xinyidai.supervision.api import router as supervision_router
from xinyidai.tracing import telemetry_config
from xinyidai.web import mount_portal, refuse_demo_accounts_in_production

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

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
    router.include_router(rights_router)
    router.include_router(sharing_router)
    router.include_router(federation_router)
    router.include_router(stats_router)
    router.include_router(joint_router)
    router.include_router(supervision_router)
    router.include_router(profile_router)
    return router


def operation_id(route: APIRoute) -> str:
    """A route's operation id as generated clients name their methods: the endpoint's name
    in lower camel case (``list_products`` → ``listProducts``)."""
    head, *rest = route.name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


OPENAPI_TAGS = [
    {"name": "registry", "description": "Credit subjects: the public directory, credit codes"},
    {"name": "catalog", "description": "The data catalogue: categories, fields, their sources"},
    {"name": "ledger", "description": "The transparency log: checkpoints, proofs, leaves"},
    {"name": "iam", "description": "Accounts, organizations, tokens, API keys"},
    {"name": "ingest", "description": "Departments' data: uploads, pushes, batches, rejections"},
    {"name": "records", "description": "Credit records, reports and conflicts"},
    {"name": "consent", "description": "Commitments and authorization letters"},
    {"name": "audit", "description": "Access events and their review"},
    {"name": "privacy", "description": "Grading, desensitization rules, the public directory"},
    {"name": "verify", "description": "Yes-or-no verification of facts"},
    {"name": "graph", "description": "Association analysis: links, circles, neighbourhoods"},
    {"name": "rating", "description": "The platform rating and its indicators"},
    {"name": "market", "description": "Products, needs, applications, loans, webhooks"},
    {"name": "risk", "description": "Post-loan monitoring, early warning, fraud, blacklist"},
    {"name": "rights", "description": "Subject rights: objections, the rights inbox"},
    {"name": "sharing", "description": "Risk sharing, claims and compensation pools"},
    {"name": "federation", "description": "The network of platforms: nodes, signed exchanges"},
    {
        "name": "supervision",
        "description": "Supervision of institutions: assessments, agreement, findings",
    },
    {"name": "stats", "description": "Figures per day and dimension, targets, exports"},
    {"name": "profile", "description": "Panoramic profiles of enterprises"},
    {"name": "joint", "description": "Joint modelling: threshold answers, never the values"},
    {"name": "operations", "description": "Liveness, readiness and metrics"},
]


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


# Answered even when every slot is taken: health checks, metrics, files served from memory.
UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")

# Not counted in the request metrics nor written to the access log: probes and scrapes.
UNOBSERVED_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool that runs the (synchronous) endpoints to the admission limit:
    every admitted request finds a thread, and so does the commit at its end."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, get_settings().web.max_concurrency + 8)
    yield


def create_app(*, span_exporter: SpanExporter | None = None) -> FastAPI:
    """The node's web application; ``span_exporter`` receives its traces instead of OTLP
    when tracing is on (``XYD_TRACING_ENABLED``)."""
    settings = get_settings()
    if not logs.configured():  # a server's worker process starts here, not in ``xyd serve``
        logs.configure()
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
        docs_url=None,  # served below from local assets: an intranet reaches no CDN
        redoc_url=None,
        openapi_tags=OPENAPI_TAGS,
        generate_unique_id_function=operation_id,
        telemetry=telemetry_config(  # type: ignore[arg-type]
            settings, exporter=span_exporter, skip=UNOBSERVED_PATHS
        ),
    )
    install_error_handlers(app)
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.include_router(api_router())

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=1)
    app.add_middleware(RequestLocale)
    app.add_middleware(
        AdmissionLimit,
        active=settings.web.max_concurrency,
        waiting=settings.web.max_waiting,
        wait_seconds=settings.web.wait_seconds,
        exempt=UNLIMITED_PATHS,
        request_id=request_id,
    )
    # Outside the admission limit: a caller over its limit never waits in line.
    app.add_middleware(
        ApiRateLimit,
        storage_url=settings.redis_url or "memory://",
        node=settings.node_name,
        per_key=settings.web.api_rate_limit,
        per_address=settings.web.api_rate_limit_anonymous,
        request_id=request_id,
    )
    # Outside the admission limit: a request refused as busy is counted and logged too.
    # Each app its own registry of request metrics (tests build many apps in one process).
    app.state.metrics = CollectorRegistry()
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=[f"^{path}" for path in UNOBSERVED_PATHS],
        registry=app.state.metrics,
    ).instrument(app)
    app.add_middleware(AccessLog, skip=UNOBSERVED_PATHS)
    install_request_ids(app)  # after every other middleware: outside them all

    add_operations_routes(app, settings)
    add_documentation_routes(app)
    mount_portal(app)

    return app


def add_operations_routes(app: FastAPI, settings: Settings) -> None:
    """``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus)."""

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

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            200: {"description": "ready: every check answered ok"},
            503: {
                "description": "not ready: the checks that failed say why",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        },
    )
    def readyz() -> JSONResponse:
        """Readiness: the database, the queue, a queue worker seen within three minutes and
        the ledger's signing key; 503 naming what is wrong when any of them is not ready."""
        ready, checks = readiness()
        body = {"status": "ready" if ready else "not_ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def read_metrics(request: Request) -> Response:
        """Prometheus metrics, for the bearer of ``XYD_WEB_METRICS_TOKEN`` (404 when unset)."""
        token = settings.web.metrics_token
        if token is None:
            raise NotFound("not found")
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not same(value.strip(), token.get_secret_value()):
            raise Unauthorized("the metrics token is missing or wrong", error_code="invalid_token")
        body, content_type = metrics.exposition(new_session, [request.app.state.metrics])
        return Response(body, media_type=content_type)


def add_documentation_routes(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` from the platform's own files: an intranet reaches no CDN."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """The API's interactive documentation, from the platform's own files."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="XYD 信易贷 API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        """The API's reference, from the platform's own files (no web fonts)."""
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="XYD 信易贷 API",
            redoc_js_url="/static/vendor/redoc.standalone.js",
            redoc_favicon_url="/static/favicon.svg",
            with_google_fonts=False,
        )
