"""Data pages: a provider uploads department files and follows its batches; the operator
sees every provider's batches and the quality of each feed.

The work is the ingestion service's (``ingest.files`` for uploads and rejection files, the
same the API uses); these routes parse the form, check who may see which batch, and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from xinyidai.catalog import service as catalog_service
from xinyidai.core import jobs
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.bounds import Int
from xinyidai.core.errors import NotFound, XydError
from xinyidai.core.i18n import gettext
from xinyidai.core.pagination import PageRequest, count_of, page_of
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import files
from xinyidai.ingest import service as ingest_service
from xinyidai.ingest.models import DONE, FAILED, QUEUED, RUNNING, Batch, Rejection
from xinyidai.web.auth import (
    CheckedForm,
    OperatorViewer,
    PageNotFound,
    PortalForbidden,
    portal_roles,
)
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/data", include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
REJECTIONS_PER_PAGE = 50
DOWNLOAD_FORMATS = ("csv", "xlsx")
UPLOAD_ACCEPT = ".csv,.txt,.tsv,.xlsx,.xls,.json,.jsonl,.ndjson"

BATCH_STATE_LABELS = {
    QUEUED: N_("Queued"),
    RUNNING: N_("Running"),
    DONE: N_("Done"),
    FAILED: N_("Failed"),
}
SOURCE_LABELS = {
    "upload": N_("File upload"),
    "file": N_("Command-line import"),
    "api": N_("API push"),
    "resubmit": N_("Resubmission"),
}
JOB_STATE_LABELS = {
    jobs.JobState.QUEUED: N_("waiting for a worker"),
    jobs.JobState.RUNNING: N_("being read"),
    jobs.JobState.SUCCEEDED: N_("finished"),
    jobs.JobState.FAILED: N_("stopped with an error"),
}

DataViewer = Annotated[Principal, Depends(portal_roles(OrgKind.PROVIDER, OrgKind.OPERATOR))]
ProviderWriter = Annotated[Principal, Depends(portal_roles(OrgKind.PROVIDER, write=True))]


def _department(principal: Principal) -> str | None:
    """A provider's department code; None for the operator, who sees every provider."""
    if principal.organization_kind != OrgKind.PROVIDER:
        return None
    if not principal.organization_code:
        raise PortalForbidden(N_("your organization has no department code"))
    return principal.organization_code


def _own_department(principal: Principal) -> str:
    """The department code of a provider page's user."""
    department = _department(principal)
    if department is None:
        raise PortalForbidden()
    return department


def _visible_batch(session: Session, batch_id: str, principal: Principal) -> Batch:
    """The batch if this viewer may see it: a provider its own, the operator any."""
    try:
        batch = ingest_service.get_or_raise(session, batch_id=batch_id)
    except NotFound as exc:
        raise PageNotFound() from exc
    _department(principal)  # a provider without a department code is refused outright
    if not ingest_service.may_see_batch(principal, batch):
        raise PageNotFound()
    return batch


def _category_names(session: Session, locale: str) -> dict[str, str]:
    """Category code → its name in the page's language (retired ones too)."""
    return {
        c.code: c.name_zh if locale == "zh_CN" else c.name_en
        for c in catalog_service.list_categories(session, include_inactive=True)
    }


def _provider_names(session: Session) -> dict[str, str]:
    """Department code → the name of the provider organization filing under it."""
    organizations = session.scalars(iam_service.organizations_statement(kind=OrgKind.PROVIDER))
    return {o.department_code: o.name for o in organizations if o.department_code}


def _uploaded(form: Any, name: str) -> UploadFile | None:
    """The file of a form field, or None when none was chosen."""
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


# ------------------------------------------------------------------------------ batches


@router.get("/batches")
def batches(
    request: Request,
    principal: DataViewer,
    session: SessionDep,
    provider: Annotated[str | None, Query()] = None,
    category: Annotated[str | None, Query()] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
    size: Annotated[Int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> Response:
    """Batches newest first: a provider's own, or every provider's for the operator."""
    operator = _department(principal) is None
    stmt = ingest_service.batches_statement(
        principal=principal, provider=provider or None, category=category or None
    )
    return render(
        request,
        "data/batches.html",
        page=page_of(session, stmt, PageRequest(page=page, size=size)),
        filters={
            "provider": (provider or "") if operator else "",
            "category": category or "",
            "size": size,
        },
        operator=operator,
        providers=ingest_service.providers(session) if operator else [],
        provider_names=_provider_names(session),
        category_names=_category_names(session, request_locale(request)),
        state_labels=BATCH_STATE_LABELS,
        source_labels=SOURCE_LABELS,
    )


# ------------------------------------------------------------------------------- upload


def _upload_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    # A department sends only the categories it is the source of: none other is offered.
    department = _own_department(principal)
    locale = request_locale(request)
    return render(
        request,
        "data/upload.html",
        status=status,
        form=form or FormState(),
        own_categories=catalog_service.list_categories(session, provider=department),
        zh=locale == "zh_CN",
        max_upload_mb=get_settings().ingest.max_upload_mb,
        accept=UPLOAD_ACCEPT,
    )


@router.get("/upload")
def upload_page(request: Request, principal: ProviderWriter, session: SessionDep) -> Response:
    """The form to upload a department file for one category."""
    return _upload_page(request, session, principal)


@router.post("/upload")
def upload(
    request: Request, principal: ProviderWriter, form: CheckedForm, session: SessionDep
) -> Response:
    """Take the file into a new batch and show it (read at once, or queued when large)."""
    department = _own_department(principal)
    state = FormState.from_form(form)
    category = text(form, "category").strip()
    upload_file = _uploaded(form, "file")
    if not category:
        state.errors["category"] = (N_("choose a category"), {})
    if upload_file is None:
        state.errors["file"] = (N_("choose a file"), {})
    if not state.ok or upload_file is None:
        return _upload_page(request, session, principal, form=state, status=422)
    try:
        batch = files.accept_upload(
            session,
            stream=upload_file.file,
            filename=upload_file.filename,
            provider=department,
            category=category,
            actor=principal.username or principal.actor,
            refuse_non_tables=True,
        )
    except XydError as exc:
        session.rollback()
        return _upload_page(
            request,
            session,
            principal,
            form=state.fail(exc, default_field="file"),
            status=exc.status,
        )
    session.commit()
    return RedirectResponse(f"/data/batches/{batch.id}", status_code=303)


# --------------------------------------------------------------------------- one batch


@dataclass(frozen=True)
class RejectedRow:
    id: int
    position: int
    problems: list[ingest_service.Problem]
    resolved_batch_id: str | None


def _rejected_row(rejection: Rejection, labels: dict[str, str], locale: str) -> RejectedRow:
    problems = ingest_service.problems(rejection, labels, locale)
    return RejectedRow(rejection.id, rejection.position, problems, rejection.resolved_batch_id)


@dataclass(frozen=True)
class Progress:
    """How far a queued or running batch is: rows read so far and, when known, a percent."""

    working: bool
    rows: int
    percent: float | None
    job_state: str | None


def _progress(session: Session, batch: Batch) -> Progress:
    job = jobs.get(session, job_id=batch.job_id) if batch.job_id else None
    working = batch.state in (QUEUED, RUNNING)
    percent = job.percent if job is not None and working else None
    return Progress(working, batch.total, percent, job.state if job is not None else None)


def _status_context(session: Session, batch: Batch) -> dict[str, Any]:
    return {
        "batch": batch,
        "progress": _progress(session, batch),
        "state_labels": BATCH_STATE_LABELS,
        "job_state_labels": JOB_STATE_LABELS,
    }


def _batch_page(
    request: Request,
    session: Session,
    principal: Principal,
    batch: Batch,
    *,
    page: int = 1,
    resubmit: FormState | None = None,
    status: int = 200,
) -> Response:
    locale = request_locale(request)
    labels = ingest_service.field_labels(session, category=batch.category, locale=locale)
    rejections = page_of(
        session,
        ingest_service.rejections_statement(batch_id=batch.id),
        PageRequest(page=page, size=REJECTIONS_PER_PAGE),
        lambda row: _rejected_row(row, labels, locale),
    )
    still_open = count_of(
        session, ingest_service.rejections_statement(batch_id=batch.id, open_only=True)
    )
    department = _department(principal)
    may_resubmit = department is not None and principal.can_write and batch.state == DONE
    return render(
        request,
        "data/batch.html",
        status=status,
        **_status_context(session, batch),
        rejections=rejections,
        still_open=still_open,
        may_resubmit=may_resubmit and still_open > 0,
        resubmit=resubmit or FormState(),
        category_name=_category_names(session, locale).get(batch.category, batch.category),
        provider_name=_provider_names(session).get(batch.provider),
        source_labels=SOURCE_LABELS,
        error_text=ingest_service.error_text(batch, locale),
        accept=UPLOAD_ACCEPT,
    )


@router.get("/batches/{batch_id}")
def batch_page(
    batch_id: str,
    request: Request,
    principal: DataViewer,
    session: SessionDep,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """A batch's result: state, counts, progress while it runs, and its rejected rows."""
    batch = _visible_batch(session, batch_id, principal)
    return _batch_page(request, session, principal, batch, page=page)


@router.get("/batches/{batch_id}/status")
def batch_status(
    batch_id: str, request: Request, principal: DataViewer, session: SessionDep
) -> Response:
    """The status panel alone, polled by the batch page while the batch is read.

    Once the batch is finished, a polling page is told to reload so the rejected rows show.
    """
    batch = _visible_batch(session, batch_id, principal)
    response = render(request, "data/_status.html", **_status_context(session, batch))
    if batch.state not in (QUEUED, RUNNING) and request.headers.get("HX-Request") == "true":
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/batches/{batch_id}/rejections.{fmt}")
def download_rejections(
    request: Request, batch_id: str, fmt: str, principal: DataViewer, session: SessionDep
) -> Response:
    """Every rejected row of the batch as CSV (UTF-8) or Excel, to fix and send back."""
    batch = _visible_batch(session, batch_id, principal)
    if fmt not in DOWNLOAD_FORMATS:
        raise PageNotFound()
    download = files.rejection_file(
        session, batch_id=batch.id, fmt=fmt, locale=request_locale(request)
    )
    return StreamingResponse(
        download.body,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/batches/{batch_id}/resubmit")
def resubmit(
    batch_id: str,
    request: Request,
    principal: ProviderWriter,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Send the fixed rejected rows (the downloaded file, corrected) as a new batch."""
    batch = _visible_batch(session, batch_id, principal)
    department = _own_department(principal)
    state = FormState()
    upload_file = _uploaded(form, "file")
    if upload_file is None:
        state.errors["file"] = (N_("choose a file"), {})
        return _batch_page(request, session, principal, batch, resubmit=state, status=422)
    try:
        corrections = files.read_corrections(upload_file.file, upload_file.filename)
        fixed = ingest_service.resubmit(
            session,
            batch_id=batch.id,
            corrections=corrections,
            actor=principal.username or principal.actor,
            provider=department,
        )
    except XydError as exc:
        session.rollback()
        state.errors["file"] = (exc.message, dict(exc.params))
        return _batch_page(request, session, principal, batch, resubmit=state, status=exc.status)
    session.commit()
    return RedirectResponse(f"/data/batches/{fixed.id}", status_code=303)


# ------------------------------------------------------------------------------ quality


def _share(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


@router.get("/quality")
def quality(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    provider: Annotated[str | None, Query()] = None,
    category: Annotated[str | None, Query()] = None,
) -> Response:
    """Completeness, validity, timeliness, duplicates and conflicts per provider and category."""
    locale = request_locale(request)
    figures = ingest_service.quality(session, provider=provider or None, category=category or None)
    category_names = _category_names(session, locale)
    provider_names = _provider_names(session)
    chart = {
        "categories": [
            f"{provider_names.get(f.provider, f.provider)} · "
            f"{category_names.get(f.category, f.category)}"
            for f in figures
        ],
        "names": [gettext(N_("Validity"), locale), gettext(N_("Completeness"), locale)],
        "series": [
            [_share(f.validity) for f in figures],
            [_share(f.completeness) for f in figures],
        ],
    }
    return render(
        request,
        "data/quality.html",
        figures=figures,
        chart=chart,
        filters={"provider": provider or "", "category": category or ""},
        providers=ingest_service.providers(session),
        provider_names=provider_names,
        category_names=category_names,
    )
