"""Pages of subject rights: the enterprise's "my credit rights" (its objections and the form
to file one), the department's objection inbox and the operator's queue with deadlines and
figures; one objection with its history, proof and the moves the caller may make.

The work is ``rights.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from xinyidai.core import clock
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.i18n import current_locale
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.records.models import NoteKind
from xinyidai.rights.models import (
    OBJECTION_STATE_LABELS,
    REPAIR_STATE_LABELS,
    DocumentOwner,
    ObjectionTarget,
    SelfQueryChannel,
)
from xinyidai.rights.schemas import ObjectionIn, RepairIn, RepairOut, RestructuringIn
from xinyidai.rights.service import (
    documents,
    notices,
    objections,
    repairs,
    restructuring,
    self_query,
    self_reports,
)
from xinyidai.web.auth import CheckedForm, portal_roles
from xinyidai.web.consent_pages import LABELS as CONSENT_LABELS
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/rights", include_in_schema=False)

RightsParty = Annotated[
    Principal,
    Depends(portal_roles(OrgKind.OPERATOR, OrgKind.PROVIDER, OrgKind.ENTERPRISE)),
]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PAGE_SIZE = 20

TARGETS = {
    ObjectionTarget.RECORD: N_("A whole record"),
    ObjectionTarget.FIELD: N_("One field of a record"),
    ObjectionTarget.RATING: N_("The platform rating"),
}
MOVES = {
    "submit": N_("Filed"),
    "accept": N_("Accept"),
    "decline": N_("Decline as out of scope"),
    "verify": N_("Start verifying"),
    "correct": N_("Correct the record"),
    "uphold": N_("Uphold the record"),
    "escalate": N_("Escalate to the operator"),
    "close": N_("Close"),
}
REPAIR_MOVES = {
    "apply": N_("Applied"),
    "refer": N_("Refer to the source department"),
    "concur": N_("Concur"),
    "approve": N_("Approve the repair"),
    "reject": N_("Reject"),
}
LABELS = {
    "objection_states": OBJECTION_STATE_LABELS,
    "targets": TARGETS,
    "move_labels": MOVES,
    "repair_states": REPAIR_STATE_LABELS,
    "repair_moves": REPAIR_MOVES,
}


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, **LABELS, **context)


def _uploads(form: FormData, name: str = "files") -> list[documents.Upload]:
    limit = documents.limit_bytes()
    found = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            found.append(
                documents.Upload(
                    filename=item.filename or "document",
                    content_type=item.content_type or "application/octet-stream",
                    content=item.file.read(limit + 1),
                )
            )
    return found


def _list(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    state: str,
    overdue: bool,
    page: int,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    try:
        stmt = objections.objections_statement(principal, state=state or None, overdue=overdue)
    except XydError:
        stmt = objections.objections_statement(principal)
        state = ""
    rows = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE), objections.out)
    repair_rows = page_of(
        session,
        repairs.repairs_statement(principal),
        PageRequest(page=1, size=PAGE_SIZE),
        RepairOut.model_validate,
    )
    operator = principal.organization_kind == OrgKind.OPERATOR
    inbox = page_of(session, notices.inbox_statement(principal), PageRequest(page=1, size=10))
    return _page(
        request,
        "rights/objections.html",
        status=status,
        rows=rows,
        repairs=repair_rows,
        repair_counts=repairs.counts(session) if operator else None,
        state=state,
        overdue=overdue,
        figures=objections.figures(session) if operator else None,
        inbox=[notices.out(n) for n in inbox.items],
        form=form or FormState(),
        objection_days=get_settings().rights.objection_days,
        self_query_free=get_settings().rights.self_query_free,
        reports=page_of(
            session,
            self_reports.statement(principal),
            PageRequest(page=1, size=PAGE_SIZE),
            lambda row: self_reports.out(session, row),
        ),
        today=clock.today(),
    )


@router.get("")
def rights_page(
    request: Request,
    session: SessionDep,
    principal: RightsParty,
    state: Annotated[str, Query(max_length=20)] = "",
    overdue: bool = False,
    record_id: Annotated[str, Query(max_length=32)] = "",
    field: Annotated[str, Query(max_length=40)] = "",
    page: PageNumber = 1,
) -> Response:
    """The enterprise's objections and the form to file one (filled in from its profile's
    record link), the department's inbox, the operator's queue with deadlines."""
    values = {"record_id": record_id, "field": field}
    values["target"] = (
        ObjectionTarget.FIELD if field else ObjectionTarget.RECORD if record_id else ""
    )
    return _list(
        request,
        session,
        principal,
        state=state,
        overdue=overdue,
        page=page,
        form=FormState(values=values),
    )


@router.post("/objections")
def file_objection(
    request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """The enterprise files an objection with its proof."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        target = text(form, "target")
        if target not in set(ObjectionTarget):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="target",
                value=target,
                allowed=", ".join(ObjectionTarget),
            )
        wrong, asked = text(form, "wrong"), text(form, "correction_asked")
        if not wrong:
            raise ValidationFailed("say what is wrong", field="wrong")
        if not asked:
            raise ValidationFailed("say what correction you ask for", field="correction_asked")
        row = objections.file(
            session,
            principal=principal,
            data=ObjectionIn(
                target=ObjectionTarget(target),
                record_id=text(form, "record_id") or None,
                field=text(form, "field") or None,
                wrong=wrong[:5000],
                correction_asked=asked[:5000],
            ),
            uploads=_uploads(form),
        )
    except XydError as error:
        session.rollback()
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse(f"/rights/objections/{row.public_id}", status_code=303)


def _objection(
    request: Request,
    session: SessionDep,
    principal: Principal,
    objection_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    row = objections.visible_or_raise(session, principal=principal, objection_id=objection_id)
    detail = objections.detail(session, principal=principal, objection=row)
    return _page(
        request,
        "rights/objection.html",
        status=status,
        o=detail,
        form=form or FormState(),
    )


@router.get("/objections/{objection_id}")
def objection_page(
    objection_id: str, request: Request, session: SessionDep, principal: RightsParty
) -> Response:
    """One objection with its history, its proof and the forms of the moves it allows."""
    return _objection(request, session, principal, objection_id)


@router.post("/objections/{objection_id}/move")
def objection_move(
    objection_id: str,
    request: Request,
    session: SessionDep,
    principal: RightsParty,
    form: CheckedForm,
) -> Response:
    """One step of the handling from the objection's page; a correction names one field
    and its corrected value."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        row = objections.visible_or_raise(
            session, principal=principal, objection_id=objection_id, lock=True
        )
        name = text(form, "move")
        data = None
        if name == "correct" and row.record_id is not None:
            field = text(form, "field") or (row.field or "")
            if not field:
                raise ValidationFailed("name the field to correct", field="field")
            data = {field: text(form, "value")}
        objections.move(
            session,
            principal=principal,
            objection=row,
            name=name,
            reason=text(form, "reason") or None,
            data=data,
        )
    except XydError as error:
        session.rollback()
        return _objection(
            request, session, principal, objection_id, form=state.fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/rights/objections/{objection_id}", status_code=303)


@router.get("/objections/{objection_id}/documents/{document_id}")
def objection_document(
    objection_id: str, document_id: str, session: SessionDep, principal: RightsParty
) -> Response:
    """A proof document, to the objection's parties, as a download."""
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


# --------------------------------------------------------------------------- credit repair


@router.post("/repairs")
def apply_for_repair(
    request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """The enterprise applies to repair a negative record, with the commitment and documents."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        statement = text(form, "statement")
        if not statement:
            raise ValidationFailed("say how the record was put right", field="statement")
        row = repairs.apply(
            session,
            principal=principal,
            data=RepairIn(
                record_id=text(form, "repair_record_id")[:32] or "-",
                statement=statement[:5000],
                commitment_signed=text(form, "commitment_signed") == "yes",
            ),
            uploads=_uploads(form, "repair_files"),
        )
    except XydError as error:
        session.rollback()
        if error.field == "record_id":
            error.field = "repair_record_id"
        elif error.field == "files":
            error.field = "repair_files"
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse(f"/rights/repairs/{row.public_id}", status_code=303)


def _repair(
    request: Request,
    session: SessionDep,
    principal: Principal,
    repair_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    row = repairs.visible_or_raise(session, principal=principal, repair_id=repair_id)
    return _page(
        request,
        "rights/repair.html",
        status=status,
        r=repairs.detail(session, principal=principal, repair=row),
        rule=repairs.rules().get(row.category),
        form=form or FormState(),
    )


@router.get("/repairs/{repair_id}")
def repair_page(
    repair_id: str, request: Request, session: SessionDep, principal: RightsParty
) -> Response:
    """One repair application with its history, documents and the moves it allows."""
    return _repair(request, session, principal, repair_id)


@router.post("/repairs/{repair_id}/move")
def repair_move(
    repair_id: str,
    request: Request,
    session: SessionDep,
    principal: RightsParty,
    form: CheckedForm,
) -> Response:
    """One step of the review from the application's page."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        row = repairs.visible_or_raise(session, principal=principal, repair_id=repair_id, lock=True)
        repairs.move(
            session,
            principal=principal,
            repair=row,
            name=text(form, "move"),
            reason=text(form, "reason") or None,
        )
    except XydError as error:
        session.rollback()
        return _repair(
            request, session, principal, repair_id, form=state.fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/rights/repairs/{repair_id}", status_code=303)


@router.get("/repairs/{repair_id}/documents/{document_id}")
def repair_document(
    repair_id: str, document_id: str, session: SessionDep, principal: RightsParty
) -> Response:
    """A document of a repair application, to its parties, as a download."""
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


@router.post("/self-query")
def run_self_query(
    request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """A free self-query: the enterprise's own, or the counter's for a walk-in enterprise
    (its code and the identity check); the full report, the rating and who looked."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        row, decision = self_query.run(
            session,
            principal=principal,
            credit_code=text(form, "credit_code") or None,
            identity_check=text(form, "identity_check") or None,
            channel=SelfQueryChannel.PORTAL,
        )
        found = self_query.full_report(
            session, principal=principal, row=row, decision=decision, locale=current_locale()
        )
    except XydError as error:
        session.rollback()
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return _page(
        request, "rights/self_query.html", found=found, report=found.report, L=CONSENT_LABELS
    )


# --------------------------------------------------------------------------- self-reporting


@router.post("/self-reports")
def self_report(
    request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """The enterprise reports an item about itself, with proof."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        self_reports.report(
            session,
            principal=principal,
            item=text(form, "item"),
            content=text(form, "content"),
            uploads=_uploads(form, "report_files"),
        )
    except XydError as error:
        session.rollback()
        if error.field == "files":
            error.field = "report_files"
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse("/rights#self-reports", status_code=303)


@router.post("/self-reports/{report_id}/confirm")
def confirm_self_report(
    report_id: str, request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """A department confirms a self-reported item."""
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        row = self_reports.get_or_raise(session, principal=principal, report_id=report_id)
        self_reports.confirm(session, principal=principal, reported=row)
    except XydError as error:
        session.rollback()
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=FormState().fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse("/rights#self-reports", status_code=303)


# --------------------------------------------------------------------------- restructuring


@router.post("/restructurings")
def record_restructuring(
    request: Request, session: SessionDep, principal: RightsParty, form: CheckedForm
) -> Response:
    """The operator records a court's restructuring decision on an enterprise."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        try:
            decided_on = date.fromisoformat(text(form, "decided_on"))
        except ValueError:
            raise ValidationFailed("must be a date (YYYY-MM-DD)", field="decided_on") from None
        kind = text(form, "kind")
        if kind not in set(NoteKind):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="kind",
                value=kind,
                allowed=", ".join(NoteKind),
            )
        source = text(form, "source")
        if not source:
            raise ValidationFailed("name the court", field="source")
        restructuring.record(
            session,
            principal=principal,
            data=RestructuringIn(
                credit_code=text(form, "credit_code")[:18],
                kind=NoteKind(kind),
                decided_on=decided_on,
                source=source[:200],
                text=text(form, "text")[:2000],
            ),
        )
    except XydError as error:
        session.rollback()
        return _list(
            request,
            session,
            principal,
            state="",
            overdue=False,
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse("/rights", status_code=303)
