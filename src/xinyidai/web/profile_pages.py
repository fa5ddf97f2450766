"""The panoramic profile pages: find an enterprise, see its profile as the access decision
lets you, download it as a PDF credit report.

The work is ``profile.service``'s and ``profile.pdf``'s; each page view or download is one
access decision (one audit event), exactly as through the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.bounds import Int
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import Page, PageRequest, page_of
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.schemas import STATE_LABELS
from xinyidai.profile import service
from xinyidai.profile.schemas import PART_LABELS, ProfileOut
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import STATUS_LABELS
from xinyidai.web.auth import portal_roles
from xinyidai.web.consent_pages import LABELS as CONSENT_LABELS
from xinyidai.web.consent_pages import decide_for_page
from xinyidai.web.forms import N_, FormState
from xinyidai.web.graph_pages import LABELS as GRAPH_LABELS
from xinyidai.web.graph_pages import chart_data, chart_labels
from xinyidai.web.templating import render

router = APIRouter(prefix="/profile", include_in_schema=False)

ProfileReader = Annotated[
    Principal,
    Depends(
        portal_roles(OrgKind.ENTERPRISE, OrgKind.INSTITUTION, OrgKind.PLATFORM, OrgKind.OPERATOR)
    ),
]
PAGE_SIZE = 20


@router.get("")
def find(
    request: Request,
    principal: ProfileReader,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Find an enterprise's profile: the operator searches by name or code; others go by
    the credit code (an enterprise straight to its own)."""
    if principal.organization_kind == OrgKind.ENTERPRISE and principal.credit_code:
        return RedirectResponse(f"/profile/{principal.credit_code}", status_code=303)
    query = (q or "").strip()
    form = FormState(values={"q": query})
    found: Page[Any] | None = None
    if query and principal.organization_kind == OrgKind.OPERATOR:
        stmt = registry_service.search_statement(q=query)
        found = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))
        if found.total == 1 and page == 1:
            return RedirectResponse(f"/profile/{found.items[0].credit_code}", status_code=303)
    elif query:
        try:
            subject = registry_service.get_by_code_or_raise(session, credit_code=query)
        except XydError as exc:
            form.errors["q"] = (exc.message, dict(exc.params))
        else:
            return RedirectResponse(f"/profile/{subject.credit_code}", status_code=303)
    return render(
        request,
        "profile/find.html",
        status=422 if form.errors else 200,
        form=form,
        found=found,
        operator=principal.organization_kind == OrgKind.OPERATOR,
    )


def _profile(
    request: Request,
    session: Session,
    principal: Principal,
    code: str,
    *,
    purpose: str | None,
    letter: str | None,
    channel: str,
) -> tuple[ProfileOut, str] | Response:
    """The profile under the page's one access decision and the page's locale; or the
    page that says why there is none."""
    decided = decide_for_page(
        request, session, principal, code, purpose=purpose, letter=letter, channel=channel
    )
    if isinstance(decided, Response):
        return decided
    locale = request_locale(request)
    found = service.build(session, decided, principal=principal, locale=locale)
    return found, locale


def _trend_chart(points: list[Any]) -> dict[str, Any]:
    return {
        "dates": [p.as_of.isoformat() for p in points],
        "scores": [round(p.score) for p in points],
        "grades": [p.grade for p in points],
    }


@router.get("/{code}")
def profile_page(
    code: str,
    request: Request,
    principal: ProfileReader,
    session: SessionDep,
    letter: Annotated[str | None, Query(max_length=40)] = None,
    purpose: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The panoramic profile the viewer is entitled to, with the association graph."""
    made = _profile(
        request, session, principal, code, purpose=purpose, letter=letter, channel="portal:profile"
    )
    if isinstance(made, Response):
        return made
    found, locale = made
    graph = None
    if found.associations is not None:
        graph = chart_data(found.associations, chart_labels(locale))
    query = {k: v for k, v in (("letter", letter), ("purpose", purpose)) if v}
    return render(
        request,
        "profile/profile.html",
        profile=found,
        report=found.report,
        graph=graph,
        trend=_trend_chart(found.rating_trend),
        pdf_query=query,
        field_labels=service.field_labels(session, found.report),
        part_labels=PART_LABELS,
        market_states=STATE_LABELS,
        subject_states=STATUS_LABELS,
        operator=principal.organization_kind == OrgKind.OPERATOR,
        L=CONSENT_LABELS,
        **GRAPH_LABELS,
    )


@router.get("/{code}/pdf")
def profile_pdf(
    code: str,
    request: Request,
    principal: ProfileReader,
    session: SessionDep,
    letter: Annotated[str | None, Query(max_length=40)] = None,
    purpose: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The profile as a PDF credit report (a new read: its own number and audit event)."""
    made = _profile(
        request,
        session,
        principal,
        code,
        purpose=purpose,
        letter=letter,
        channel="portal:profile.pdf",
    )
    if isinstance(made, Response):
        return made
    found, locale = made
    try:
        body = service.pdf_of(session, found, locale=locale)
    except XydError as exc:
        failed = commit_refusal(session, exc)  # the read happened and stays logged
        return render(
            request,
            "error.html",
            status=failed.status,
            title=N_("The report could not be made"),
            message=failed.message,
            params=failed.params,
        )
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{found.report_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
