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

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from xinyidai.core import clock
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import gettext
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import dashboard as dashboard_service
from xinyidai.stats.service import figures
from xinyidai.web.auth import portal_roles
from xinyidai.web.forms import N_
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
