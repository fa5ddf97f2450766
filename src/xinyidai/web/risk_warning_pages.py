"""Early-warning pages: the institution's ranked watch list of its live loans, each with its
probability of trouble within six months and its top reasons; the operator's view of all
of them, filtered by institution.

The work is the early-warning service's (``risk.service.warning``): it ranks, pages and
passes every warning shown through the access decision. These routes parse, check the role
and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import Page, PageRequest
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk import warning_model
from xinyidai.risk.service import warning as warning_service
from xinyidai.risk.warning_schemas import LoanWarningOut
from xinyidai.web.auth import portal_roles
from xinyidai.web.forms import N_
from xinyidai.web.templating import render

router = APIRouter(prefix="/risk", include_in_schema=False)

WarningReader = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION, OrgKind.OPERATOR))]
PAGE_SIZE = 25
# The probability floors the page offers (the API takes any).
FLOORS = ("", "0.05", "0.1", "0.25", "0.5")
BAND_LABELS = {
    "low": N_("Low"),
    "watch": N_("Watch"),
    "high": N_("High"),
    "severe": N_("Severe"),
}
WITHHELD_LABEL = N_("Withheld: no post-loan monitoring letter covers what it is derived from")


@router.get("/warnings")
def warnings_page(
    request: Request,
    session: SessionDep,
    principal: WarningReader,
    min_probability: Annotated[str, Query(max_length=10)] = "",
    institution: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The ranked watch list: live loans by the probability of 30+ days overdue or default
    within six months, with reasons."""
    locale = request_locale(request)
    error = None
    status = 200
    floor = min_probability if min_probability in FLOORS else ""
    if min_probability and min_probability not in FLOORS:
        error = N_("Choose one of the thresholds offered.")
        status = 422
    rows: Page[LoanWarningOut] = Page(items=[], total=0, page=1, size=PAGE_SIZE)
    counts: dict[str, int] = dict.fromkeys(warning_model.BAND_NAMES, 0)
    if error is None:
        try:
            rows = warning_service.list_warnings(
                session,
                principal,
                PageRequest(page=page, size=PAGE_SIZE),
                locale=locale,
                min_probability=float(floor) if floor else None,
                institution=institution or None,
            )
            scope = (
                principal.organization_public_id
                if principal.organization_kind == OrgKind.INSTITUTION
                else institution or None
            )
            counts = warning_service.band_counts(session, institution_id=scope)
        except XydError as exc:
            error = exc.message
            status = exc.status
    return render(
        request,
        "risk/warnings.html",
        status=status,
        rows=rows,
        counts=counts,
        floors=FLOORS,
        floor=floor,
        institution=institution,
        band_labels=BAND_LABELS,
        withheld_label=WITHHELD_LABEL,
        error=error,
    )
