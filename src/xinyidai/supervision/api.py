"""JSON API of supervision, under ``/api/v1/supervision``: the confidentiality agreement
and its signatures, the security checklist, assessments (the institution fills in, the
operator reviews and decides), the operator's table of institutions, and findings."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.blobs import Upload
from xinyidai.core.errors import Forbidden
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import AnyUser, CurrentUser, OperatorUser, OperatorWriter, check_active
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.supervision.models import Assessment
from xinyidai.supervision.schemas import (
    AgreementIn,
    AgreementOut,
    AnswerOut,
    AssessmentDetailOut,
    AssessmentOut,
    ChecklistItemIn,
    ChecklistItemOut,
    DecisionIn,
    FindingIn,
    FindingMoveIn,
    FindingOut,
    ReviewIn,
    SignatureOut,
    SignIn,
    StandingOut,
)
from xinyidai.supervision.service import agreements, assessments, checklist, findings, standing

router = APIRouter(prefix="/supervision", tags=["supervision"], responses=ERROR_RESPONSES)


def institution_or_operator(principal: AnyUser) -> Principal:
    """The operator (approved), or a member of an institution in any state: an applicant
    signs the agreement and is assessed before it is approved."""
    if principal.organization_kind == OrgKind.OPERATOR:
        check_active(principal)
        return principal
    if principal.organization_kind != OrgKind.INSTITUTION:
        check_active(principal)  # a pending enterprise hears that it is pending
        raise Forbidden("your organization may not do this", error_code="forbidden")
    return principal


Member = Annotated[Principal, Depends(institution_or_operator)]


def institution_member(principal: Member) -> Principal:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution does this", error_code="forbidden")
    return principal


Institution = Annotated[Principal, Depends(institution_member)]


def detail(session: SessionDep, row: Assessment) -> AssessmentDetailOut:
    return AssessmentDetailOut.model_validate(
        {
            **AssessmentOut.model_validate(row).model_dump(),
            "answers": [AnswerOut.model_validate(a) for a in assessments.answers_of(session, row)],
        }
    )


# --------------------------------------------------------------------------- the agreement


@router.get("/agreement", response_model=AgreementOut)
def agreement_in_force(session: SessionDep, principal: Member) -> AgreementOut:
    """The confidentiality agreement in force, to sign."""
    return AgreementOut.model_validate(agreements.in_force_or_raise(session))


@router.get("/agreement/versions", response_model=Page[AgreementOut])
def agreement_versions(
    session: SessionDep, principal: OperatorUser, paging: PageDep
) -> Page[AgreementOut]:
    """Every version, newest first (operator)."""
    return page_of(session, agreements.versions_statement(), paging, AgreementOut.model_validate)


@router.post("/agreement", response_model=AgreementOut, status_code=201)
def publish_agreement(
    data: AgreementIn, session: SessionDep, principal: OperatorWriter
) -> AgreementOut:
    """A new version (operator): institutions that signed an older one must sign it within
    the grace period, or their reads are held back."""
    row = agreements.publish(session, principal=principal, title=data.title, body=data.body)
    return AgreementOut.model_validate(row)


@router.post("/agreement/signatures", response_model=SignatureOut, status_code=201)
def sign_agreement(data: SignIn, session: SessionDep, principal: Institution) -> SignatureOut:
    """The institution signs the version in force (recorded once, and in the ledger)."""
    row = agreements.sign(session, principal=principal, version=data.version, accept=data.accept)
    return SignatureOut.model_validate(row)


@router.get("/agreement/signatures", response_model=Page[SignatureOut])
def list_signatures(
    session: SessionDep,
    principal: Member,
    paging: PageDep,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[SignatureOut]:
    """Signatures: all for the operator (or one institution's), an institution its own."""
    if principal.organization_kind != OrgKind.OPERATOR:
        organization_id = principal.organization_public_id
    return page_of(
        session,
        agreements.signatures_statement(organization_id=organization_id),
        paging,
        SignatureOut.model_validate,
    )


# --------------------------------------------------------------------------- the checklist


@router.get("/checklist", response_model=list[ChecklistItemOut])
def read_checklist(
    session: SessionDep,
    principal: Member,
    all_items: Annotated[bool, Query(alias="all", description="retired items too")] = False,
) -> list[ChecklistItemOut]:
    """The security checklist in its order."""
    return [
        ChecklistItemOut.model_validate(i)
        for i in checklist.items(session, active_only=not all_items)
    ]


@router.post("/checklist", response_model=ChecklistItemOut)
def save_checklist_item(
    data: ChecklistItemIn, session: SessionDep, principal: OperatorWriter
) -> ChecklistItemOut:
    """Add an item or change one by its code (operator); retire one with ``active`` false."""
    return ChecklistItemOut.model_validate(checklist.save(session, principal=principal, data=data))


# --------------------------------------------------------------------------- assessments


@router.get("/assessments", response_model=Page[AssessmentOut])
def list_assessments(
    session: SessionDep,
    principal: Member,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
) -> Page[AssessmentOut]:
    """Assessments, newest first: all for the operator, its own for an institution."""
    return page_of(
        session, assessments.statement(principal, state=state), paging, AssessmentOut.model_validate
    )


@router.get("/assessments/queue", response_model=Page[AssessmentOut])
def assessment_queue(
    session: SessionDep, principal: OperatorUser, paging: PageDep
) -> Page[AssessmentOut]:
    """The operator's queue: submitted assessments, oldest first."""
    return page_of(session, assessments.queue_statement(), paging, AssessmentOut.model_validate)


@router.post("/assessments", response_model=AssessmentOut, status_code=201)
def start_assessment(session: SessionDep, principal: Institution) -> AssessmentOut:
    """The institution opens an assessment to fill in (one open at a time)."""
    return AssessmentOut.model_validate(assessments.start(session, principal=principal))


@router.get("/assessments/{assessment_id}", response_model=AssessmentDetailOut)
def read_assessment(
    assessment_id: str, session: SessionDep, principal: Member
) -> AssessmentDetailOut:
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    return detail(session, row)


@router.post("/assessments/{assessment_id}/answers", response_model=AnswerOut)
def answer_item(
    assessment_id: str,
    session: SessionDep,
    principal: Institution,
    item_code: Annotated[str, Form(max_length=40)],
    statement: Annotated[str, Form(max_length=assessments.STATEMENT_MAX)],
    evidence: Annotated[UploadFile | None, File(description="PDF, PNG, JPEG or OFD")] = None,
) -> AnswerOut:
    """Answer one checklist item with its evidence (again, while a draft)."""
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    upload = None
    if evidence is not None:
        upload = Upload(
            filename=evidence.filename or "evidence",
            content_type=evidence.content_type or "application/octet-stream",
            content=evidence.file.read(assessments.limit_bytes() + 1),
        )
    answer = assessments.answer(
        session,
        principal=principal,
        assessment=row,
        item_code=item_code,
        statement=statement,
        evidence=upload,
    )
    return AnswerOut.model_validate(answer)


@router.get("/assessments/{assessment_id}/answers/{item_code}/evidence")
def read_evidence(
    assessment_id: str, item_code: str, session: SessionDep, principal: Member
) -> Response:
    """An answer's evidence, to its institution and the operator (a download, never shown)."""
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    answer, path = assessments.evidence_path(session, assessment=row, item_code=item_code)
    name = quote(answer.evidence_name or "evidence", safe="")
    return Response(
        path.read_bytes(),
        media_type=answer.evidence_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/assessments/{assessment_id}/submit", response_model=AssessmentOut)
def submit_assessment(
    assessment_id: str, session: SessionDep, principal: Institution
) -> AssessmentOut:
    """Hand the assessment in: every required item answered with evidence."""
    row = assessments.visible_or_raise(session, principal=principal, assessment_id=assessment_id)
    return AssessmentOut.model_validate(
        assessments.submit(session, principal=principal, assessment=row)
    )


@router.post("/assessments/{assessment_id}/reviews", response_model=AnswerOut)
def review_item(
    assessment_id: str, data: ReviewIn, session: SessionDep, principal: OperatorWriter
) -> AnswerOut:
    """The operator's verdict and score on one item."""
    row = assessments.get_or_raise(session, assessment_id=assessment_id)
    return AnswerOut.model_validate(
        assessments.review(session, principal=principal, assessment=row, data=data)
    )


@router.post("/assessments/{assessment_id}/decision", response_model=AssessmentOut)
def decide_assessment(
    assessment_id: str, data: DecisionIn, session: SessionDep, principal: OperatorWriter
) -> AssessmentOut:
    """pass (a level, conditions, an expiry), fail (a reason), or return for more."""
    row = assessments.get_or_raise(session, assessment_id=assessment_id, lock=True)
    return AssessmentOut.model_validate(
        assessments.decide(session, principal=principal, assessment=row, data=data)
    )


# --------------------------------------------------------------------------- institutions


@router.get("/institutions", response_model=Page[StandingOut])
def institutions(
    session: SessionDep, principal: OperatorUser, paging: PageDep
) -> Page[StandingOut]:
    """Every institution with its level, expiry, agreement, hold and open findings."""
    return standing.page(session, paging)


# --------------------------------------------------------------------------- findings


@router.get("/findings", response_model=Page[FindingOut])
def list_findings(
    session: SessionDep,
    principal: Member,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
) -> Page[FindingOut]:
    """Findings, newest first: all for the operator, its own for an institution."""
    return page_of(
        session, findings.statement(principal, state=state), paging, FindingOut.model_validate
    )


@router.post("/findings", response_model=FindingOut, status_code=201)
def open_finding(data: FindingIn, session: SessionDep, principal: OperatorWriter) -> FindingOut:
    """A finding for a misuse the operator confirmed in the access log."""
    return FindingOut.model_validate(findings.open_misuse(session, principal=principal, data=data))


@router.post("/findings/scan", response_model=list[FindingOut])
def scan_flags(session: SessionDep, principal: OperatorWriter) -> list[FindingOut]:
    """Open a finding for each new flag the access log raises against an institution."""
    return [FindingOut.model_validate(f) for f in findings.open_from_flags(session)]


@router.get("/findings/{finding_id}", response_model=FindingOut)
def read_finding(finding_id: str, session: SessionDep, principal: Member) -> FindingOut:
    return FindingOut.model_validate(
        findings.visible_or_raise(session, principal=principal, finding_id=finding_id)
    )


@router.post("/findings/{finding_id}/transitions", response_model=FindingOut)
def move_finding(
    finding_id: str, data: FindingMoveIn, session: SessionDep, principal: CurrentUser
) -> FindingOut:
    """explain (the institution), remedy or sanction (the operator)."""
    row = findings.visible_or_raise(session, principal=principal, finding_id=finding_id)
    return FindingOut.model_validate(
        findings.move(session, principal=principal, finding=row, data=data)
    )
