"""HTTP routes of joint modelling: threshold answers (可验证不可见) and alignments (the
private set intersection, at the center).

``POST /joint/thresholds`` answers one threshold question about an enterprise, yes or no,
through the access decision (purpose ``verification``) and within the limit per
organization, enterprise and question; ``GET /joint/thresholds`` lists the caller's own
organization's answers. ``POST /joint/alignments`` runs the center's step of the
intersection, ``POST /joint/alignments/{alignment_id}/matches`` takes the institution's
matches; ``GET /joint/alignments`` lists them (the institution's own; all for the operator).
"""

from __future__ import annotations

from fastapi import APIRouter

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import Forbidden
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentPrincipal
from xinyidai.joint import service
from xinyidai.joint.schemas import (
    AlignmentIn,
    AlignmentOfferOut,
    AlignmentOut,
    MatchIn,
    ThresholdAnswerOut,
    ThresholdIn,
    ThresholdOut,
)

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


@router.post("/alignments", response_model=AlignmentOfferOut, status_code=201)
def start_alignment(
    data: AlignmentIn, session: SessionDep, principal: CurrentPrincipal
) -> AlignmentOfferOut:
    """The center's step of the private set intersection (institution): the points sent,
    raised to a fresh secret in the order sent, and the blinded points of the enterprises
    whose letters allow ``joint_modelling`` to the caller, shuffled. No identifier leaves."""
    points = service.decode_points(data.points)
    row, answer, offered = service.offer(session, actor=principal, points=points)
    shown = AlignmentOut.model_validate(row).model_dump()
    return AlignmentOfferOut(
        **shown,
        answer=service.encode_points(answer),
        center_points=service.encode_points(offered),
    )


@router.post("/alignments/{alignment_id}/matches", response_model=AlignmentOut)
def match_alignment(
    alignment_id: str, data: MatchIn, session: SessionDep, principal: CurrentPrincipal
) -> AlignmentOut:
    """The positions of the center's points that matched (institution): the intersection is
    kept, in the center's order, and the alignment recorded on the ledger (sizes only)."""
    row = service.match(session, actor=principal, public_id=alignment_id, positions=data.positions)
    return AlignmentOut.model_validate(row)


@router.get("/alignments", response_model=Page[AlignmentOut])
def list_alignments(
    session: SessionDep, paging: PageDep, principal: CurrentPrincipal
) -> Page[AlignmentOut]:
    """Alignments: the caller's institution's own, every one for the operator; sizes only."""
    stmt = service.alignments_statement(actor=principal)
    return page_of(session, stmt, paging, AlignmentOut.model_validate)
