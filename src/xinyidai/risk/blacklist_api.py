"""JSON API of the financial blacklist, under ``/api/v1/risk/blacklist``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from xinyidai.consent import service as consent_service
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page, page_of
from xinyidai.core.settings import get_settings
from xinyidai.iam.auth import CurrentUser, OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk.schemas_blacklist import (
    ListedOut,
    ListingDetailOut,
    ListingIn,
    ListingOut,
    StepIn,
)
from xinyidai.risk.service import blacklist

router = APIRouter(tags=["risk"], responses=ERROR_RESPONSES)

InstitutionWriter = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, write=True))]
EnterpriseWriter = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE, write=True))]


class OutcomeIn(StepIn):
    outcome: str


def read_uploads(files: list[UploadFile] | None) -> list[blacklist.Upload]:
    """The files as the service takes them, each read up to one byte past the limit (the
    service refuses a larger one, naming it)."""
    limit = get_settings().risk.max_document_mb * 1024 * 1024
    return [
        blacklist.Upload(
            filename=file.filename or "document",
            content_type=file.content_type or "application/octet-stream",
            content=file.file.read(limit + 1),
        )
        for file in files or []
    ]


@router.get("/blacklist", response_model=Page[ListingOut])
def list_listings(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="only this state")] = None,
    credit_code: Annotated[str | None, Query(description="only this enterprise")] = None,
    institution_id: Annotated[str | None, Query(description="only this institution")] = None,
) -> Page[ListingOut]:
    """Listings you are party to, newest first: your institution's proposals, the proposals
    noticed to your enterprise, every one for the operator."""
    stmt = blacklist.listings_statement(
        principal, state=state, credit_code=credit_code, institution_id=institution_id
    )
    return page_of(session, stmt, paging, ListingOut.model_validate)


@router.post("/blacklist", response_model=ListingDetailOut, status_code=201)
def propose_listing(
    data: ListingIn, session: SessionDep, principal: InstitutionWriter
) -> ListingDetailOut:
    """Propose to list an enterprise, with the evidence: a defaulted loan of yours
    (``basis`` default, ``loan_id``) or a fraud case of yours you confirmed (``basis``
    fraud, ``case_id``). The operator reviews it."""
    listing = blacklist.propose(session, principal=principal, data=data)
    return blacklist.detail(session, principal=principal, listing=listing)


@router.get("/blacklist-status/{credit_code}", response_model=ListedOut | None)
def listing_status(
    credit_code: str, session: SessionDep, principal: CurrentUser
) -> ListedOut | None:
    """The enterprise's listing in force, if the access decision lets you read the
    category ``black_list`` of it (recorded); null when it is not listed."""
    decision, shown = blacklist.listing_for(
        session, principal=principal, credit_code=credit_code, channel="api"
    )
    if not decision.allowed:
        raise consent_service.refusal(decision)
    return shown


@router.get("/blacklist/{listing_id}", response_model=ListingDetailOut)
def read_listing(listing_id: str, session: SessionDep, principal: CurrentUser) -> ListingDetailOut:
    """One listing with its history (every step also a ledger leaf) and documents."""
    listing = blacklist.visible_or_raise(session, principal=principal, listing_id=listing_id)
    return blacklist.detail(session, principal=principal, listing=listing)


@router.post("/blacklist/{listing_id}/evidence", response_model=ListingDetailOut)
def add_evidence(
    listing_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    files: Annotated[list[UploadFile], File(description="documents of the evidence")],
) -> ListingDetailOut:
    """The proposing institution adds documents to its proposal while it is reviewed."""
    listing = blacklist.visible_or_raise(
        session, principal=principal, listing_id=listing_id, lock=True
    )
    blacklist.add_evidence(
        session, principal=principal, listing=listing, documents=read_uploads(files)
    )
    return blacklist.detail(session, principal=principal, listing=listing)


@router.post("/blacklist/{listing_id}/review", response_model=ListingDetailOut)
def review_listing(
    listing_id: str, data: OutcomeIn, session: SessionDep, principal: OperatorWriter
) -> ListingDetailOut:
    """The operator's review: ``notice`` (the enterprise is notified; its objection window
    opens) or ``reject`` (with a reason)."""
    listing = blacklist.get_or_raise(session, listing_id=listing_id, lock=True)
    blacklist.review(
        session, principal=principal, listing=listing, outcome=data.outcome, reason=data.reason
    )
    return blacklist.detail(session, principal=principal, listing=listing)


@router.post("/blacklist/{listing_id}/objection", response_model=ListingDetailOut)
def object_to_listing(
    listing_id: str,
    session: SessionDep,
    principal: EnterpriseWriter,
    text: Annotated[str, Form(description="the objection")],
    files: Annotated[list[UploadFile] | None, File(description="supporting documents")] = None,
) -> ListingDetailOut:
    """The enterprise objects within its window, with documents."""
    listing = blacklist.visible_or_raise(
        session, principal=principal, listing_id=listing_id, lock=True
    )
    blacklist.object_to(
        session, principal=principal, listing=listing, text=text, documents=read_uploads(files)
    )
    return blacklist.detail(session, principal=principal, listing=listing)


@router.post("/blacklist/{listing_id}/decision", response_model=ListingDetailOut)
def decide_listing(
    listing_id: str, data: OutcomeIn, session: SessionDep, principal: OperatorWriter
) -> ListingDetailOut:
    """The operator decides after the window or on the objection: ``list`` or ``reject``."""
    listing = blacklist.get_or_raise(session, listing_id=listing_id, lock=True)
    blacklist.decide(
        session, principal=principal, listing=listing, outcome=data.outcome, reason=data.reason
    )
    return blacklist.detail(session, principal=principal, listing=listing)


@router.post("/blacklist/{listing_id}/remove", response_model=ListingDetailOut)
def remove_listing(
    listing_id: str, data: StepIn, session: SessionDep, principal: OperatorWriter
) -> ListingDetailOut:
    """The operator takes a listing in force off early (credit repaired; reason required)."""
    listing = blacklist.get_or_raise(session, listing_id=listing_id, lock=True)
    blacklist.remove(session, principal=principal, listing=listing, reason=data.reason)
    return blacklist.detail(session, principal=principal, listing=listing)


@router.get("/blacklist/{listing_id}/documents/{document_id}")
def read_document(
    listing_id: str, document_id: str, session: SessionDep, principal: CurrentUser
) -> Response:
    """One document of a listing, to its parties."""
    listing = blacklist.visible_or_raise(session, principal=principal, listing_id=listing_id)
    row, content = blacklist.document_or_raise(session, listing=listing, document_id=document_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
        },
    )
