"""The portal: server-rendered pages per role, sharing the services with the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from xinyidai.core.db import session_scope
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service

STATIC_DIR = Path(__file__).resolve().parent / "static"


def mount_portal(app: FastAPI) -> None:
    """Add the portal's pages, its error pages and ``/static`` to ``app``."""
    from xinyidai.web import (
        account,
        admin,
        audit_pages,
        auth,
        catalog_pages,
        consent_pages,
        dashboard,
        federation_pages,
        graph_pages,
        joint_pages,
        keys,
        ledger_pages,
        market_pages,
        members,
        profile_pages,
        rating_pages,
        rights_pages,
        risk_alert_pages,
        risk_blacklist_pages,
        risk_warning_pages,
        sharing_pages,
        stats_pages,
        stats_public_pages,
        supervision_pages,
    )
    from xinyidai.web import data as data_pages

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (account, dashboard, keys, members, admin):
        app.include_router(module.router)
    app.include_router(data_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(consent_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(graph_pages.router)
    app.include_router(rating_pages.router)
    app.include_router(market_pages.router)
    app.include_router(profile_pages.router)
    app.include_router(risk_blacklist_pages.router)
    app.include_router(risk_alert_pages.router)
    app.include_router(risk_warning_pages.router)
    app.include_router(rights_pages.router)
    app.include_router(sharing_pages.router)
    app.include_router(federation_pages.router)
    app.include_router(supervision_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(stats_public_pages.router)
    app.include_router(joint_pages.router)
    auth.install_portal_error_handlers(app)


def refuse_demo_accounts_in_production() -> None:
    """With ``XYD_ENV=production``, refuse to start while any demo account exists."""
    if get_settings().env != "production":
        return
    with session_scope() as session:
        if iam_service.demo_accounts_exist(session):
            raise RuntimeError(
                "demo accounts exist: remove them (or their demo passwords) before "
                "running with XYD_ENV=production"
            )
