"""The statistics dashboard: headline figures of the year, a figure's trend and breakdown
(ECharts), targets' progress, exports. The operator and auditors see it; auditors see small
cells suppressed as the API does.

The work is the statistics service's (``stats.service.dashboard``); these routes parse,
check the role and render.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.core import clock
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import gettext
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.stats.models import CaseState, Dimension, Grain
from xinyidai.stats.service import bulletins, cases, evaluation, figures
from xinyidai.stats.service import dashboard as dashboard_service
from xinyidai.web.auth import CheckedForm, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/stats", include_in_schema=False)

StatsReader = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, OrgKind.AUDITOR))]

GRAIN_LABELS = {
    Grain.DAY: N_("Day"),
    Grain.MONTH: N_("Month"),
    Grain.QUARTER: N_("Quarter"),
    Grain.YEAR: N_("Year"),
}
DIMENSION_LABELS = {
    Dimension.ALL: N_("No breakdown"),
    Dimension.PROVINCE: N_("Province"),
    Dimension.CITY: N_("City"),
    Dimension.COUNTY: N_("County"),
    Dimension.INDUSTRY: N_("Industry"),
    Dimension.INSTITUTION: N_("Institution"),
    Dimension.PRODUCT_TYPE: N_("Product type"),
    Dimension.DEPARTMENT: N_("Department"),
    Dimension.CATEGORY: N_("Category"),
}


def _chart(board: dashboard_service.Dashboard, figure: str) -> dict[str, Any]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "name": gettext(figures.FIGURES[figure].label),
        "unit": str(figures.FIGURES[figure].unit),
        "periods": [v.period for v in board.trend],
        "trend": [number(v.value) for v in board.trend],
        "cells": [board.names.get(v.key, v.key) for v in board.breakdown],
        "breakdown": [number(v.value) for v in board.breakdown],
    }


@router.get("")
def stats_page(
    request: Request,
    session: SessionDep,
    principal: StatsReader,
    figure: Annotated[str, Query(max_length=60)] = "loans_amount",
    grain: Annotated[str, Query(max_length=10)] = Grain.MONTH,
    dimension: Annotated[str, Query(max_length=20)] = Dimension.INSTITUTION,
    start: Annotated[str, Query(max_length=10)] = "",
    end: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The dashboard: what the filters chose, or the year so far by month and institution."""
    today = clock.today()
    error: str | None = None
    status = 200
    board = None
    try:
        chosen_grain = Grain(grain) if grain in tuple(Grain) else None
        chosen_dimension = Dimension(dimension) if dimension in tuple(Dimension) else None
        first = date.fromisoformat(start) if start else date(today.year, 1, 1)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        chosen_grain = chosen_dimension = None
        first, last = date(today.year, 1, 1), today
    if chosen_grain is None or chosen_dimension is None:
        error = N_("Choose one of the options offered.")
        status = 422
    else:
        try:
            board = dashboard_service.dashboard(
                session,
                figure=figure,
                grain=chosen_grain,
                dimension=chosen_dimension,
                start=first,
                end=last,
                min_cell=figures.reader_min_cell(principal.organization_kind == OrgKind.OPERATOR),
            )
        except XydError as exc:
            error = exc.translated()
            status = exc.status
    query = urlencode(
        {
            "figure": figure,
            "grain": grain,
            "dimension": dimension,
            "start": first.isoformat(),
            "end": last.isoformat(),
        }
    )
    return render(
        request,
        "stats/dashboard.html",
        status=status,
        board=board,
        chart=_chart(board, figure) if board else None,
        shown=figures.shown_figures(),
        figures_by_name=figures.FIGURES,
        headline=dashboard_service.HEADLINE,
        figure=figure,
        grain=grain,
        dimension=dimension,
        start=first.isoformat(),
        end=last.isoformat(),
        grain_labels=GRAIN_LABELS,
        dimension_labels=DIMENSION_LABELS,
        export_query=query,
        suppressed_below=figures.reader_min_cell(principal.organization_kind == OrgKind.OPERATOR),
        error=error,
    )


# --------------------------------------------------------------------------- typical cases

StatsWriter = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, write=True))]
CASE_STATE_LABELS = {
    CaseState.DRAFT: N_("Draft"),
    CaseState.REVIEW: N_("In review"),
    CaseState.PUBLISHED: N_("Published"),
    CaseState.WITHDRAWN: N_("Withdrawn"),
}
CASE_MOVE_LABELS = {
    "submit": N_("Submit for review"),
    "return": N_("Return to the author"),
    "publish": N_("Publish"),
    "withdraw": N_("Withdraw"),
}


def _cases_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
    page: int = 1,
) -> Response:
    rows = page_of(session, cases.cases_statement(), PageRequest(page=page, size=20))
    return render(
        request,
        "stats/cases.html",
        status=status,
        rows=rows,
        moves={c.public_id: cases.CASES.available(c) for c in rows.items},
        named={c.public_id: cases.named(c) for c in rows.items},
        form=form or FormState(),
        state_labels=CASE_STATE_LABELS,
        move_labels=CASE_MOVE_LABELS,
        can_write=principal.organization_kind == OrgKind.OPERATOR and principal.can_write,
    )


@router.get("/cases")
def cases_page(
    request: Request,
    session: SessionDep,
    principal: StatsReader,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Typical cases: write one, move them through review to the public site."""
    return _cases_page(request, session, principal, page=page)


@router.post("/cases")
def write_case(
    request: Request, session: SessionDep, principal: StatsWriter, form: CheckedForm
) -> Response:
    """A new case, in draft."""
    state = FormState.from_form(form)
    try:
        cases.write(
            session,
            principal=principal,
            draft=cases.CaseDraft(
                title=text(form, "title"),
                summary=text(form, "summary"),
                body=text(form, "body"),
                region_code=text(form, "region_code") or None,
                industry_code=text(form, "industry_code") or None,
                credit_code=text(form, "credit_code") or None,
            ),
        )
    except XydError as error:
        session.rollback()
        return _cases_page(request, session, principal, form=state.fail(error), status=error.status)
    session.commit()
    return RedirectResponse("/stats/cases", status_code=303)


@router.post("/cases/{case_id}/consent")
def record_case_consent(
    case_id: Annotated[str, Path(max_length=40)],
    request: Request,
    session: SessionDep,
    principal: StatsWriter,
    form: CheckedForm,
) -> Response:
    """Record the enterprise's consent to be named."""
    try:
        case = cases.get_or_raise(session, case_id=case_id)
        cases.record_consent(
            session, principal=principal, case=case, reference=text(form, "reference")
        )
    except XydError as error:
        session.rollback()
        return _cases_page(
            request, session, principal, form=FormState().fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse("/stats/cases", status_code=303)


@router.post("/cases/{case_id}/{move}")
def move_case(
    case_id: Annotated[str, Path(max_length=40)],
    move: Annotated[str, Path(max_length=20)],
    request: Request,
    session: SessionDep,
    principal: StatsWriter,
    form: CheckedForm,
) -> Response:
    """Submit, return, publish or withdraw a case."""
    try:
        case = cases.get_or_raise(session, case_id=case_id)
        cases.move(
            session, principal=principal, case=case, name=move, reason=text(form, "reason") or None
        )
    except XydError as error:
        session.rollback()
        return _cases_page(
            request, session, principal, form=FormState().fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse("/stats/cases", status_code=303)


# --------------------------------------------------------------------------- evaluation

SUBJECT_LABELS = {"institution": N_("Institutions"), "region": N_("Regions")}
DIRECTION_LABELS = {"higher": N_("higher is better"), "lower": N_("lower is better")}


@router.get("/evaluation")
def evaluation_page(
    request: Request,
    session: SessionDep,
    principal: StatsReader,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    subject: Annotated[str, Query(max_length=20)] = "institution",
) -> Response:
    """The quarter's ranking by the year's method, with the method document beside it."""
    default_year, default_quarter = evaluation.last_quarter(clock.today())
    year = year or default_year
    quarter = quarter or default_quarter
    ranking = None
    method = None
    error: str | None = None
    status = 200
    try:
        method = evaluation.method_or_raise(year)
        ranking = evaluation.rank(session, year=year, quarter=quarter, subject=subject)
    except XydError as exc:
        error = exc.translated()
        status = exc.status
    return render(
        request,
        "stats/evaluation.html",
        status=status,
        method=method,
        ranking=ranking,
        year=year,
        quarter=quarter,
        subject=subject,
        subject_labels=SUBJECT_LABELS,
        direction_labels=DIRECTION_LABELS,
        dimension_labels=DIMENSION_LABELS,
        figures_by_name=figures.FIGURES,
        error=error,
    )


# --------------------------------------------------------------------------- bulletins

MonthPath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]


@router.get("/bulletins")
def bulletins_page(
    request: Request,
    session: SessionDep,
    principal: StatsReader,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The archive of monthly bulletins."""
    rows = page_of(session, bulletins.bulletins_statement(), PageRequest(page=page, size=24))
    return render(
        request,
        "stats/bulletins.html",
        rows=rows,
        form=FormState(values={"month": bulletins.previous_month(clock.today())}),
        can_write=principal.organization_kind == OrgKind.OPERATOR and principal.can_write,
    )


@router.post("/bulletins")
def generate_bulletin(
    request: Request, session: SessionDep, principal: StatsWriter, form: CheckedForm
) -> Response:
    """Generate a month's bulletin now."""
    state = FormState.from_form(form)
    try:
        done = bulletins.generate(session, month=text(form, "month"), actor=principal.actor)
    except XydError as error:
        session.rollback()
        rows = page_of(session, bulletins.bulletins_statement(), PageRequest(page=1, size=24))
        return render(
            request,
            "stats/bulletins.html",
            status=error.status,
            rows=rows,
            form=state.fail(error),
            can_write=True,
        )
    session.commit()
    return RedirectResponse(f"/stats/bulletins/{done.month}", status_code=303)


@router.get("/bulletins/{month}")
def bulletin_page(
    month: MonthPath, request: Request, session: SessionDep, principal: StatsReader
) -> Response:
    """One bulletin as it was issued: figures, the year's trend, ranking, notable changes."""
    found = bulletins.get_or_raise(session, month=month)
    content = found.content
    amount = figures.FIGURES["loans_amount"]
    chart = {
        "name": gettext(amount.label),
        "periods": [p for p, _ in content["trend"].get("loans_amount", [])],
        "trend": [float(v) if v else 0 for _, v in content["trend"].get("loans_amount", [])],
        "cells": [],
        "breakdown": [],
    }
    return render(
        request,
        "stats/bulletin.html",
        bulletin=found,
        content=content,
        chart=chart,
        figures_by_name=figures.FIGURES,
    )


@router.get("/bulletins/{month}/pdf")
def bulletin_pdf(month: MonthPath, session: SessionDep, principal: StatsReader) -> Response:
    """The bulletin's PDF."""
    found = bulletins.get_or_raise(session, month=month)
    return Response(
        found.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="xyd-bulletin-{month}.pdf"'},
    )
