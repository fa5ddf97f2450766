"""HTTP routes of the records: the registry search and a subject's records, conflicts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.errors import NotFound
from xinyidai.core.pagination import Page
from xinyidai.iam.api import CurrentUser, OperatorUser, OperatorWriter
from xinyidai.iam.schemas import Principal
from xinyidai.records import service
from xinyidai.records.schemas import CategoryRecords, ConflictOut
from xinyidai.registry import service as registry
from xinyidai.registry.schemas import EnterpriseOut

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)


@router.get("/enterprises", response_model=Page[EnterpriseOut])
def search_enterprises(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    q: Annotated[
        str | None, Query(description="part of the name, or the start of the code")
    ] = None,
    region: Annotated[str | None, Query(description="GB/T 2260 code")] = None,
    industry: Annotated[str | None, Query(description="GB/T 4754 code")] = None,
) -> Page[EnterpriseOut]:
    """Search the credit subjects the data center knows (operator)."""
    rows, total = registry.search(
        session, q=q, region=region, industry=industry, page=paging.page, size=paging.size
    )
    return Page(
        items=[EnterpriseOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


def _may_read(principal: Principal, code: str) -> None:
    if principal.organization_kind == "operator":
        return
    if principal.organization_kind == "enterprise" and principal.credit_code == code:
        return
    raise NotFound(
        "no credit subject with code {credit_code}", field="credit_code", credit_code=code
    )


@router.get("/enterprises/{code}/records", response_model=list[CategoryRecords])
def read_records(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    category: Annotated[list[str] | None, Query(description="only these categories")] = None,
    history: Annotated[bool, Query(description="include every earlier version")] = False,
) -> list[CategoryRecords]:
    """A subject's current records by category (operator, and the enterprise itself)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    _may_read(principal, subject.credit_code)
    return service.records_of(
        session, subject_code=subject.credit_code, categories=category, with_history=history
    )


@router.get("/records/conflicts", response_model=Page[ConflictOut])
def list_conflicts(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    state: Annotated[str | None, Query(pattern="^(open|resolved)$")] = "open",
) -> Page[ConflictOut]:
    """Facts two departments sent with different values, for the operator to settle."""
    rows, total = service.conflicts_by(session, state=state, page=paging.page, size=paging.size)
    return Page(
        items=[ConflictOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.post("/records/conflicts/{conflict_id}/resolve", response_model=ConflictOut)
def resolve_conflict(
    conflict_id: int, session: SessionDep, principal: OperatorWriter
) -> ConflictOut:
    """Mark a conflict settled by the operator."""
    conflict = service.resolve_conflict(
        session, conflict_id=conflict_id, actor=principal.username or "operator"
    )
    return ConflictOut.model_validate(conflict, from_attributes=True)
