"""HTTP routes of association analysis: an enterprise's associations, the region's
guarantee circles and chains, and the analyses that find them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import LetterQuery, PurposeQuery, enforce
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep, job_out
from xinyidai.core.bounds import Int
from xinyidai.core.pagination import Page, page_of
from xinyidai.graph import service
from xinyidai.graph.schemas import (
    AnalysisIn,
    AnalysisOut,
    AssociatedSignalOut,
    AssociationsOut,
    StructureOut,
)
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry

router = APIRouter(tags=["graph"], responses=ERROR_RESPONSES)


ASSOCIATION_CATEGORIES = service.ASSOCIATION_CATEGORIES


def association_viewer(
    session: Session,
    principal: Principal,
    code: str,
    *,
    purpose: str | None = None,
    letter: str | None = None,
    channel: str = "api:associations",
) -> service.Viewer:
    """How much of an enterprise's associations ``principal`` sees, decided (and logged) by
    the access decision over the categories the links come from: the operator on its duty
    sees everything; the enterprise itself and a holder of a letter covering those
    categories see people masked and only the amounts of guarantees they are party to.
    A refusal is logged and raised."""
    decision = enforce(
        session,
        consent_service.decide(
            session,
            actor=principal,
            subject=code,
            categories=list(ASSOCIATION_CATEGORIES),
            purpose=purpose,
            letter_id=letter,
            channel=channel,
        ),
    )
    viewer = service.viewer_for(decision, principal)
    assert viewer is not None  # the decision named every association category
    return viewer


@router.get("/enterprises/{code}/associations", response_model=AssociationsOut)
def read_associations(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    depth: Annotated[
        Int, Query(ge=1, le=service.MAX_DEPTH, description="links to follow from the enterprise")
    ] = service.DEFAULT_DEPTH,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
) -> AssociationsOut:
    """Enterprises linked to this one within ``depth`` links: each with whether it is bad
    now, each link with its kind and detail, and the guarantee circles and chains it is in
    (through the access decision over registration, shareholders and guarantees)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    viewer = association_viewer(
        session, principal, subject.credit_code, purpose=purpose, letter=letter
    )
    return service.associations(session, code=subject.credit_code, depth=depth, viewer=viewer)


@router.get("/enterprises/{code}/associations/signals", response_model=list[AssociatedSignalOut])
def read_associated_signals(
    code: str,
    session: SessionDep,
    principal: OperatorUser,
    depth: Annotated[Int, Query(ge=1, le=service.MAX_DEPTH)] = service.DEFAULT_DEPTH,
) -> list[AssociatedSignalOut]:
    """The bad enterprises linked to this one, by distance and link kind (operator, on its
    duty, through the access decision)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    association_viewer(session, principal, subject.credit_code, channel="api:associations.signals")
    return service.associated_bad_signals(session, code=subject.credit_code, depth=depth)


@router.get("/graph/circles", response_model=Page[StructureOut])
def list_circles(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    kind: Annotated[str | None, Query(pattern="^(circle|chain)$")] = None,
    member: Annotated[str | None, Query(description="only those through this enterprise")] = None,
) -> Page[StructureOut]:
    """The guarantee circles and chains of the latest region analysis (operator)."""
    stmt = service.structures_statement(session, kind=kind, member=member)
    return page_of(session, stmt, paging, items=lambda rows: service.structures_out(session, rows))


@router.get("/graph/analyses", response_model=Page[AnalysisOut])
def list_analyses(
    session: SessionDep, principal: OperatorUser, paging: PageDep
) -> Page[AnalysisOut]:
    """The region analyses, newest first (operator)."""
    return page_of(session, service.analyses_statement(), paging, AnalysisOut.model_validate)


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
    session.commit()  # queued now: the answer shows the job as it stands
    session.refresh(job)
    return JSONResponse(job_out(job).model_dump(mode="json"), status_code=202)
