"""JSON API of subject rights under ``/api/v1/rights``: objections and the rights inbox."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.i18n import current_locale
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.records.schemas import SubjectNoteOut
from xinyidai.rights.models import DocumentOwner, Objection, ObjectionTarget
from xinyidai.rights.schemas import (
    FiguresOut,
    MoveIn,
    NoticeOut,
    ObjectionDetailOut,
    ObjectionIn,
    ObjectionOut,
    RepairDetailOut,
    RepairIn,
    RepairOut,
    RepairRuleOut,
    RepairStepIn,
    RestructuringIn,
    SelfQueryIn,
    SelfQueryOut,
    SelfReportItem,
    SelfReportOut,
)
from xinyidai.rights.service import (
    documents,
    notices,
    objections,
    repairs,
    restructuring,
    self_query,
    self_reports,
)

router = APIRouter(prefix="/rights", tags=["rights"], responses=ERROR_RESPONSES)

EnterpriseWriter = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE, write=True))]
PartyWriter = Annotated[
    Principal,
    Depends(require_roles(OrgKind.ENTERPRISE, OrgKind.PROVIDER, OrgKind.OPERATOR, write=True)),
]


def read_uploads(files: list[UploadFile] | None) -> list[documents.Upload]:
    """The files as the service takes them, each read up to one byte past the limit (the
    service refuses a larger one, naming it)."""
    limit = documents.limit_bytes()
    return [
        documents.Upload(
            filename=file.filename or "document",
            content_type=file.content_type or "application/octet-stream",
            content=file.file.read(limit + 1),
        )
        for file in files or []
    ]


def _out(row: Objection) -> ObjectionOut:
    return objections.out(row)


@router.get("/objections", response_model=Page[ObjectionOut])
def list_objections(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
    overdue: Annotated[bool, Query(description="only open ones past their day")] = False,
) -> Page[ObjectionOut]:
    """Objections you are party to, the nearest deadline first: your enterprise's, those to
    your department's categories, every one for the operator."""
    stmt = objections.objections_statement(principal, state=state, overdue=overdue)
    return page_of(session, stmt, paging, _out)


@router.post("/objections", response_model=ObjectionDetailOut, status_code=201)
def file_objection(
    session: SessionDep,
    principal: EnterpriseWriter,
    target: Annotated[ObjectionTarget, Form(description="record, field or rating")],
    wrong: Annotated[str, Form(max_length=5000, description="what is wrong")],
    correction_asked: Annotated[str, Form(max_length=5000, description="the correction asked")],
    record_id: Annotated[str | None, Form(max_length=32, description="the record")] = None,
    field: Annotated[str | None, Form(max_length=40, description="the field")] = None,
    files: Annotated[
        list[UploadFile] | None, File(description="proof: PDF, PNG, JPEG, OFD")
    ] = None,
) -> ObjectionDetailOut:
    """Object to a record of your enterprise, one field of it, or its rating, with proof.
    It goes to the category's source department (the operator for the rating) and must be
    answered within ``rights.objection_days`` days; the record shows 「异议处理中」 meanwhile."""
    data = ObjectionIn(
        target=target,
        record_id=record_id or None,
        field=field or None,
        wrong=wrong,
        correction_asked=correction_asked,
    )
    row = objections.file(session, principal=principal, data=data, uploads=read_uploads(files))
    return objections.detail(session, principal=principal, objection=row)


@router.get("/objections/{objection_id}", response_model=ObjectionDetailOut)
def read_objection(
    objection_id: str, session: SessionDep, principal: CurrentUser
) -> ObjectionDetailOut:
    """One objection with its history (every step a ledger leaf) and proof documents."""
    row = objections.visible_or_raise(session, principal=principal, objection_id=objection_id)
    return objections.detail(session, principal=principal, objection=row)


@router.post("/objections/{objection_id}/moves", response_model=ObjectionDetailOut)
def move_objection(
    objection_id: str, data: MoveIn, session: SessionDep, principal: PartyWriter
) -> ObjectionDetailOut:
    """One step: the handler ``accept``s or ``decline``s (reason), ``verify``, then
    ``correct`` (the department sends the corrected values in ``data``: a new version of the
    record; the enterprise is re-rated), ``uphold`` (reason) or ``escalate`` to the operator
    (reason); the enterprise or the operator ``close``s an answered one."""
    row = objections.visible_or_raise(
        session, principal=principal, objection_id=objection_id, lock=True
    )
    objections.move(
        session,
        principal=principal,
        objection=row,
        name=data.move,
        reason=data.reason,
        data=data.data,
    )
    return objections.detail(session, principal=principal, objection=row)


@router.post("/objections/{objection_id}/documents", response_model=ObjectionDetailOut)
def add_objection_documents(
    objection_id: str,
    session: SessionDep,
    principal: EnterpriseWriter,
    files: Annotated[list[UploadFile], File(description="proof: PDF, PNG, JPEG, OFD")],
) -> ObjectionDetailOut:
    """The enterprise adds proof while its objection is open."""
    row = objections.visible_or_raise(
        session, principal=principal, objection_id=objection_id, lock=True
    )
    objections.add_documents(
        session, principal=principal, objection=row, uploads=read_uploads(files)
    )
    return objections.detail(session, principal=principal, objection=row)


@router.get("/objections/{objection_id}/documents/{document_id}")
def read_objection_document(
    objection_id: str, document_id: str, session: SessionDep, principal: CurrentUser
) -> Response:
    """One proof document, to the objection's parties (sent as a download, never shown)."""
    row = objections.visible_or_raise(session, principal=principal, objection_id=objection_id)
    doc, content = documents.read_or_raise(
        session, owner_kind=DocumentOwner.OBJECTION, owner_id=row.id, document_id=document_id
    )
    return Response(
        content,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/figures", response_model=FiguresOut)
def objection_figures(session: SessionDep, principal: OperatorUser) -> FiguresOut:
    """The operator's figures: objections received, answered, on time (per department),
    open and overdue."""
    return objections.figures(session)


@router.get("/notices", response_model=Page[NoticeOut])
def list_notices(session: SessionDep, principal: CurrentUser, paging: PageDep) -> Page[NoticeOut]:
    """Your organization's rights inbox, newest first: each step of its objections."""
    return page_of(session, notices.inbox_statement(principal), paging, notices.out)


# --------------------------------------------------------------------------- credit repair


@router.get("/repair-rules", response_model=list[RepairRuleOut])
def list_repair_rules(principal: CurrentUser) -> list[RepairRuleOut]:
    """The repair conditions per negative category: minimum public period (ordinary and
    serious), commitment, documents, whether the source department reviews."""
    return [rule.out() for rule in repairs.rules().values()]


@router.get("/repairs", response_model=Page[RepairOut])
def list_repairs(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
) -> Page[RepairOut]:
    """Repair applications you are party to, oldest first: your enterprise's, those your
    department reviews, every one for the operator."""
    stmt = repairs.repairs_statement(principal, state=state)
    return page_of(session, stmt, paging, RepairOut.model_validate)


@router.post("/repairs", response_model=RepairDetailOut, status_code=201)
def apply_for_repair(
    session: SessionDep,
    principal: EnterpriseWriter,
    record_id: Annotated[str, Form(max_length=32, description="the negative record")],
    statement: Annotated[str, Form(max_length=5000, description="how it was put right")],
    commitment_signed: Annotated[bool, Form(description="the credit commitment is signed")],
    files: Annotated[
        list[UploadFile] | None, File(description="documents: PDF, PNG, JPEG, OFD")
    ] = None,
) -> RepairDetailOut:
    """Apply to repair a negative record of your enterprise once its minimum public period
    has passed, with the commitment and the documents its category asks for."""
    data = RepairIn(record_id=record_id, statement=statement, commitment_signed=commitment_signed)
    row = repairs.apply(session, principal=principal, data=data, uploads=read_uploads(files))
    return repairs.detail(session, principal=principal, repair=row)


@router.get("/repairs/{repair_id}", response_model=RepairDetailOut)
def read_repair(repair_id: str, session: SessionDep, principal: CurrentUser) -> RepairDetailOut:
    """One repair application with its history and documents."""
    row = repairs.visible_or_raise(session, principal=principal, repair_id=repair_id)
    return repairs.detail(session, principal=principal, repair=row)


@router.post("/repairs/{repair_id}/moves", response_model=RepairDetailOut)
def move_repair(
    repair_id: str, data: RepairStepIn, session: SessionDep, principal: PartyWriter
) -> RepairDetailOut:
    """The operator ``refer``s to the source department (where the category says so), the
    department ``concur``s or ``reject``s, the operator ``approve``s or ``reject``s with the
    reason; on approval the record stops being disclosed and the enterprise is re-rated."""
    row = repairs.visible_or_raise(session, principal=principal, repair_id=repair_id, lock=True)
    repairs.move(session, principal=principal, repair=row, name=data.move, reason=data.reason)
    return repairs.detail(session, principal=principal, repair=row)


@router.get("/repairs/{repair_id}/documents/{document_id}")
def read_repair_document(
    repair_id: str, document_id: str, session: SessionDep, principal: CurrentUser
) -> Response:
    """One document of a repair application, to its parties, as a download."""
    row = repairs.visible_or_raise(session, principal=principal, repair_id=repair_id)
    doc, content = documents.read_or_raise(
        session, owner_kind=DocumentOwner.REPAIR, owner_id=row.id, document_id=document_id
    )
    return Response(
        content,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --------------------------------------------------------------------------- self-query

SelfQueryRunner = Annotated[
    Principal, Depends(require_roles(OrgKind.ENTERPRISE, OrgKind.OPERATOR, write=True))
]


@router.post("/self-queries", response_model=SelfReportOut, status_code=201)
def run_self_query(
    session: SessionDep, principal: SelfQueryRunner, data: SelfQueryIn | None = None
) -> SelfReportOut:
    """A free self-query: your enterprise's full report (every category and field), its
    rating with reasons and who looked at its data; counted per year (``rights.
    self_query_free`` free, no charge by default). The operator's counter runs one for a
    walk-in enterprise with ``credit_code`` and the ``identity_check`` it made. The PDF is
    ``/api/v1/enterprises/{code}/profile?format=pdf``."""
    body = data or SelfQueryIn()
    row, decision = self_query.run(
        session,
        principal=principal,
        credit_code=body.credit_code,
        identity_check=body.identity_check,
    )
    return self_query.full_report(
        session, principal=principal, row=row, decision=decision, locale=current_locale()
    )


@router.get("/self-queries", response_model=Page[SelfQueryOut])
def list_self_queries(
    session: SessionDep, principal: CurrentUser, paging: PageDep
) -> Page[SelfQueryOut]:
    """Your enterprise's self-queries, newest first (every one for the operator)."""
    return page_of(
        session,
        self_query.queries_statement(principal),
        paging,
        lambda row: self_query.out(session, row),
    )


# --------------------------------------------------------------------------- self-reporting

ProviderWriter = Annotated[Principal, Depends(require_roles(OrgKind.PROVIDER, write=True))]


@router.post("/self-reports", response_model=SelfReportItem, status_code=201)
def self_report(
    session: SessionDep,
    principal: EnterpriseWriter,
    item: Annotated[str, Form(max_length=200, description="the item (申报事项)")],
    content: Annotated[str, Form(max_length=5000, description="what is reported")],
    files: Annotated[
        list[UploadFile] | None, File(description="proof: PDF, PNG, JPEG, OFD")
    ] = None,
) -> SelfReportItem:
    """Report an item about your enterprise (category ``self_reported``), with proof; it
    is shown as self-reported in every view until a department confirms it."""
    row = self_reports.report(
        session, principal=principal, item=item, content=content, uploads=read_uploads(files)
    )
    return self_reports.out(session, row)


@router.get("/self-reports", response_model=Page[SelfReportItem])
def list_self_reports(
    session: SessionDep, principal: CurrentUser, paging: PageDep
) -> Page[SelfReportItem]:
    """Your enterprise's self-reports (every one for departments and the operator)."""
    return page_of(
        session,
        self_reports.statement(principal),
        paging,
        lambda row: self_reports.out(session, row),
    )


@router.post("/self-reports/{report_id}/confirmation", response_model=SelfReportItem)
def confirm_self_report(
    report_id: str, session: SessionDep, principal: ProviderWriter
) -> SelfReportItem:
    """A department confirms a self-reported item it checked."""
    row = self_reports.get_or_raise(session, principal=principal, report_id=report_id)
    self_reports.confirm(session, principal=principal, reported=row)
    return self_reports.out(session, row)


# --------------------------------------------------------------------------- restructuring


@router.post("/restructurings", response_model=SubjectNoteOut, status_code=201)
def record_restructuring(
    data: RestructuringIn, session: SessionDep, principal: OperatorWriter
) -> SubjectNoteOut:
    """The operator records a court's decision (破产重整): the reorganization approved, then
    its plan executed; shown beside the enterprise's records in every view and report. Once
    the plan is executed, ``rights.restructuring_policy`` decides whether the negatives from
    before the approval still count in the rating."""
    return restructuring.record(session, principal=principal, data=data)


@router.get("/restructurings/{credit_code}", response_model=list[SubjectNoteOut])
def list_restructurings(
    credit_code: str, session: SessionDep, principal: CurrentUser
) -> list[SubjectNoteOut]:
    """The restructuring notes on an enterprise (a court's published decisions)."""
    return restructuring.notes_for(session, principal=principal, credit_code=credit_code)
