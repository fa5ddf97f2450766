"""HTTP routes of the catalogue. Reading is public (the catalogue is published, 公开目录)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from xinyidai.catalog import service
from xinyidai.catalog.models import CategoryVersion
from xinyidai.catalog.schemas import CategoryOut, CategorySpec, CategoryVersionOut
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import OperatorWriter
from xinyidai.iam.schemas import Principal

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERROR_RESPONSES)


@router.get("/categories", response_model=Page[CategoryOut])
def list_categories(
    session: SessionDep,
    paging: PageDep,
    provider: Annotated[str | None, Query(description="source department code")] = None,
    include_inactive: bool = False,
) -> Page[CategoryOut]:
    """The categories in force (or retired ones too), in code order, with their field schemas
    and sharing rules."""
    stmt = service.categories_statement(provider=provider, include_inactive=include_inactive)
    return page_of(session, stmt, paging, CategoryOut.model_validate)


@router.get("/categories/{code}", response_model=CategoryOut)
def get_category(code: str, session: SessionDep) -> CategoryOut:
    """One category as now in force."""
    return CategoryOut.model_validate(service.get_by_code_or_raise(session, code=code))


def version_out(row: CategoryVersion) -> CategoryVersionOut:
    return CategoryVersionOut(
        version=row.version,
        changed_by=row.changed_by,
        note=row.note,
        created_at=row.created_at,
        snapshot=CategorySpec.model_validate(row.snapshot),
    )


@router.get("/categories/{code}/versions", response_model=Page[CategoryVersionOut])
def list_versions(code: str, session: SessionDep, paging: PageDep) -> Page[CategoryVersionOut]:
    """Every version the category has had, newest first."""
    category = service.get_by_code_or_raise(session, code=code)
    return page_of(session, service.versions_statement(category=category), paging, version_out)


class CategoryChange(CategorySpec):
    note: str | None = None


@router.post("/categories", response_model=CategoryOut, status_code=201)
def create_category(
    data: CategoryChange, session: SessionDep, principal: OperatorWriter
) -> CategoryOut:
    """Add a category to the catalogue (operator)."""
    spec = CategorySpec.model_validate(data.model_dump(exclude={"note"}))
    category = service.create(session, spec=spec, actor=_actor(principal), note=data.note)
    return CategoryOut.model_validate(category)


@router.put("/categories/{code}", response_model=CategoryOut)
def update_category(
    code: str, data: CategoryChange, session: SessionDep, principal: OperatorWriter
) -> CategoryOut:
    """Change a category as a new version; stored records keep the version they used."""
    spec = CategorySpec.model_validate(data.model_dump(exclude={"note"}))
    category = service.update(
        session, code=code, spec=spec, actor=_actor(principal), note=data.note
    )
    return CategoryOut.model_validate(category)


class CategoryAssignment(BaseModel):
    provider: str = Field(description="the department code that becomes the category's source")
    note: str | None = None


@router.post("/categories/{code}/assign", response_model=CategoryOut)
def assign_category(
    code: str, data: CategoryAssignment, session: SessionDep, principal: OperatorWriter
) -> CategoryOut:
    """Make a department the category's source, as a new version (operator): only that
    department's data of the category is accepted from then on, and only it reads the
    category as its own."""
    category = service.assign(
        session, code=code, provider=data.provider, actor=_actor(principal), note=data.note
    )
    return CategoryOut.model_validate(category)


@router.post("/categories/{code}/retire", response_model=CategoryOut)
def retire_category(code: str, session: SessionDep, principal: OperatorWriter) -> CategoryOut:
    """Stop accepting data for a category; what is stored stays."""
    category = service.set_active(session, code=code, active=False, actor=_actor(principal))
    return CategoryOut.model_validate(category)


@router.post("/categories/{code}/restore", response_model=CategoryOut)
def restore_category(code: str, session: SessionDep, principal: OperatorWriter) -> CategoryOut:
    """Accept data for a retired category again."""
    category = service.set_active(session, code=code, active=True, actor=_actor(principal))
    return CategoryOut.model_validate(category)


def _actor(principal: Principal) -> str:
    return principal.username or principal.organization_public_id
