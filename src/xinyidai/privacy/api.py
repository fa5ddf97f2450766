"""HTTP routes of privacy: the desensitization rules and the grading of the catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xinyidai.core.api import ERROR_RESPONSES, SessionDep
from xinyidai.iam.api import CurrentUser
from xinyidai.privacy import service
from xinyidai.privacy.schemas import CategoryGrade

router = APIRouter(prefix="/privacy", tags=["privacy"], responses=ERROR_RESPONSES)


@router.get("/rules")
def read_rules(principal: CurrentUser) -> dict[str, Any]:
    """The desensitization rules in force, exactly as configured (every member may read them)."""
    return service.rules_document()


@router.get("/grades", response_model=list[CategoryGrade])
def read_grades(session: SessionDep, principal: CurrentUser) -> list[CategoryGrade]:
    """Every category's classification and grade, field by field, with the rule each field gets."""
    return service.grading(session)
