"""Pages of the financial blacklist and the anti-fraud cases.

- the institution: its blacklist proposals (and the form to propose, with evidence files)
  and its fraud cases (investigate, confirm or dismiss, notes);
- the operator: the blacklist review (notice or reject, then list or reject, removal) and
  the fraud overview (cases by state, hits by rule, every case with the applicants behind
  each hit);
- the enterprise: the proposals against it once noticed, with the objection form (text and
  documents) while the window is open.

The work is ``risk.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from xinyidai.core.api import SessionDep
from xinyidai.core.bounds import check_int
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk.models import FraudCaseState, FraudRule, ListingBasis, ListingState
from xinyidai.risk.schemas_blacklist import ListingIn
from xinyidai.risk.service import blacklist, fraud, fraud_cases
from xinyidai.web.auth import CheckedForm, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/risk", include_in_schema=False)

ListingParty = Annotated[
    Principal,
    Depends(portal_roles(OrgKind.OPERATOR, OrgKind.INSTITUTION, OrgKind.ENTERPRISE)),
]
CaseReader = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, OrgKind.INSTITUTION))]
PageNumber = Annotated[int, Query(ge=1)]
PAGE_SIZE = 20

LISTING_STATES = {
    ListingState.PROPOSED: N_("Proposed, awaiting review"),
    ListingState.NOTICE: N_("Noticed, objection window open"),
    ListingState.OBJECTED: N_("Objected, awaiting decision"),
    ListingState.LISTED: N_("Listed"),
    ListingState.REJECTED: N_("Rejected"),
    ListingState.EXPIRED: N_("Expired"),
    ListingState.REMOVED: N_("Removed after repair"),
}
BASES = {ListingBasis.DEFAULT: N_("Loan default"), ListingBasis.FRAUD: N_("Confirmed fraud")}
CASE_STATES = {
    FraudCaseState.OPEN: N_("Open"),
    FraudCaseState.INVESTIGATING: N_("Investigating"),
    FraudCaseState.CONFIRMED: N_("Confirmed"),
    FraudCaseState.DISMISSED: N_("Dismissed"),
}
RULES = {
    FraudRule.SHARED_PHONE: N_("Same phone behind many applicants"),
    FraudRule.SHARED_ADDRESS: N_("Same address behind many applicants"),
    FraudRule.SHARED_REPRESENTATIVE: N_("Same legal representative behind many applicants"),
    FraudRule.MANY_INSTITUTIONS: N_("Applying to many institutions in a day"),
    FraudRule.RECENT_CHANGE: N_("Registration changed just before applying"),
    FraudRule.YOUNG_LARGE: N_("Very young enterprise asking a large amount"),
    FraudRule.SELF_REPORT_MISMATCH: N_("Self-reported figures contradict department data"),
    FraudRule.HUB: N_("Address or phone is an association hub"),
}
MOVES = {
    "notice": N_("Accept for notice"),
    "reject": N_("Reject"),
    "list": N_("List"),
    "remove": N_("Remove (credit repaired)"),
    "object": N_("Object"),
    "investigate": N_("Start investigating"),
    "confirm": N_("Confirm fraud"),
    "dismiss": N_("Dismiss"),
}
LABELS = {
    "listing_states": LISTING_STATES,
    "bases": BASES,
    "case_states": CASE_STATES,
    "rule_labels": RULES,
    "move_labels": MOVES,
}
LISTING_ACTIONS = ("review", "decide", "remove", "object")
CASE_ACTIONS = ("investigate", "confirm", "dismiss", "note")


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, **LABELS, **context)


def _uploads(form: FormData, name: str) -> list[blacklist.Upload]:
    limit = get_settings().risk.max_document_mb * 1024 * 1024
    found = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            found.append(
                blacklist.Upload(
                    filename=item.filename or "document",
                    content_type=item.content_type or "application/octet-stream",
                    content=item.file.read(limit + 1),
                )
            )
    return found


def _term(value: str) -> int | None:
    if not value:
        return None
    try:
        return check_int(int(value), field="term_days")
    except ValueError:
        raise ValidationFailed("must be a whole number", field="term_days") from None


# --------------------------------------------------------------------------- the blacklist


def _listings(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    state: str,
    page: int,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    try:
        stmt = blacklist.listings_statement(principal, state=state or None)
    except XydError:
        stmt = blacklist.listings_statement(principal)
        state = ""
    rows = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))
    counts = blacklist.counts(session) if principal.organization_kind == OrgKind.OPERATOR else {}
    return _page(
        request,
        "risk_blacklist/listings.html",
        status=status,
        rows=rows,
        state=state,
        counts=counts,
        form=form or FormState(),
        objection_days=get_settings().risk.objection_days,
    )


@router.get("/blacklist")
def listings_page(
    request: Request,
    session: SessionDep,
    principal: ListingParty,
    state: Annotated[str, Query(max_length=20)] = "",
    case: Annotated[str, Query(max_length=40)] = "",
    page: PageNumber = 1,
) -> Response:
    """The institution's proposals (and the form to propose, filled in from a confirmed
    case when ``case`` names one), the operator's review queue, the proposals noticed to
    the enterprise."""
    form = FormState()
    if case and principal.organization_kind == OrgKind.INSTITUTION:
        found = fraud_cases.get(session, case_id=case)
        if found is not None and fraud_cases.may_see(principal, found):
            form = FormState(
                values={
                    "basis": ListingBasis.FRAUD,
                    "evidence": found.public_id,
                    "credit_code": found.credit_code,
                }
            )
    return _listings(request, session, principal, state=state, page=page, form=form)


@router.post("/blacklist")
def propose(
    request: Request, session: SessionDep, principal: ListingParty, form: CheckedForm
) -> Response:
    """An institution proposes a listing with its evidence."""
    state = FormState.from_form(form)
    try:
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        basis = text(form, "basis")
        listing = blacklist.propose(
            session,
            principal=principal,
            data=ListingIn(
                credit_code=text(form, "credit_code"),
                basis=basis,
                loan_id=text(form, "evidence") if basis == ListingBasis.DEFAULT else None,
                case_id=text(form, "evidence") if basis == ListingBasis.FRAUD else None,
                reason=text(form, "reason"),
                term_days=_term(text(form, "term_days")),
            ),
            documents=_uploads(form, "files"),
        )
    except XydError as error:
        session.rollback()
        if error.field in ("loan_id", "case_id"):
            error.field = "evidence"
        return _listings(
            request,
            session,
            principal,
            state="",
            page=1,
            form=state.fail(error),
            status=error.status,
        )
    session.commit()
    return RedirectResponse(f"/risk/blacklist/{listing.public_id}", status_code=303)


def _listing(
    request: Request,
    session: SessionDep,
    principal: Principal,
    listing_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    listing = blacklist.visible_or_raise(session, principal=principal, listing_id=listing_id)
    detail = blacklist.detail(session, principal=principal, listing=listing)
    return _page(
        request,
        "risk_blacklist/listing.html",
        status=status,
        listing=detail,
        form=form or FormState(),
    )


@router.get("/blacklist/{listing_id}")
def listing_page(
    listing_id: str, request: Request, session: SessionDep, principal: ListingParty
) -> Response:
    """A listing with its history and documents, and the forms of the moves it allows."""
    return _listing(request, session, principal, listing_id)


@router.post("/blacklist/{listing_id}/{action}")
def listing_action(
    listing_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    principal: ListingParty,
    form: CheckedForm,
) -> Response:
    """One step of the due process from the listing's page."""
    state = FormState.from_form(form)
    try:
        if action not in LISTING_ACTIONS:
            raise ValidationFailed("unknown action", field="action")
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        listing = blacklist.visible_or_raise(
            session, principal=principal, listing_id=listing_id, lock=True
        )
        if action == "review":
            blacklist.review(
                session,
                principal=principal,
                listing=listing,
                outcome=text(form, "outcome"),
                reason=text(form, "reason"),
            )
        elif action == "decide":
            blacklist.decide(
                session,
                principal=principal,
                listing=listing,
                outcome=text(form, "outcome"),
                reason=text(form, "reason"),
            )
        elif action == "remove":
            blacklist.remove(
                session, principal=principal, listing=listing, reason=text(form, "reason")
            )
        else:
            blacklist.object_to(
                session,
                principal=principal,
                listing=listing,
                text=text(form, "text"),
                documents=_uploads(form, "files"),
            )
    except XydError as error:
        session.rollback()
        return _listing(
            request, session, principal, listing_id, form=state.fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/risk/blacklist/{listing_id}", status_code=303)


@router.get("/blacklist/{listing_id}/documents/{document_id}")
def document(
    listing_id: str, document_id: str, session: SessionDep, principal: ListingParty
) -> Response:
    """A document of the listing, to its parties."""
    listing = blacklist.visible_or_raise(session, principal=principal, listing_id=listing_id)
    row, content = blacklist.document_or_raise(session, listing=listing, document_id=document_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
        },
    )


# --------------------------------------------------------------------------- fraud cases


@router.get("/fraud")
def cases_page(
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    state: Annotated[str, Query(max_length=20)] = "",
    rule: Annotated[str, Query(max_length=40)] = "",
    page: PageNumber = 1,
) -> Response:
    """The institution's fraud cases; the operator's fraud overview over every case."""
    try:
        stmt = fraud_cases.cases_statement(principal, state=state or None, rule=rule or None)
    except XydError:
        stmt = fraud_cases.cases_statement(principal)
        state = rule = ""
    rows = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))
    operator = principal.organization_kind == OrgKind.OPERATOR
    return _page(
        request,
        "risk_blacklist/cases.html",
        rows=rows,
        state=state,
        rule=rule,
        counts=fraud_cases.counts(session) if operator else {},
        by_rule=fraud_cases.rule_counts(session) if operator else {},
        rules=fraud.rules_config(),
    )


def _case(
    request: Request,
    session: SessionDep,
    principal: Principal,
    case_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    case = fraud_cases.visible_or_raise(session, principal=principal, case_id=case_id)
    detail = fraud_cases.detail(session, principal=principal, case=case)
    return _page(
        request,
        "risk_blacklist/case.html",
        status=status,
        case=detail,
        form=form or FormState(),
        mine=principal.organization_public_id == case.institution_id,
    )


@router.get("/fraud/{case_id}")
def case_page(
    case_id: str, request: Request, session: SessionDep, principal: CaseReader
) -> Response:
    """A case: each hit with its explanation, the notes, the history and the moves."""
    return _case(request, session, principal, case_id)


@router.post("/fraud/{case_id}/{action}")
def case_action(
    case_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    form: CheckedForm,
) -> Response:
    """Investigate, confirm, dismiss or note a case of the institution."""
    state = FormState.from_form(form)
    try:
        if action not in CASE_ACTIONS:
            raise ValidationFailed("unknown action", field="action")
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="_form")
        case = fraud_cases.visible_or_raise(
            session, principal=principal, case_id=case_id, lock=True
        )
        if action == "note":
            fraud_cases.add_note(session, principal=principal, case=case, text=text(form, "text"))
        else:
            fraud_cases.act(
                session, principal=principal, case=case, action=action, note=text(form, "note")
            )
    except XydError as error:
        session.rollback()
        if error.field == "reason":
            error.field = "note"
        return _case(
            request, session, principal, case_id, form=state.fail(error), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/risk/fraud/{case_id}", status_code=303)
