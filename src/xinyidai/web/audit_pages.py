"""Audit pages: the auditor searches every access decision, exports them, reads the flags;
anyone signed in reads the desensitization rules and the grading of the catalogue."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from xinyidai.audit import flags as audit_flags
from xinyidai.audit import service as audit_service
from xinyidai.audit.models import OUTCOMES
from xinyidai.audit.schemas import EventFilter
from xinyidai.consent.schemas import PURPOSES
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.bounds import Int
from xinyidai.core.db import streamed
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import Page, PageRequest, page_of, page_of_list
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.privacy import service as privacy_service
from xinyidai.web.auth import portal_roles
from xinyidai.web.consent_pages import LABELS, category_names
from xinyidai.web.forms import N_, FormState
from xinyidai.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

AuditorPage = Annotated[Principal, Depends(portal_roles(OrgKind.AUDITOR))]
MemberPage = Annotated[Principal, Depends(portal_roles(*OrgKind))]


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed("not a valid date: {value}", field=name, value=value[:20]) from exc


def _filter(
    organization: str, enterprise: str, date_from: str, date_to: str, purpose: str, outcome: str
) -> EventFilter:
    return EventFilter(
        organization=organization.strip() or None,
        subject=enterprise.strip() or None,
        date_from=_day(date_from, "date_from"),
        date_to=_day(date_to, "date_to"),
        purpose=purpose if purpose in PURPOSES else None,
        outcome=outcome if outcome in OUTCOMES else None,
    )


def _organizations(session: SessionDep) -> list[tuple[str, str]]:
    """The institutions and platforms to filter by (enterprises are searched by code)."""
    found: list[tuple[str, str]] = []
    for kind in (OrgKind.INSTITUTION, OrgKind.PLATFORM):
        rows = session.scalars(iam_service.organizations_statement(kind=kind))
        found += [(o.public_id, o.name) for o in rows]
    return sorted(found, key=lambda item: item[1])


Text = Annotated[str, Query(max_length=60)]


@router.get("/audit/events")
def events_page(
    request: Request,
    principal: AuditorPage,
    session: SessionDep,
    organization: Text = "",
    enterprise: Text = "",
    date_from: Text = "",
    date_to: Text = "",
    purpose: Text = "",
    outcome: Text = "",
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Every access decision, newest first, filtered by who asked, about whom, when, why."""
    values = {
        "organization": organization,
        "enterprise": enterprise,
        "date_from": date_from,
        "date_to": date_to,
        "purpose": purpose,
        "outcome": outcome,
    }
    form = FormState(values=values)
    found: Page[Any] = page_of_list([], PageRequest(page=page, size=PAGE_SIZE))
    status = 200
    try:
        flt = _filter(organization, enterprise, date_from, date_to, purpose, outcome)
        stmt = audit_service.events_statement(flt=flt)
        found = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))
    except XydError as exc:
        form.fail(exc)
        status = exc.status
    return render(
        request,
        "audit/events.html",
        status=status,
        page=found,
        form=form,
        organizations=_organizations(session),
        purposes=PURPOSES,
        outcomes=OUTCOMES,
        categories=category_names(session, request_locale(request)),
        L=LABELS,
    )


@router.get("/audit/events.csv")
def events_csv(
    request: Request,
    principal: AuditorPage,
    session: SessionDep,
    organization: Text = "",
    enterprise: Text = "",
    date_from: Text = "",
    date_to: Text = "",
    purpose: Text = "",
    outcome: Text = "",
) -> Response:
    """Every access decision matching the filter as CSV (UTF-8 with a BOM)."""
    try:
        flt = _filter(organization, enterprise, date_from, date_to, purpose, outcome)
        audit_service.check_filter(flt)
    except XydError as exc:
        return render(
            request,
            "error.html",
            status=exc.status,
            title=N_("Nothing to export"),
            message=exc.message,
            params=exc.params,
        )

    return StreamingResponse(
        streamed(lambda reader: audit_service.csv_lines(reader, flt=flt)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="access-events.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/audit/flags")
def flags_page(request: Request, principal: AuditorPage, session: SessionDep) -> Response:
    """The anomalies in the access log, with the thresholds that raised them."""
    settings = get_settings().audit
    return render(
        request,
        "audit/flags.html",
        flags=audit_flags.compute(session, settings=settings),
        settings=settings,
    )


@router.get("/privacy")
def privacy_page(request: Request, principal: MemberPage, session: SessionDep) -> Response:
    """The grading of the catalogue and the desensitization rules, as configured."""
    return render(
        request,
        "privacy/rules.html",
        rules=privacy_service.rules(),
        grading=privacy_service.grading(session),
        zh=request_locale(request) == "zh_CN",
        L=LABELS,
    )
