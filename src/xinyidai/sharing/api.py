"""JSON API of risk sharing, under ``/api/v1/sharing``: schemes (operator), enrolments
(the loan's parties), claims (the lender files, the guarantor and the operator review),
compensation pools and their statements (operator)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from xinyidai.core import blobs
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.sharing.schemas import (
    BatchDetailOut,
    BatchIn,
    BatchOut,
    ClaimDetailOut,
    ClaimIn,
    ClaimMoveIn,
    ClaimOut,
    EnrolIn,
    EnrolmentOut,
    MovementOut,
    PoolIn,
    PoolOut,
    RecoveryIn,
    SchemeIn,
    SchemeOut,
    SubsidyLineOut,
    SubsidySchemeIn,
    SubsidySchemeOut,
    TopUpIn,
    TransitionIn,
)
from xinyidai.sharing.service import claims, enrolment, pools, schemes, subsidies

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(prefix="/sharing", tags=["sharing"], responses=ERROR_RESPONSES)

InstitutionWriter = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, write=True))]
ReviewerWriter = Annotated[
    Principal, Depends(require_roles(OrgKind.INSTITUTION, OrgKind.OPERATOR, write=True))
]
ReviewerReader = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, OrgKind.OPERATOR))]
SignedIn = Annotated[
    Principal,
    Depends(require_roles(OrgKind.INSTITUTION, OrgKind.OPERATOR, OrgKind.ENTERPRISE)),
]


# --------------------------------------------------------------------------- schemes


@router.get("/schemes", response_model=Page[SchemeOut])
def list_schemes(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
    region_code: Annotated[str | None, Query(max_length=6, description="only this region")] = None,
) -> Page[SchemeOut]:
    """Every scheme version, newest first: the terms are public to members."""
    return page_of(
        session, schemes.statement(state=state, region_code=region_code), paging, schemes.out
    )


@router.post("/schemes", response_model=SchemeOut, status_code=201)
def create_scheme(data: SchemeIn, session: SessionDep, principal: OperatorWriter) -> SchemeOut:
    """A new scheme in draft (operator): its parties' shares sum to 100%."""
    return schemes.out(schemes.create(session, principal=principal, data=data))


@router.get("/schemes/{scheme_id}", response_model=SchemeOut)
def read_scheme(scheme_id: str, session: SessionDep, principal: CurrentUser) -> SchemeOut:
    return schemes.out(schemes.get_or_raise(session, scheme_id=scheme_id))


@router.put("/schemes/{scheme_id}", response_model=SchemeOut)
def edit_scheme(
    scheme_id: str, data: SchemeIn, session: SessionDep, principal: OperatorWriter
) -> SchemeOut:
    """Edit a scheme: a draft in place; an active one makes the next version (answered),
    the loans enrolled keep theirs."""
    return schemes.out(schemes.update(session, principal=principal, scheme_id=scheme_id, data=data))


@router.post("/schemes/{scheme_id}/transitions", response_model=SchemeOut)
def move_scheme(
    scheme_id: str, data: TransitionIn, session: SessionDep, principal: OperatorWriter
) -> SchemeOut:
    """``activate`` a draft, or ``close`` a scheme (operator)."""
    scheme = schemes.move(
        session,
        principal=principal,
        scheme_id=scheme_id,
        transition=data.transition,
        reason=data.reason,
    )
    return schemes.out(scheme)


# --------------------------------------------------------------------------- enrolments


@router.get("/enrolments", response_model=Page[EnrolmentOut])
def list_enrolments(
    session: SessionDep, principal: SignedIn, paging: PageDep
) -> Page[EnrolmentOut]:
    """Enrolled loans you are party to (lender, guarantor, borrower), all for the operator."""
    return page_of(session, enrolment.visible(principal), paging, enrolment.out)


@router.post("/enrolments", response_model=EnrolmentOut, status_code=201)
def enrol_loan(data: EnrolIn, session: SessionDep, principal: ReviewerWriter) -> EnrolmentOut:
    """The scheme's guarantor (or the operator) enrols a current loan after disbursement."""
    row = enrolment.accept(
        session, principal=principal, loan_id=data.loan_id, scheme_id=data.scheme_id
    )
    return enrolment.out(
        enrolment.of_loan_visible_or_raise(session, principal=principal, loan_id=row.loan_id)
    )


@router.get("/loans/{loan_id}", response_model=EnrolmentOut)
def loan_enrolment(loan_id: str, session: SessionDep, principal: SignedIn) -> EnrolmentOut:
    """A loan's enrolment and guarantee contract, to its parties and the operator."""
    return enrolment.out(
        enrolment.of_loan_visible_or_raise(session, principal=principal, loan_id=loan_id)
    )


# --------------------------------------------------------------------------- claims


@router.get("/claims", response_model=Page[ClaimOut])
def list_claims(
    session: SessionDep,
    principal: ReviewerReader,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
) -> Page[ClaimOut]:
    """Claims you filed or guarantee, newest first; every claim for the operator."""
    return page_of(session, claims.statement(principal, state=state), paging, claims.out)


@router.post("/claims", response_model=ClaimDetailOut, status_code=201)
def file_claim(
    data: ClaimIn, session: SessionDep, principal: InstitutionWriter, response: Response
) -> ClaimDetailOut:
    """The lender files a claim for its defaulted enrolled loan, the loss worked out from
    the loan's schedule and repayments. The same ``idempotency_key`` answers the first
    claim again (200)."""
    claim, new = claims.file(
        session, principal=principal, loan_id=data.loan_id, idempotency_key=data.idempotency_key
    )
    if not new:
        response.status_code = 200
    return claims.detail(session, claim)


@router.get("/claims/{claim_id}", response_model=ClaimDetailOut)
def read_claim(claim_id: str, session: SessionDep, principal: ReviewerReader) -> ClaimDetailOut:
    return claims.detail(
        session, claims.visible_or_raise(session, principal=principal, claim_id=claim_id)
    )


@router.post("/claims/{claim_id}/documents", response_model=ClaimDetailOut, status_code=201)
def add_claim_documents(
    claim_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    files: Annotated[list[UploadFile], File(description="PDF, PNG, JPEG or OFD; 10 MB each")],
) -> ClaimDetailOut:
    """The claiming lender sends files with its claim while it is filed or under review
    (the contract, proof of the default, what a reviewer asked for)."""
    limit = claims.DOCUMENT_MAX_MB * 1024 * 1024
    uploads = [
        blobs.Upload(
            filename=file.filename or "document",
            content_type=file.content_type or "application/octet-stream",
            content=file.file.read(limit + 1),
        )
        for file in files
    ]
    claims.add_documents(session, principal=principal, claim_id=claim_id, uploads=uploads)
    return claims.detail(
        session, claims.visible_or_raise(session, principal=principal, claim_id=claim_id)
    )


@router.get("/claims/{claim_id}/documents/{document_id}")
def read_claim_document(
    claim_id: str, document_id: str, session: SessionDep, principal: ReviewerReader
) -> Response:
    """One document of a claim, to its parties and the operator (a download, never shown)."""
    row, path = claims.document_or_raise(
        session, principal=principal, claim_id=claim_id, document_id=document_id
    )
    return Response(
        path.read_bytes(),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/claims/{claim_id}/transitions", response_model=ClaimDetailOut)
def move_claim(
    claim_id: str, data: ClaimMoveIn, session: SessionDep, principal: ReviewerWriter
) -> ClaimDetailOut:
    """review, request_documents, endorse (the guarantor), approve, approve_part (with the
    amount and a reason), reject (with a reason), pay, close."""
    claim = claims.move(
        session,
        principal=principal,
        claim_id=claim_id,
        transition=data.transition,
        reason=data.reason,
        amount=data.amount,
    )
    return claims.detail(session, claim)


@router.post("/claims/{claim_id}/recoveries", response_model=ClaimDetailOut)
def record_recovery(
    claim_id: str, data: RecoveryIn, session: SessionDep, principal: ReviewerWriter
) -> ClaimDetailOut:
    """Money recovered after payout, shared back in the parties' ratio (the lender or the
    operator)."""
    claim = claims.recover(
        session, principal=principal, claim_id=claim_id, amount=data.amount, note=data.note
    )
    return claims.detail(session, claim)


# --------------------------------------------------------------------------- pools


@router.get("/pools", response_model=Page[PoolOut])
def list_pools(session: SessionDep, principal: OperatorUser, paging: PageDep) -> Page[PoolOut]:
    """The regions' compensation pools with balance, reserves and leverage (operator)."""
    return page_of(session, pools.statement(), paging, lambda pool: pools.out(session, pool))


@router.post("/pools", response_model=PoolOut, status_code=201)
def create_pool(data: PoolIn, session: SessionDep, principal: OperatorWriter) -> PoolOut:
    return pools.out(session, pools.create(session, principal=principal, data=data))


@router.get("/pools/{pool_id}", response_model=PoolOut)
def read_pool(pool_id: str, session: SessionDep, principal: OperatorUser) -> PoolOut:
    return pools.out(session, pools.get_or_raise(session, pool_id=pool_id))


@router.post("/pools/{pool_id}/top-ups", response_model=PoolOut)
def top_up_pool(
    pool_id: str, data: TopUpIn, session: SessionDep, principal: OperatorWriter
) -> PoolOut:
    pool = pools.top_up(
        session, principal=principal, pool_id=pool_id, amount=data.amount, note=data.note
    )
    return pools.out(session, pool)


@router.get("/pools/{pool_id}/movements", response_model=Page[MovementOut])
def pool_movements(
    pool_id: str,
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    start: date,
    end: date,
) -> Page[MovementOut]:
    """The pool's movements in a period (China's days, both included)."""
    pool = pools.get_or_raise(session, pool_id=pool_id)
    return page_of(
        session,
        pools.movements_statement(pool, start=start, end=end),
        paging,
        MovementOut.model_validate,
    )


@router.get(
    "/pools/{pool_id}/statement",
    responses={200: {"content": {"text/csv": {}, _XLSX: {}}}},
    response_class=Response,
)
def pool_statement(
    pool_id: str,
    session: SessionDep,
    principal: OperatorUser,
    start: date,
    end: date,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
) -> Response:
    """The pool's statement for a period, as CSV or XLSX."""
    pool = pools.get_or_raise(session, pool_id=pool_id)
    name = f"pool-{pool.region_code}-{start:%Y%m%d}-{end:%Y%m%d}.{format}"
    disposition = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    if format == "xlsx":
        body = pools.statement_xlsx(session, pool, start=start, end=end)
        return Response(body, media_type=_XLSX, headers=disposition)
    text = pools.statement_csv(session, pool, start=start, end=end)
    return Response(text, media_type="text/csv; charset=utf-8", headers=disposition)


# --------------------------------------------------------------------------- subsidies

EnterpriseReader = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE))]


@router.get("/subsidy-schemes", response_model=Page[SubsidySchemeOut])
def list_subsidy_schemes(
    session: SessionDep, principal: CurrentUser, paging: PageDep
) -> Page[SubsidySchemeOut]:
    """Interest-subsidy schemes, newest first (their terms are public to members)."""
    return page_of(session, subsidies.schemes_statement(), paging, SubsidySchemeOut.model_validate)


@router.post("/subsidy-schemes", response_model=SubsidySchemeOut, status_code=201)
def create_subsidy_scheme(
    data: SubsidySchemeIn, session: SessionDep, principal: OperatorWriter
) -> SubsidySchemeOut:
    """A subsidy scheme in draft (operator): a share of the interest paid, or points."""
    scheme = subsidies.create_scheme(session, principal=principal, data=data)
    return SubsidySchemeOut.model_validate(scheme)


@router.post("/subsidy-schemes/{scheme_id}/transitions", response_model=SubsidySchemeOut)
def move_subsidy_scheme(
    scheme_id: str, data: TransitionIn, session: SessionDep, principal: OperatorWriter
) -> SubsidySchemeOut:
    """``activate`` or ``close`` a subsidy scheme (operator)."""
    scheme = subsidies.move_scheme(
        session,
        principal=principal,
        scheme_id=scheme_id,
        transition=data.transition,
        reason=data.reason,
    )
    return SubsidySchemeOut.model_validate(scheme)


@router.get("/subsidy-batches", response_model=Page[BatchOut])
def list_subsidy_batches(
    session: SessionDep,
    principal: ReviewerReader,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=20, description="only this state")] = None,
) -> Page[BatchOut]:
    """Subsidy applications, newest first: the bank's own, all for the operator."""
    return page_of(
        session, subsidies.batches_statement(principal, state=state), paging, subsidies.batch_out
    )


@router.post("/subsidy-batches", response_model=BatchDetailOut, status_code=201)
def apply_for_subsidies(
    data: BatchIn, session: SessionDep, principal: InstitutionWriter
) -> BatchDetailOut:
    """The bank applies for the subsidies of its repayments paid in a period, each worked
    out from the interest actually paid; a repayment is subsidised once."""
    batch = subsidies.apply(
        session, principal=principal, scheme_id=data.scheme_id, start=data.start, end=data.end
    )
    return subsidies.detail(session, batch)


@router.get("/subsidy-batches/{batch_id}", response_model=BatchDetailOut)
def read_subsidy_batch(
    batch_id: str, session: SessionDep, principal: ReviewerReader
) -> BatchDetailOut:
    batch = subsidies.batch_or_raise(session, principal=principal, batch_id=batch_id)
    return subsidies.detail(session, batch)


@router.post("/subsidy-batches/{batch_id}/transitions", response_model=BatchDetailOut)
def move_subsidy_batch(
    batch_id: str, data: TransitionIn, session: SessionDep, principal: OperatorWriter
) -> BatchDetailOut:
    """``approve``, ``reject`` (with a reason) or ``pay`` a batch (operator)."""
    batch = subsidies.move_batch(
        session,
        principal=principal,
        batch_id=batch_id,
        transition=data.transition,
        reason=data.reason,
    )
    return subsidies.detail(session, batch)


@router.get("/subsidies", response_model=Page[SubsidyLineOut])
def received_subsidies(
    session: SessionDep, principal: EnterpriseReader, paging: PageDep
) -> Page[SubsidyLineOut]:
    """The interest subsidies paid to your enterprise, newest first."""
    return page_of(
        session, subsidies.received_statement(principal), paging, SubsidyLineOut.model_validate
    )
