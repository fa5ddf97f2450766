"""The Jinja2 environment: translations per request, local times, yuan, each role's menu."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.numbers import format_currency, format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from xinyidai.consent.models import LetterState
from xinyidai.core import clock, transitions
from xinyidai.core.api import request_locale
from xinyidai.core.i18n import current_locale, gettext, set_locale
from xinyidai.core.jobs import JobState
from xinyidai.iam.models import OrgKind, OrgState, UserState
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service import KIND_SCOPES
from xinyidai.market.models import (
    ApplicationState,
    DeliveryState,
    LoanState,
    NeedState,
    ProductState,
)
from xinyidai.stats.models import CaseState, Unit
from xinyidai.web.auth import attach_anonymous_csrf, csrf_token_for
from xinyidai.web.forms import N_

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _translate(message: str, **params: object) -> str:
    """Templates' ``_()``: the message in the locale of the request being rendered."""
    return gettext(message, current_locale(), **params)


def _ntranslate(singular: str, plural: str, n: int, **params: object) -> str:
    return _translate(singular if n == 1 else plural, n=n, **params)


def _babel_locale() -> str:
    return "zh_CN" if current_locale() == "zh_CN" else "en"


def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as Asia/Shanghai wall-clock time."""
    if moment is None:
        return "—"
    return clock.to_local(moment).strftime(pattern)


def yuan(amount: Decimal | int | None) -> str:
    """Money in yuan with thousands separators, in the request's locale (¥1,234,567.00)."""
    if amount is None:
        return "—"
    return format_currency(Decimal(amount), "CNY", locale=_babel_locale())


def number(value: int | Decimal | None) -> str:
    """A count with thousands separators."""
    if value is None:
        return "—"
    return format_decimal(value, locale=_babel_locale())


def percent(share: float | None) -> str:
    """A share (0.9731) as a percentage with one decimal (97.3%)."""
    if share is None:
        return "—"
    return format_percent(share, format="#,##0.0%", locale=_babel_locale())


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=_translate, ngettext=_ntranslate, newstyle=False
)
environment.filters["local_time"] = local_time
environment.filters["yuan"] = yuan
environment.filters["number"] = number
environment.filters["percent"] = percent
environment.filters["translate_all"] = lambda messages: [_translate(m) for m in messages]
# What a page offers is what the subject's machine allows now: ``can(letter, "revoke")``;
# the states and kinds a page shows or compares are the domains' own enums.
environment.globals["can"] = transitions.can
environment.globals.update(
    {
        enum.__name__: enum
        for enum in (
            OrgKind,
            OrgState,
            UserState,
            LetterState,
            ProductState,
            NeedState,
            ApplicationState,
            LoanState,
            DeliveryState,
            JobState,
            CaseState,
            Unit,
        )
    }
)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str


def navigation(principal: Principal | None) -> list[NavItem]:
    """The menu of the principal's role (organization kind and member role)."""
    if principal is None:
        return [
            NavItem("/market", N_("Product supermarket")),
            NavItem("/login", N_("Sign in")),
            NavItem("/register", N_("Register")),
        ]
    items = [NavItem("/dashboard", N_("Dashboard"))]
    active = principal.organization_state == OrgState.ACTIVE
    if principal.organization_kind == OrgKind.OPERATOR and active:
        items += [
            NavItem("/admin/organizations", N_("Organizations")),
            NavItem("/admin/applications", N_("Applications")),
            NavItem("/admin/users", N_("Users")),
        ]
        items += [
            NavItem("/data/batches", N_("Upload batches")),
            NavItem("/data/quality", N_("Data quality")),
            NavItem("/ratings", N_("Credit ratings")),
            NavItem("/profile", N_("Enterprise profiles")),
        ]
    if principal.organization_kind == OrgKind.PROVIDER and active:
        if principal.can_write:
            items.append(NavItem("/data/upload", N_("Data upload")))
        items.append(NavItem("/data/batches", N_("Upload batches")))
    if active and principal.organization_kind == OrgKind.OPERATOR:
        items += [NavItem("/catalog", N_("Credit catalogue")), NavItem("/ledger", N_("Ledger"))]
        items.append(NavItem("/graph/circles", N_("Guarantee circles")))
    if active and principal.organization_kind == OrgKind.ENTERPRISE and principal.credit_code:
        items.append(NavItem(f"/profile/{principal.credit_code}", N_("Credit profile")))
        items.append(NavItem(f"/graph/enterprises/{principal.credit_code}", N_("Associations")))
    elif active and principal.organization_kind == OrgKind.AUDITOR:
        items += [NavItem("/ledger", N_("Ledger")), NavItem("/catalog", N_("Credit catalogue"))]
    elif active and principal.organization_kind in (OrgKind.PROVIDER, OrgKind.INSTITUTION):
        items.append(NavItem("/catalog", N_("Credit catalogue")))
    if active and principal.organization_kind == OrgKind.ENTERPRISE:
        items += [
            NavItem("/consent/letters", N_("Authorization letters")),
            NavItem("/consent/access-log", N_("Who looked at our data")),
            NavItem("/consent/commitment", N_("Credit commitment")),
        ]
    if active and principal.organization_kind in (OrgKind.INSTITUTION, OrgKind.PLATFORM):
        items.append(NavItem("/profile", N_("Enterprise profiles")))
        items.append(NavItem("/consent/letters", N_("Authorization letters")))
    if active and principal.organization_kind == OrgKind.AUDITOR:
        items += [
            NavItem("/audit/events", N_("Access log")),
            NavItem("/audit/flags", N_("Anomaly flags")),
        ]
    if active and principal.organization_kind in (OrgKind.OPERATOR, OrgKind.AUDITOR):
        items.append(NavItem("/privacy", N_("Grading and desensitization")))
        items.append(NavItem("/stats", N_("Statistics")))
    if active and principal.organization_kind == OrgKind.ENTERPRISE:
        items += [
            NavItem("/market", N_("Product supermarket")),
            NavItem("/market/needs", N_("Financing needs")),
            NavItem("/market/applications", N_("Financing applications")),
            NavItem("/market/loans", N_("Loans")),
        ]
    if active and principal.organization_kind == OrgKind.INSTITUTION:
        items += [
            NavItem("/market/my-products", N_("Our products")),
            NavItem("/market/incoming", N_("Matching needs")),
            NavItem("/market/applications", N_("Financing applications")),
            NavItem("/market/loans", N_("Loan book")),
            NavItem("/risk/alerts", N_("Post-loan alerts")),
            NavItem("/market/webhooks", N_("Webhooks")),
        ]
    if active and principal.organization_kind == OrgKind.OPERATOR:
        items.append(NavItem("/market/overview", N_("Financing market")))
        items.append(NavItem("/federation", N_("Network of platforms")))
    if active and principal.organization_kind in (OrgKind.OPERATOR, OrgKind.INSTITUTION):
        items.append(NavItem("/risk/fraud", N_("Anti-fraud")))
    if active and principal.organization_kind in (
        OrgKind.OPERATOR,
        OrgKind.INSTITUTION,
        OrgKind.ENTERPRISE,
    ):
        items.append(NavItem("/risk/blacklist", N_("Financial blacklist")))
    if active and principal.organization_kind in (OrgKind.INSTITUTION, OrgKind.OPERATOR):
        items.append(NavItem("/risk/warnings", N_("Early warning")))
    if active and principal.organization_kind in RIGHTS_MENU:
        items.append(NavItem("/rights", RIGHTS_MENU[principal.organization_kind]))
    if active and principal.organization_kind in (
        OrgKind.OPERATOR,
        OrgKind.INSTITUTION,
        OrgKind.ENTERPRISE,
    ):
        items.append(NavItem("/sharing", N_("Risk sharing")))
    if active and principal.organization_kind in (OrgKind.INSTITUTION, OrgKind.OPERATOR):
        items.append(NavItem("/joint", N_("Joint modelling")))
    if active and principal.organization_kind == OrgKind.OPERATOR:
        items.append(NavItem("/supervision", N_("Supervision of institutions")))
    if principal.organization_kind == OrgKind.INSTITUTION and (
        principal.organization_state != OrgState.REJECTED
    ):
        # an applicant signs the agreement and is assessed before it is approved
        items.append(NavItem("/supervision", N_("Supervision")))
    if principal.is_admin and active and principal.organization_kind != OrgKind.OPERATOR:
        items.append(NavItem("/account/members", N_("Members")))
    if principal.is_admin and active and KIND_SCOPES.get(principal.organization_kind):
        items.append(NavItem("/account/api-keys", N_("API keys")))
    items.append(NavItem("/account/password", N_("Password")))
    return items


# The subject-rights page, as each kind of organization calls it.
RIGHTS_MENU = {
    OrgKind.ENTERPRISE: N_("My credit rights"),
    OrgKind.PROVIDER: N_("Objection inbox"),
    OrgKind.OPERATOR: N_("Objections and repairs"),
}

KIND_LABELS = {
    OrgKind.OPERATOR: N_("Credit center (operator)"),
    OrgKind.PROVIDER: N_("Data provider (department)"),
    OrgKind.ENTERPRISE: N_("Enterprise"),
    OrgKind.INSTITUTION: N_("Financial institution"),
    OrgKind.PLATFORM: N_("Platform or node"),
    OrgKind.AUDITOR: N_("Auditor"),
}
STATE_LABELS = {
    "pending": N_("Pending"),
    "active": N_("Active"),
    "rejected": N_("Rejected"),
    "suspended": N_("Suspended"),
    "locked": N_("Locked"),
    "disabled": N_("Disabled"),
}
ROLE_LABELS = {"admin": N_("Administrator"), "staff": N_("Staff"), "read_only": N_("Read-only")}
INSTITUTION_LABELS = {
    "bank": N_("Bank"),
    "insurer": N_("Insurer"),
    "guarantor": N_("Guarantor"),
    "microlender": N_("Microlender"),
    "pawnshop": N_("Pawnshop"),
    "leasing": N_("Leasing company"),
    "factoring": N_("Factoring company"),
}
TRANSITION_LABELS = {
    "create": N_("created"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "suspend": N_("suspended"),
    "reactivate": N_("reactivated"),
    "close": N_("closed: another claim to the code was approved"),
    "lock": N_("locked"),
    "unlock": N_("unlocked"),
    "disable": N_("disabled"),
    "enable": N_("enabled"),
}
REGISTRY_STATUS_LABELS = {
    "active": N_("In operation"),
    "pending_verification": N_("Pending verification"),
    "deregistered": N_("Deregistered"),
}
TRIGGER_LABELS = {
    "run": N_("full run"),
    "arrival": N_("a negative record arrived"),
    "request": N_("on request"),
}
environment.globals.update(
    TRIGGER_LABELS=TRIGGER_LABELS,
    REGISTRY_STATUS_LABELS=REGISTRY_STATUS_LABELS,
    TRANSITION_LABELS=TRANSITION_LABELS,
    KIND_LABELS=KIND_LABELS,
    STATE_LABELS=STATE_LABELS,
    ROLE_LABELS=ROLE_LABELS,
    INSTITUTION_LABELS=INSTITUTION_LABELS,
)


# Pages show personal data and one-time secrets: never cached, never framed, scripts only
# from this site (the chart's data is a JSON block, not a script).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the request's language with the layout's shared context."""
    locale = request_locale(request)
    set_locale(locale)
    principal: Principal | None = getattr(request.state, "principal", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = environment.get_template(template).render(
        request=request,
        user=principal,
        nav=navigation(principal),
        current_path=request.url.path,
        locale=locale,
        html_lang="zh-CN" if locale == "zh_CN" else "en",
        other_locale="en" if locale == "zh_CN" else "zh_CN",
        lang_next=quote(here),
        csrf_token=csrf_token_for(request),
        **context,
    )
    response = HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)
    attach_anonymous_csrf(response, request)
    return response
