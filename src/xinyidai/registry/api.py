"""HTTP routes of the registry: code checks, regions, industries. The public directory of
credit subjects is served by ``privacy.api`` (what it shows is the grading's answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from xinyidai.core.api import ERROR_RESPONSES, PageDep, request_locale
from xinyidai.core.pagination import Page, page_of_list
from xinyidai.registry import codes, service
from xinyidai.registry.schemas import CodeOut, CreditCodeCheck

router = APIRouter(tags=["registry"], responses=ERROR_RESPONSES)


@router.get("/credit-codes/{code}", response_model=CreditCodeCheck)
def check_credit_code(request: Request, code: str) -> CreditCodeCheck:
    """Check a unified social credit code (GB 32100-2015) and explain its parts; why it is
    not valid in the caller's language."""
    return service.check_code(raw=code, locale=request_locale(request))


def code_out(code: codes.Code) -> CodeOut:
    return CodeOut(code=code.code, name=code.name, level=code.level, parent=code.parent)


@router.get("/regions", response_model=Page[CodeOut])
def list_regions(
    paging: PageDep,
    parent: Annotated[str | None, Query(description="parent region code")] = None,
) -> Page[CodeOut]:
    """GB/T 2260 divisions: provinces, or the children of ``parent``."""
    found = [c for c in codes.regions().values() if c.parent == parent]
    return page_of_list(found, paging, code_out)


@router.get("/industries", response_model=Page[CodeOut])
def list_industries(
    paging: PageDep,
    parent: Annotated[str | None, Query(description="parent industry code")] = None,
) -> Page[CodeOut]:
    """GB/T 4754-2017 industries: sections, or the children of ``parent``."""
    found = [c for c in codes.industries().values() if c.parent == parent]
    return page_of_list(found, paging, code_out)
