"""HTTP routes of association analysis: an enterprise's associations, the region's
guarantee circles and chains, and the analyses that find them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep, job_out
from xinyidai.core.errors import NotFound
from xinyidai.core.pagination import Page
from xinyidai.graph import service
from xinyidai.graph.schemas import (
    AnalysisIn,
    AnalysisOut,
    AssociatedSignalOut,
    AssociationsOut,
    StructureOut,
)
from xinyidai.iam.api import CurrentUser, OperatorUser, OperatorWriter
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry

router = APIRouter(tags=["graph"], responses=ERROR_RESPONSES)


def association_viewer(principal: Principal, code: str) -> service.Viewer:
    """Who may see an enterprise's associations, and how much: the operator everything,
    the enterprise itself its own (people masked). Everyone else is told there is no such
    subject. The one place this is decided, until the access decision of ``consent``."""
    if principal.organization_kind == "operator":
        return service.OPERATOR_VIEW
    if principal.organization_kind == "enterprise" and principal.credit_code == code:
        return service.Viewer(sees_everything=False, credit_code=code)
    raise NotFound(
        "no credit subject with code {credit_code}", field="credit_code", credit_code=code
    )


@router.get("/enterprises/{code}/associations", response_model=AssociationsOut)
def read_associations(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    depth: Annotated[
        int, Query(ge=1, le=service.MAX_DEPTH, description="links to follow from the enterprise")
    ] = service.DEFAULT_DEPTH,
) -> AssociationsOut:
    """Enterprises linked to this one within ``depth`` links: each with whether it is bad
    now, each link with its kind and detail, and the guarantee circles and chains it is in
    (operator, and the enterprise itself)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    viewer = association_viewer(principal, subject.credit_code)
    return service.associations(session, code=subject.credit_code, depth=depth, viewer=viewer)


@router.get("/enterprises/{code}/associations/signals", response_model=list[AssociatedSignalOut])
def read_associated_signals(
    code: str,
    session: SessionDep,
    principal: OperatorUser,
    depth: Annotated[int, Query(ge=1, le=service.MAX_DEPTH)] = service.DEFAULT_DEPTH,
) -> list[AssociatedSignalOut]:
    """The bad enterprises linked to this one, by distance and link kind (operator)."""
    return service.associated_bad_signals(session, code=code, depth=depth)


@router.get("/graph/circles", response_model=Page[StructureOut])
def list_circles(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    kind: Annotated[str | None, Query(pattern="^(circle|chain)$")] = None,
    member: Annotated[str | None, Query(description="only those through this enterprise")] = None,
) -> Page[StructureOut]:
    """The guarantee circles and chains of the latest region analysis (operator)."""
    rows, total, _ = service.structures(
        session, kind=kind, member=member, page=paging.page, size=paging.size
    )
    names = service.member_names(session, rows)
    return Page(
        items=[service.structure_out(row, names=names) for row in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.get("/graph/analyses", response_model=list[AnalysisOut])
def list_analyses(session: SessionDep, principal: OperatorUser) -> list[AnalysisOut]:
    """The ten most recent region analyses, newest first (operator)."""
    return [AnalysisOut.model_validate(a) for a in service.recent_analyses(session)]


@router.get("/graph/analyses/latest", response_model=AnalysisOut)
def read_latest_analysis(session: SessionDep, principal: OperatorUser) -> AnalysisOut:
    """The newest finished region analysis (operator)."""
    return AnalysisOut.model_validate(service.latest_analysis_or_raise(session))


@router.post(
    "/graph/analyses",
    status_code=202,
    responses={202: {"description": "queued; follow it at /jobs/{id}"}},
)
def start_analysis(
    session: SessionDep, principal: OperatorWriter, options: AnalysisIn | None = None
) -> Any:
    """Queue a region analysis: every guarantee circle and chain is found again (operator)."""
    job = service.start_analysis(session, options=options or AnalysisIn(), actor=principal.actor)
    return JSONResponse(job_out(job).model_dump(mode="json"), status_code=202)
