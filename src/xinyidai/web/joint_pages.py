"""Joint-modelling pages: the institution asks threshold questions (yes or no, never the
value) and reads its answers and alignments; the operator reads every alignment.

The work is the joint service's (``joint.service``): the limit, the access decision, the
answer. These routes parse, check the role and render; a refused decision's access event
is committed before the refusal is shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from xinyidai.core.api import SessionDep
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import Forbidden, XydError
from xinyidai.core.pagination import Page, PageRequest, page_of, page_of_list
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.joint import service
from xinyidai.joint.models import ThresholdQuestion
from xinyidai.web.auth import CheckedForm, PortalForbidden, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/joint", include_in_schema=False)

JointReader = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION, OrgKind.OPERATOR))]
PAGE_SIZE = 20
QUESTION_LABELS = {
    ThresholdQuestion.TAX_PAID_LAST_YEAR: N_("Tax paid in the latest year at least (yuan)"),
    ThresholdQuestion.INSURED_HEADCOUNT: N_("Social-insurance headcount at least"),
    ThresholdQuestion.NO_ARREARS: N_("No arrears (tax, insurance, housing fund, utilities)"),
    ThresholdQuestion.REGISTERED_CAPITAL: N_("Registered capital at least (yuan)"),
}


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    page: int = 1,
    form: FormState | None = None,
    answer: Any = None,
    status: int = 200,
) -> Response:
    paging = PageRequest(page=page, size=PAGE_SIZE)
    answers: Page[Any] = page_of_list([], paging)
    if principal.organization_kind == OrgKind.INSTITUTION:
        answers = page_of(
            session, service.answers_of(organization_id=principal.organization_public_id), paging
        )
    alignments = page_of(
        session, service.alignments_statement(actor=principal), PageRequest(page=1, size=PAGE_SIZE)
    )
    return render(
        request,
        "joint/index.html",
        status=status,
        answers=answers,
        alignments=alignments,
        form=form or FormState(),
        answer=answer,
        questions=list(ThresholdQuestion),
        question_labels=QUESTION_LABELS,
    )


@router.get("")
def joint_page(
    request: Request,
    session: SessionDep,
    principal: JointReader,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Threshold answers and alignments: the institution's own; every alignment for the
    operator."""
    return _page(request, session, principal, page=page)


@router.post("/thresholds")
def ask_threshold(
    request: Request, session: SessionDep, principal: JointReader, form: CheckedForm
) -> Response:
    """Ask one threshold question (institution): the answer, or why not, on the page."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise PortalForbidden()
    if not principal.can_write:
        raise PortalForbidden("read-only members cannot change anything")
    state = FormState.from_form(form)

    def refuse(error: Forbidden) -> Forbidden:
        return commit_refusal(session, error)

    try:
        found = service.answer(
            session,
            actor=principal,
            credit_code=text(form, "credit_code"),
            question=text(form, "question"),
            threshold=text(form, "threshold").strip() or None,
            letter_id=text(form, "letter_id").strip() or None,
            on_refusal=refuse,
        )
    except XydError as exc:
        session.rollback()
        return _page(request, session, principal, form=state.fail(exc), status=exc.status)
    session.commit()
    return _page(request, session, principal, form=state, answer=found)
