"""Pages of supervision:
- the institution (approved or still applying): the confidentiality agreement to sign, its
  security assessment to fill in with evidence and hand in, its standing and its findings
  to explain;
- the operator: the institutions by level with their expiries and holds, the queue of
  assessments to review, each assessment reviewed item by item and decided, the findings.
The work is ``supervision.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from xinyidai.core import clock
from xinyidai.core.api import SessionDep
from xinyidai.core.blobs import Upload
from xinyidai.core.bounds import check_int
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.supervision.models import AssessmentState, FindingState, Level, Sanction, Verdict
from xinyidai.supervision.schemas import DecisionIn, FindingMoveIn, ReviewIn
from xinyidai.supervision.service import agreements, assessments, checklist, findings, standing
from xinyidai.web.auth import CheckedForm, PortalForbidden, PortalUser
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/supervision", include_in_schema=False)
PAGE_SIZE = 20
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
ASSESSMENT_STATES = {
    AssessmentState.DRAFT: N_("Being filled in"),
    AssessmentState.SUBMITTED: N_("Waiting for review"),
    AssessmentState.PASSED: N_("Passed"),
    AssessmentState.FAILED: N_("Failed"),
    AssessmentState.LAPSED: N_("Lapsed"),
    AssessmentState.SUPERSEDED: N_("Superseded"),
}
FINDING_STATES = {
    FindingState.OPEN: N_("Open"),
    FindingState.EXPLAINED: N_("Explained"),
    FindingState.REMEDIED: N_("Remedied"),
    FindingState.SANCTIONED: N_("Sanctioned"),
}
HOLDS = {
    "agreement_unsigned": N_("Agreement not signed"),
    "agreement_lapsed": N_("New agreement not signed in time"),
    "assessment_missing": N_("No passed assessment"),
    "assessment_lapsed": N_("Assessment expired"),
}
SANCTIONS = {
    Sanction.WARNING: N_("Warning"),
    Sanction.LOWER_LEVEL: N_("Lower the level"),
    Sanction.SUSPEND: N_("Suspend the institution"),
}
LABELS = {
    "assessment_states": ASSESSMENT_STATES,
    "finding_states": FINDING_STATES,
    "holds": HOLDS,
    "sanctions": SANCTIONS,
    "levels": tuple(Level),
    "AssessmentState": AssessmentState,
    "FindingState": FindingState,
    "Verdict": Verdict,
}


def supervised(principal: PortalUser) -> Principal:
    """The operator (approved), or a member of an institution in any state but rejected:
    an applicant signs and is assessed before it is approved."""
    if principal.organization_kind == OrgKind.OPERATOR:
        if principal.organization_state != OrgState.ACTIVE:
            raise PortalForbidden(
                "your organization's access is {state}", state=principal.organization_state
            )
        return principal
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise PortalForbidden()
    if principal.organization_state == OrgState.REJECTED:
        raise PortalForbidden(
            "your organization's access is {state}", state=principal.organization_state
        )
    return principal


Supervised = Annotated[Principal, Depends(supervised)]


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, **LABELS, **context)


def _int(value: str, field: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValidationFailed("must be a whole number", field=field) from None
    return check_int(number, field=field, low=low, high=high)


def _upload(form: FormData, name: str) -> Upload | None:
    item = form.get(name)
    if isinstance(item, UploadFile) and (item.filename or item.size):
        return Upload(
            filename=item.filename or "evidence",
            content_type=item.content_type or "application/octet-stream",
            content=item.file.read(assessments.limit_bytes() + 1),
        )
    return None


def _institution_context(session: SessionDep, principal: Principal) -> dict[str, Any]:
    own = principal.organization_public_id
    clearance = iam_service.clearance.clearance_of(
        session, organization_id=principal.organization_id
    )
    current = assessments.open_of(session, organization_id=own)
    standing_of = assessments.standing(session, organization_id=own)
    return {
        "agreement": agreements.in_force(session),
        "signed": agreements.signed_current(session, organization_id=own),
        "clearance": clearance,
        "hold": iam_service.clearance.hold_of(clearance, now=clock.now(), today=clock.today()),
        "current": current,
        "answers": {a.item_code: a for a in assessments.answers_of(session, current)}
        if current
        else {},
        "items": checklist.items(session),
        "standing": standing_of,
        "renewal_due": assessments.renewal_due(standing_of, clock.today()),
        "past": page_of(session, assessments.statement(principal), PageRequest(size=PAGE_SIZE)),
        "findings": page_of(session, findings.statement(principal), PageRequest(size=PAGE_SIZE)),
    }


def _operator_context(session: SessionDep, page: int) -> dict[str, Any]:
    return {
        "institutions": standing.page(session, PageRequest(page=page, size=PAGE_SIZE)),
        "queue": page_of(session, assessments.queue_statement(), PageRequest(size=PAGE_SIZE)),
        "due": list(
            session.scalars(
                assessments.due_statement(today=clock.today(), within_days=30).limit(PAGE_SIZE)
            )
        ),
        "open_findings": page_of(session, findings.open_statement(), PageRequest(size=PAGE_SIZE)),
    }


def _overview(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
    page: int = 1,
) -> Response:
    if principal.organization_kind == OrgKind.OPERATOR:
        return _page(
            request,
            "supervision/operator.html",
            status=status,
            form=form or FormState(),
            **_operator_context(session, page),
        )
    return _page(
        request,
        "supervision/institution.html",
        status=status,
        form=form or FormState(),
        **_institution_context(session, principal),
    )


@router.get("")
def overview(
    request: Request, session: SessionDep, principal: Supervised, page: PageNumber = 1
) -> Response:
    """The institution's agreement, assessment and findings; the operator's table."""
    return _overview(request, session, principal, page=page)


def _failed(
    request: Request, session: SessionDep, principal: Principal, form: CheckedForm, error: XydError
) -> Response:
    session.rollback()
    return _overview(
        request,
        session,
        principal,
        form=FormState.from_form(form).fail(error),
        status=error.status,
    )


@router.post("/agreement/sign")
def sign_agreement(
    request: Request, session: SessionDep, principal: Supervised, form: CheckedForm
) -> Response:
    try:
        agreements.sign(
            session,
            principal=principal,
            version=_int(text(form, "version"), "version", 1, 100_000),
            accept=text(form, "accept") == "yes",
        )
    except XydError as error:
        return _failed(request, session, principal, form, error)
    session.commit()
    return RedirectResponse("/supervision", status_code=303)


@router.post("/assessments")
def start_assessment(
    request: Request, session: SessionDep, principal: Supervised, form: CheckedForm
) -> Response:
    try:
        assessments.start(session, principal=principal)
    except XydError as error:
        return _failed(request, session, principal, form, error)
    session.commit()
    return RedirectResponse("/supervision", status_code=303)


@router.post("/assessments/{assessment_id}/answers")
def answer_item(
    assessment_id: str,
    request: Request,
    session: SessionDep,
    principal: Supervised,
    form: CheckedForm,
) -> Response:
    try:
        row = assessments.visible_or_raise(
            session, principal=principal, assessment_id=assessment_id
        )
        assessments.answer(
            session,
            principal=principal,
            assessment=row,
            item_code=text(form, "item_code"),
            statement=text(form, "statement"),
            evidence=_upload(form, "evidence"),
        )
    except XydError as error:
        return _failed(request, session, principal, form, error)
    session.commit()
    return RedirectResponse("/supervision", status_code=303)


@router.post("/assessments/{assessment_id}/submit")
def submit_assessment(
    assessment_id: str,
    request: Request,
    session: SessionDep,
    principal: Supervised,
    form: CheckedForm,
) -> Response:
    try:
        row = assessments.visible_or_raise(
            session, principal=principal, assessment_id=assessment_id
        )
        assessments.submit(session, principal=principal, assessment=row)
    except XydError as error:
        return _failed(request, session, principal, form, error)
    session.commit()
    return RedirectResponse("/supervision", status_code=303)


def _assessment_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    assessment_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    return _page(
        request,
        "supervision/assessment.html",
        status=status,
        form=form or FormState(),
        assessment=row,
        items=checklist.items(session, active_only=False),
        answers={a.item_code: a for a in assessments.answers_of(session, row)},
        history=assessments.history(session, assessment=row),
    )


@router.get("/assessments/{assessment_id}")
def assessment_page(
    assessment_id: str, request: Request, session: SessionDep, principal: Supervised
) -> Response:
    """One assessment: its answers with evidence; the operator reviews and decides here."""
    return _assessment_page(request, session, principal, assessment_id)


@router.get("/assessments/{assessment_id}/evidence/{item_code}")
def evidence(
    assessment_id: str, item_code: str, session: SessionDep, principal: Supervised
) -> Response:
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    answer, path = assessments.evidence_path(session, assessment=row, item_code=item_code)
    return Response(
        path.read_bytes(),
        media_type=answer.evidence_type or "application/octet-stream",
        headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/assessments/{assessment_id}/review")
def review_item(
    assessment_id: str,
    request: Request,
    session: SessionDep,
    principal: Supervised,
    form: CheckedForm,
) -> Response:
    try:
        row = assessments.get_or_raise(session, assessment_id=assessment_id)
        assessments.review(
            session,
            principal=principal,
            assessment=row,
            data=ReviewIn(
                item_code=text(form, "item_code") or "-",
                verdict=text(form, "verdict"),
                score=_int(text(form, "score"), "score", 0, 100),
                remark=text(form, "remark") or None,
            ),
        )
    except XydError as error:
        session.rollback()
        state = FormState.from_form(form).fail(error)
        return _assessment_page(
            request, session, principal, assessment_id, form=state, status=error.status
        )
    session.commit()
    return RedirectResponse(f"/supervision/assessments/{assessment_id}", status_code=303)


@router.post("/assessments/{assessment_id}/decide")
def decide_assessment(
    assessment_id: str,
    request: Request,
    session: SessionDep,
    principal: Supervised,
    form: CheckedForm,
) -> Response:
    try:
        row = assessments.get_or_raise(session, assessment_id=assessment_id, lock=True)
        days = text(form, "valid_days")
        assessments.decide(
            session,
            principal=principal,
            assessment=row,
            data=DecisionIn(
                outcome=text(form, "outcome"),
                level=text(form, "level") or None,
                conditions=text(form, "conditions") or None,
                valid_days=_int(days, "valid_days", 30, 1095) if days else None,
                reason=text(form, "reason") or None,
            ),
        )
    except XydError as error:
        session.rollback()
        state = FormState.from_form(form).fail(error)
        return _assessment_page(
            request, session, principal, assessment_id, form=state, status=error.status
        )
    session.commit()
    return RedirectResponse(f"/supervision/assessments/{assessment_id}", status_code=303)


@router.post("/findings/{finding_id}/move")
def move_finding(
    finding_id: str,
    request: Request,
    session: SessionDep,
    principal: Supervised,
    form: CheckedForm,
) -> Response:
    try:
        row = findings.visible_or_raise(session, principal=principal, finding_id=finding_id)
        findings.move(
            session,
            principal=principal,
            finding=row,
            data=FindingMoveIn(
                transition=text(form, "transition"),
                reason=text(form, "reason") or None,
                sanction=text(form, "sanction") or None,
            ),
        )
    except XydError as error:
        return _failed(request, session, principal, form, error)
    session.commit()
    return RedirectResponse("/supervision", status_code=303)
