"""Pages of risk sharing:
- the operator: the schemes, the regions' pools (balance, reserved, leverage), the claims
  queue with each claim's deadline, and the review and payout of a claim;
- the guarantor: its enrolled loans, the claims it reviews (review, ask for documents,
  endorse, reject) and its exposure;
- the bank: its enrolled loans and its claims (and recoveries after payout);
- the enterprise: its loans enrolled under a scheme, with their guarantee contracts.
The work is ``sharing.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from xinyidai.core import blobs
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.sharing.models import BatchState, ClaimState, SchemeState
from xinyidai.sharing.schemas import SubsidyLineOut
from xinyidai.sharing.service import claims, enrolment, pools, schemes, subsidies
from xinyidai.web.auth import CheckedForm, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/sharing", include_in_schema=False)

SharingParty = Annotated[
    Principal,
    Depends(portal_roles(OrgKind.OPERATOR, OrgKind.INSTITUTION, OrgKind.ENTERPRISE)),
]
ClaimParty = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, OrgKind.INSTITUTION))]
PAGE_SIZE = 20
CLAIM_STATES = {
    ClaimState.FILED: N_("Claim filed"),
    ClaimState.UNDER_REVIEW: N_("Under review"),
    ClaimState.APPROVED: N_("Approved"),
    ClaimState.PARTLY_APPROVED: N_("Partly approved"),
    ClaimState.REJECTED: N_("Rejected"),
    ClaimState.PAID: N_("Compensation paid"),
    ClaimState.RECOVERING: N_("Recovering"),
    ClaimState.CLOSED: N_("Closed"),
}
SCHEME_STATES = {
    SchemeState.DRAFT: N_("Draft"),
    SchemeState.ACTIVE: N_("In force"),
    SchemeState.CLOSED: N_("Closed"),
}
CLAIM_MOVES = {
    "review": N_("Start the review"),
    "request_documents": N_("Ask for documents"),
    "endorse": N_("Endorse (guarantor)"),
    "approve": N_("Approve"),
    "approve_part": N_("Approve a part"),
    "reject": N_("Reject"),
    "pay": N_("Pay out"),
    "close": N_("Close"),
    "recover": N_("Record a recovery"),
    "file": N_("Claim filed"),
}
BATCH_STATES = {
    BatchState.SUBMITTED: N_("Submitted"),
    BatchState.APPROVED: N_("Approved"),
    BatchState.REJECTED: N_("Rejected"),
    BatchState.PAID: N_("Subsidy paid"),
}
LABELS = {
    "batch_states": BATCH_STATES,
    "claim_states": CLAIM_STATES,
    "scheme_states": SCHEME_STATES,
    "claim_moves": CLAIM_MOVES,
}


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, **LABELS, **context)


@router.get("")
def overview(
    request: Request,
    session: SessionDep,
    principal: SharingParty,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """What each party sees of risk sharing: the claims queue, enrolled loans, schemes and
    (the operator) the pools."""
    paging = PageRequest(page=page, size=PAGE_SIZE)
    kind = principal.organization_kind
    queue = None
    if kind in (OrgKind.OPERATOR, OrgKind.INSTITUTION):
        wanted = state if state in tuple(ClaimState) else None
        queue = page_of(session, claims.statement(principal, state=wanted), paging, claims.out)
    loans = page_of(
        session, enrolment.visible(principal), PageRequest(page=1, size=PAGE_SIZE), enrolment.out
    )
    found_pools = (
        [pools.out(session, pool) for pool in session.scalars(pools.statement())]
        if kind == OrgKind.OPERATOR
        else []
    )
    found_schemes = page_of(
        session, schemes.statement(), PageRequest(page=1, size=PAGE_SIZE), schemes.out
    )
    first = PageRequest(page=1, size=PAGE_SIZE)
    batches = (
        page_of(session, subsidies.batches_statement(principal), first, subsidies.batch_out)
        if kind in (OrgKind.OPERATOR, OrgKind.INSTITUTION)
        else None
    )
    received = (
        page_of(
            session, subsidies.received_statement(principal), first, SubsidyLineOut.model_validate
        )
        if kind == OrgKind.ENTERPRISE and principal.credit_code
        else None
    )
    return _page(
        request,
        "sharing/overview.html",
        claims=queue,
        state=state,
        loans=loans,
        pools=found_pools,
        schemes=found_schemes,
        batches=batches,
        received=received,
    )


def _claim(
    request: Request,
    session: Session,
    principal: Principal,
    claim_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    claim = claims.visible_or_raise(session, principal=principal, claim_id=claim_id)
    available = [
        move
        for move in claims.CLAIMS.available(claim, actor_kind=principal.organization_kind)
        if move in claims.MOVES or move == "recover"
    ]
    if principal.organization_kind == OrgKind.INSTITUTION:
        mine = principal.organization_public_id
        available = [
            move
            for move in available
            if (move in claims.GUARANTOR_MOVES and mine == claim.guarantor_id)
            or (move == "recover" and mine == claim.institution_id)
        ]
    elif "endorse" in available:
        available.remove("endorse")
    return _page(
        request,
        "sharing/claim.html",
        status=status,
        claim=claims.detail(session, claim),
        history=claims.CLAIMS.history(session, claim),
        available=available,
        takes_documents=(
            principal.can_write
            and principal.organization_public_id == claim.institution_id
            and claim.state in claims.DOCUMENT_STATES
        ),
        form=form or FormState(),
    )


@router.get("/claims/{claim_id}")
def claim_page(
    claim_id: str, request: Request, session: SessionDep, principal: ClaimParty
) -> Response:
    """A claim with its parties' shares, its history and the moves it allows."""
    return _claim(request, session, principal, claim_id)


def _amount(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed("a positive amount in yuan, to the fen", field="amount") from None


@router.post("/claims/{claim_id}/documents")
def claim_documents(
    claim_id: str,
    request: Request,
    session: SessionDep,
    principal: ClaimParty,
    form: CheckedForm,
) -> Response:
    """The claiming lender sends documents from the claim's page."""
    limit = claims.DOCUMENT_MAX_MB * 1024 * 1024
    uploads = [
        blobs.Upload(
            filename=item.filename or "document",
            content_type=item.content_type or "application/octet-stream",
            content=item.file.read(limit + 1),
        )
        for item in form.getlist("files")
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        claims.add_documents(session, principal=principal, claim_id=claim_id, uploads=uploads)
    except XydError as error:
        session.rollback()
        return _claim(
            request,
            session,
            principal,
            claim_id,
            form=FormState.from_form(form).fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse(f"/sharing/claims/{claim_id}", status_code=303)


@router.post("/claims/{claim_id}")
def claim_action(
    claim_id: str,
    request: Request,
    session: SessionDep,
    principal: ClaimParty,
    form: CheckedForm,
) -> Response:
    """One move of a claim from its page (or a recovery)."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        transition = text(form, "transition") or ""
        if transition == "recover":
            amount = _amount(text(form, "amount"))
            if amount is None:
                raise ValidationFailed("a positive amount in yuan, to the fen", field="amount")
            claims.recover(
                session,
                principal=principal,
                claim_id=claim_id,
                amount=amount,
                note=text(form, "reason"),
            )
        else:
            claims.move(
                session,
                principal=principal,
                claim_id=claim_id,
                transition=transition,
                reason=text(form, "reason"),
                amount=_amount(text(form, "amount")),
            )
    except XydError as error:
        session.rollback()
        return _claim(
            request, session, principal, claim_id, form=state.fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/sharing/claims/{claim_id}", status_code=303)
