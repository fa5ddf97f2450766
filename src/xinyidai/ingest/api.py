"""HTTP routes of ingestion: file batches, pushes, rejections, resubmission, quality."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from xinyidai.core import jobs
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep, job_out, request_locale
from xinyidai.core.bounds import BIGINT_MAX, BIGINT_MIN
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentPrincipal, OperatorUser, ProviderPrincipal
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import files, service
from xinyidai.ingest.models import Batch
from xinyidai.ingest.schemas import BatchOut, QualityOut, RejectionOut, ResubmitIn

router = APIRouter(tags=["ingest"], responses=ERROR_RESPONSES)


def provider_code(principal: Principal) -> str:
    """The department code a provider's data is filed under."""
    code = principal.organization_code
    if not code:
        raise Forbidden("your organization has no department code", field="provider")
    return code


def _visible_batch(session: SessionDep, batch_id: str, principal: Principal) -> Batch:
    batch = service.get_or_raise(session, batch_id=batch_id)
    if service.may_see_batch(principal, batch):
        return batch
    raise NotFound("no batch {batch_id}", field="batch_id", batch_id=batch_id)


@router.post(
    "/ingest/batches",
    response_model=BatchOut,
    status_code=201,
    responses={202: {"model": BatchOut, "description": "queued for a worker"}},
)
def upload_batch(
    session: SessionDep,
    principal: ProviderPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030), XLSX, JSON or JSONL")],
    category: Annotated[str, Form(description="catalogue category code")],
    format: Annotated[str | None, Form(description="override the format from the name")] = None,
) -> Any:
    """Upload a department file: small files are read at once, large ones by a worker."""
    batch = files.accept_upload(
        session,
        stream=file.file,
        filename=file.filename,
        provider=provider_code(principal),
        category=category,
        actor=principal.username or principal.api_key_id,
        declared_format=format,
    )
    if batch.job_id is None:
        return BatchOut.model_validate(batch)
    session.commit()  # queued now: the answer shows the batch as it stands
    session.refresh(batch)
    return JSONResponse(BatchOut.model_validate(batch).model_dump(mode="json"), status_code=202)


@router.get("/ingest/batches", response_model=Page[BatchOut])
def list_batches(
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PageDep,
    category: str | None = None,
    provider: Annotated[str | None, Query(description="operator only")] = None,
) -> Page[BatchOut]:
    """Batches, newest first: a provider sees its own, the operator all."""
    stmt = service.batches_statement(principal=principal, provider=provider, category=category)
    return page_of(session, stmt, paging, BatchOut.model_validate)


@router.get("/ingest/batches/{batch_id}", response_model=BatchOut)
def read_batch(batch_id: str, session: SessionDep, principal: CurrentPrincipal) -> BatchOut:
    """One batch with its counts and state (poll it while a worker reads a large file)."""
    return BatchOut.model_validate(_visible_batch(session, batch_id, principal))


@router.get("/ingest/batches/{batch_id}/rejections", response_model=Page[RejectionOut])
def list_rejections(
    request: Request,
    batch_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PageDep,
    open_only: bool = False,
    format: Annotated[
        str | None, Query(pattern="^(csv|xlsx)$", description="download as csv or xlsx")
    ] = None,
) -> Any:
    """The batch's rejected rows with position, field and reason (in the caller's
    language); or all of them as a file."""
    batch = _visible_batch(session, batch_id, principal)
    locale = request_locale(request)
    if format is not None:
        return _download(session, batch, format, locale)
    labels = service.field_labels(session, category=batch.category, locale=locale)
    stmt = service.rejections_statement(batch_id=batch.id, open_only=open_only)
    return page_of(
        session,
        stmt,
        paging,
        lambda row: RejectionOut.of(row, service.problems(row, labels, locale)),
    )


def _download(session: SessionDep, batch: Batch, fmt: str, locale: str) -> StreamingResponse:
    download = files.rejection_file(session, batch_id=batch.id, fmt=fmt, locale=locale)
    return StreamingResponse(
        download.body,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )


@router.post("/ingest/batches/{batch_id}/resubmit", response_model=BatchOut, status_code=201)
def resubmit_rejected_rows(
    batch_id: str, data: ResubmitIn, session: SessionDep, principal: ProviderPrincipal
) -> BatchOut:
    """Send fixed rejected rows, each naming its `rejection_id`, as a new batch."""
    corrections: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(data.rows):
        rid = row.get("rejection_id")
        if isinstance(rid, bool) or not isinstance(rid, int):
            raise ValidationFailed(
                "row {index} needs an integer rejection_id", field=f"rows.{index}", index=index
            )
        if not BIGINT_MIN <= rid <= BIGINT_MAX:  # no such id; too large for the database
            raise ValidationFailed(
                "row {index}: rejection_id is out of range",
                field=f"rows.{index}.rejection_id",
                index=index,
            )
        corrections.append((rid, {k: v for k, v in row.items() if k != "rejection_id"}))
    batch = service.resubmit(
        session,
        batch_id=batch_id,
        corrections=corrections,
        actor=principal.username or principal.api_key_id,
        provider=provider_code(principal),
    )
    return BatchOut.model_validate(batch)


@router.post("/ingest/records", response_model=BatchOut, status_code=201)
async def push_records(
    request: Request,
    session: SessionDep,
    principal: ProviderPrincipal,
    category: Annotated[str, Query(description="catalogue category code")],
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> Any:
    """Push a JSON array of rows for one category; the same key and body store once."""
    body = await request.body()
    principal_id = (
        f"{principal.organization_public_id}:{principal.api_key_id or principal.username}"
    )
    body_hash = service.request_hash(category.encode() + b"\n" + body)
    previous = service.replay(
        session, principal=principal_id, key=idempotency_key, body_hash=body_hash
    )
    if previous is not None:
        status, answer = previous
        return JSONResponse(answer, status_code=status, headers={"Idempotent-Replayed": "true"})
    try:
        rows = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            "the body is not valid JSON: {error}", field="body", error=str(exc)
        ) from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValidationFailed("the body must be a JSON array of row objects", field="body")
    if not rows:
        raise ValidationFailed("the array holds no rows", field="body")
    batch = service.push_rows(
        session,
        provider=provider_code(principal),
        category=category,
        rows=rows,
        actor=principal.username or principal.api_key_id,
    )
    answer = BatchOut.model_validate(batch).model_dump(mode="json")
    service.remember(
        session,
        principal=principal_id,
        key=idempotency_key,
        body_hash=body_hash,
        status_code=201,
        response=answer,
    )
    return JSONResponse(answer, status_code=201)


@router.get("/ingest/quality", response_model=list[QualityOut])
def read_quality(
    session: SessionDep,
    principal: CurrentPrincipal,
    provider: str | None = None,
    category: str | None = None,
) -> list[QualityOut]:
    """Completeness, validity, timeliness, duplicates and conflicts per provider and category."""
    if principal.organization_kind == OrgKind.PROVIDER:
        provider = provider_code(principal)
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("your organization may not do this")
    return [
        QualityOut(**vars(q))
        for q in service.quality(session, provider=provider, category=category)
    ]


@router.get("/jobs/{job_id}", tags=["operations"])
def read_job(job_id: str, session: SessionDep, principal: OperatorUser) -> Any:
    """A long job's state and progress."""
    return job_out(jobs.get_or_raise(session, job_id=job_id))
