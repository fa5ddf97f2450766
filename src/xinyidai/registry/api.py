"""HTTP routes of the registry: code checks, regions, industries, subjects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page
from xinyidai.registry import codes, service
from xinyidai.registry.schemas import CodeOut, CreditCodeCheck, EnterpriseOut

router = APIRouter(tags=["registry"], responses=ERROR_RESPONSES)


@router.get("/credit-codes/{code}", response_model=CreditCodeCheck)
def check_credit_code(code: str) -> CreditCodeCheck:
    """Check a unified social credit code (GB 32100-2015) and explain its parts."""
    return service.check_code(raw=code)


@router.get("/regions", response_model=list[CodeOut])
def list_regions(
    parent: Annotated[str | None, Query(description="parent region code")] = None,
) -> list[CodeOut]:
    """GB/T 2260 divisions: provinces, or the children of ``parent``."""
    return [
        CodeOut(code=c.code, name=c.name, level=c.level, parent=c.parent)
        for c in codes.regions().values()
        if c.parent == parent
    ]


@router.get("/industries", response_model=list[CodeOut])
def list_industries(
    parent: Annotated[str | None, Query(description="parent industry code")] = None,
) -> list[CodeOut]:
    """GB/T 4754-2017 industries: sections, or the children of ``parent``."""
    return [
        CodeOut(code=c.code, name=c.name, level=c.level, parent=c.parent)
        for c in codes.industries().values()
        if c.parent == parent
    ]


@router.get("/registry/enterprises", response_model=Page[EnterpriseOut])
def search_enterprises(
    session: SessionDep,
    paging: PageDep,
    q: Annotated[
        str | None, Query(description="part of the name, or the start of the code")
    ] = None,
    region: Annotated[str | None, Query(description="GB/T 2260 code (prefix match)")] = None,
    industry: Annotated[str | None, Query(description="GB/T 4754 code")] = None,
) -> Page[EnterpriseOut]:
    """Registration facts (public information) of credit subjects, paged."""
    rows, total = service.search(
        session, q=q, region=region, industry=industry, page=paging.page, size=paging.size
    )
    return Page(
        items=[EnterpriseOut.model_validate(row) for row in rows],
        total=total,
        page=paging.page,
        size=paging.size,
    )


@router.get("/registry/enterprises/{code}", response_model=EnterpriseOut)
def get_enterprise(code: str, session: SessionDep) -> EnterpriseOut:
    """Registration facts (public information) of one credit subject."""
    return EnterpriseOut.model_validate(service.get_by_code_or_raise(session, credit_code=code))
