"""HTTP routes of joint modelling: threshold answers (可验证不可见).

``POST /joint/thresholds`` answers one threshold question about an enterprise, yes or no,
through the access decision (purpose ``verification``) and within the limit per
organization, enterprise and question; ``GET /joint/thresholds`` lists the caller's own
organization's answers.
"""

from __future__ import annotations

from fastapi import APIRouter

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import Forbidden
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentPrincipal
from xinyidai.joint import service
from xinyidai.joint.schemas import ThresholdAnswerOut, ThresholdIn, ThresholdOut

router = APIRouter(prefix="/joint", tags=["joint"], responses=ERROR_RESPONSES)


@router.post("/thresholds", response_model=ThresholdOut)
def answer_threshold(
    data: ThresholdIn, session: SessionDep, principal: CurrentPrincipal
) -> ThresholdOut:
    """Whether an enterprise clears a threshold (tax paid last year, social-insurance
    headcount, no arrears, registered capital): yes or no only, never the value.

    Through the access decision (purpose ``verification``); every answer is an access event
    and counts against the limit (``XYD_JOINT_THRESHOLD_ANSWERS`` per enterprise and
    question in ``XYD_JOINT_THRESHOLD_WINDOW_DAYS`` days; 429 past it)."""

    def refuse(error: Forbidden) -> Forbidden:
        return commit_refusal(session, error)

    found = service.answer(
        session,
        actor=principal,
        credit_code=data.credit_code,
        question=data.question,
        threshold=data.threshold,
        letter_id=data.letter_id,
        on_refusal=refuse,
    )
    return ThresholdOut.model_validate(found)


@router.get("/thresholds", response_model=Page[ThresholdAnswerOut])
def list_thresholds(
    session: SessionDep, paging: PageDep, principal: CurrentPrincipal
) -> Page[ThresholdAnswerOut]:
    """The threshold answers given to the caller's organization, newest first."""
    stmt = service.answers_of(organization_id=principal.organization_public_id)
    return page_of(session, stmt, paging, ThresholdAnswerOut.model_validate)
