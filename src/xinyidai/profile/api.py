"""HTTP route of the panoramic profile: one enterprise as the access decision lets the
viewer see it, as JSON or as a PDF credit report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import LetterQuery, PurposeQuery, enforce
from xinyidai.core.api import ERROR_RESPONSES, SessionDep
from xinyidai.core.bounds import Int
from xinyidai.core.i18n import current_locale
from xinyidai.iam.auth import CurrentUser
from xinyidai.profile import service
from xinyidai.profile.schemas import ProfileOut
from xinyidai.registry import service as registry

router = APIRouter(tags=["profile"], responses=ERROR_RESPONSES)

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the profile as a PDF report"}
}


@router.get("/enterprises/{code}/profile", response_model=ProfileOut, responses=PDF_RESPONSE)
def read_profile(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
    depth: Annotated[
        Int, Query(ge=1, le=3, description="association links to follow")
    ] = service.ASSOCIATION_DEPTH,
    format: Annotated[
        str | None, Query(pattern="^pdf$", description="pdf: the credit report as a PDF")
    ] = None,
) -> Any:
    """The panoramic profile: identity, rating with reasons and trend, every category's
    current records, red and black lists, financing on the platform and associations —
    each part as the one access decision of this read entitles you to (the parts you may
    not see are listed under ``withheld`` with the reason). ``?format=pdf`` gives the
    credit report as a PDF with its number, time, viewer and basis printed on it."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    decision = enforce(
        session,
        consent_service.decide(
            session,
            actor=principal,
            subject=subject.credit_code,
            purpose=purpose,
            letter_id=letter,
            channel="api:profile.pdf" if format == "pdf" else "api:profile",
        ),
    )
    locale = current_locale()
    profile = service.build(session, decision, principal=principal, locale=locale, depth=depth)
    if format != "pdf":
        return profile
    body = service.pdf_of(session, profile, locale=locale)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{profile.report_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
