"""The public site, no sign-in: headline figures of the platform, the typical cases, a link
to the product supermarket. Server-rendered, cached (``Cache-Control: public``) and open to
search engines.

The work is the statistics service's (``stats.service.public``, ``stats.service.cases``);
these routes read and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from xinyidai.core.api import SessionDep
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.stats.service import cases, public
from xinyidai.stats.sources import FIGURES
from xinyidai.web.auth import OptionalPortalUser
from xinyidai.web.templating import render

router = APIRouter(prefix="/public", include_in_schema=False)

CACHE_CONTROL = "public, max-age=60"


@router.get("")
def public_home(request: Request, session: SessionDep, principal: OptionalPortalUser) -> Response:
    """The platform's results in figures, and the latest typical cases."""
    request.state.principal = principal
    latest = page_of(session, cases.published_statement(), PageRequest(page=1, size=10))
    response = render(
        request,
        "stats/public.html",
        headline=public.headline(session),
        figure_names=public.PUBLIC_FIGURES,
        figures_by_name=FIGURES,
        cases=[cases.public_view(session, c) for c in latest.items],
    )
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@router.get("/cases/{case_id}")
def public_case(
    case_id: Annotated[str, Path(max_length=40)],
    request: Request,
    session: SessionDep,
    principal: OptionalPortalUser,
) -> Response:
    """One published typical case (anything else is not found)."""
    request.state.principal = principal
    case = cases.public_view(session, cases.get_published_or_raise(session, case_id=case_id))
    response = render(request, "stats/public_case.html", case=case)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
