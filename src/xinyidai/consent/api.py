"""HTTP routes of consent: the credit commitment and authorization letters.

``enforce`` is the edge's half of the access decision: a refused decision is committed (its
audit event must survive the refusal) and then reported in the API's error shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from xinyidai.audit import service as audit_service
from xinyidai.audit.schemas import AccessEventOut
from xinyidai.consent import service
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.consent.schemas import (
    CommitmentTextIn,
    CommitmentTextOut,
    Decision,
    LetterDetailOut,
    LetterIn,
    LetterOut,
    LetterRequestIn,
    ReasonIn,
    SignatureOut,
    SignIn,
    TransitionOut,
)
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import Forbidden
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal

router = APIRouter(tags=["consent"], responses=ERROR_RESPONSES)

EnterpriseReader = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE))]
EnterpriseWriter = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE, write=True))]
GranteeWriter = Annotated[
    Principal, Depends(require_roles(OrgKind.INSTITUTION, OrgKind.PLATFORM, write=True))
]


# The two query parameters every route that reads enterprise data takes to the decision.
PurposeQuery = Annotated[
    str | None,
    Query(description="why you read: loan_application, post_loan_monitoring, …; default by role"),
]
LetterQuery = Annotated[
    str | None, Query(description="the authorization letter you rely on (default: the best one)")
]


def enforce(session: Session, decision: Decision) -> Decision:
    """The decision if it allows; otherwise commit its audit event and raise the refusal."""
    if not decision.allowed:
        raise commit_refusal(session, service.refusal(decision))
    return decision


def _letter_out(letter: AuthorizationLetter) -> LetterOut:
    return LetterOut.model_validate(letter)


# --------------------------------------------------------------------------- commitment


@router.get("/commitment", response_model=CommitmentTextOut)
def read_commitment(session: SessionDep) -> CommitmentTextOut:
    """The credit commitment text in force (信用承诺书), with its version and digest."""
    return CommitmentTextOut.model_validate(service.latest_text_or_raise(session))


@router.post("/commitment", response_model=CommitmentTextOut, status_code=201)
def publish_commitment(
    data: CommitmentTextIn, session: SessionDep, principal: OperatorWriter
) -> CommitmentTextOut:
    """Publish a new version of the commitment text (operator)."""
    text = service.publish_text(session, title=data.title, body=data.body, actor=principal.actor)
    return CommitmentTextOut.model_validate(text)


@router.get("/me/commitment", response_model=Page[SignatureOut])
def read_my_signatures(
    session: SessionDep, principal: EnterpriseReader, paging: PageDep
) -> Page[SignatureOut]:
    """The versions of the commitment your enterprise signed, newest first."""
    if not principal.credit_code:
        raise Forbidden("only an enterprise signs the credit commitment")
    stmt = service.signatures_statement(credit_code=principal.credit_code)
    return page_of(session, stmt, paging, SignatureOut.model_validate)


@router.post("/me/commitment", response_model=SignatureOut, status_code=201)
def sign_commitment(data: SignIn, session: SessionDep, principal: EnterpriseWriter) -> SignatureOut:
    """Sign a version of the commitment in your enterprise's name: once the operator has
    approved the enterprise's claim to its credit code, never while it is pending."""
    return SignatureOut.model_validate(
        service.sign(session, principal=principal, version=data.version)
    )


# --------------------------------------------------------------------------- letters


@router.get("/letters", response_model=Page[LetterOut])
def list_letters(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="pending, active, …, used_up")] = None,
    purpose: str | None = None,
    credit_code: Annotated[str | None, Query(description="operator and auditors")] = None,
) -> Page[LetterOut]:
    """Letters you may see: an enterprise's own, the letters an institution holds, or all."""
    stmt = service.letters_statement(
        principal=principal, state=state, purpose=purpose, credit_code=credit_code
    )
    return page_of(session, stmt, paging, _letter_out)


@router.post("/letters", response_model=LetterOut, status_code=201)
def grant_letter(data: LetterIn, session: SessionDep, principal: EnterpriseWriter) -> LetterOut:
    """The enterprise grants an authorization letter, active at once."""
    return _letter_out(service.grant(session, principal=principal, data=data))


@router.post("/letters/requests", response_model=LetterOut, status_code=201)
def request_letter(
    data: LetterRequestIn, session: SessionDep, principal: GranteeWriter
) -> LetterOut:
    """An institution or platform asks an enterprise for a letter; it waits for the answer."""
    return _letter_out(service.request(session, principal=principal, data=data))


@router.get("/letters/{letter_id}", response_model=LetterDetailOut)
def read_letter(letter_id: str, session: SessionDep, principal: CurrentUser) -> LetterDetailOut:
    """One letter with every move it made (its grantor, its grantee, the operator, auditors)."""
    letter = service.visible_or_raise(session, principal=principal, letter_id=letter_id)
    return LetterDetailOut(
        **_letter_out(letter).model_dump(),
        transitions=[
            TransitionOut.model_validate(t) for t in service.transitions_of(session, letter=letter)
        ],
    )


@router.get("/letters/{letter_id}/uses", response_model=Page[AccessEventOut])
def read_letter_uses(
    letter_id: str, session: SessionDep, principal: CurrentUser, paging: PageDep
) -> Page[AccessEventOut]:
    """Every query that relied on the letter, allowed or refused."""
    letter = service.visible_or_raise(session, principal=principal, letter_id=letter_id)
    stmt = audit_service.letter_uses_statement(letter_id=letter.public_id)
    return page_of(session, stmt, paging, AccessEventOut.model_validate)


@router.post("/letters/{letter_id}/approve", response_model=LetterOut)
def approve_letter(letter_id: str, session: SessionDep, principal: EnterpriseWriter) -> LetterOut:
    """Grant what an institution asked for: pending → active."""
    letter = service.get_or_raise(session, letter_id=letter_id)
    return _letter_out(service.approve(session, principal=principal, letter=letter))


@router.post("/letters/{letter_id}/reject", response_model=LetterOut)
def reject_letter(
    letter_id: str, session: SessionDep, principal: EnterpriseWriter, data: ReasonIn | None = None
) -> LetterOut:
    """Refuse what an institution asked for: pending → rejected."""
    letter = service.get_or_raise(session, letter_id=letter_id)
    reason = data.reason if data else None
    return _letter_out(service.reject(session, principal=principal, letter=letter, reason=reason))


@router.post("/letters/{letter_id}/pause", response_model=LetterOut)
def pause_letter(
    letter_id: str, session: SessionDep, principal: EnterpriseWriter, data: ReasonIn | None = None
) -> LetterOut:
    """Stop queries for a while: active → paused."""
    letter = service.get_or_raise(session, letter_id=letter_id)
    reason = data.reason if data else None
    return _letter_out(service.pause(session, principal=principal, letter=letter, reason=reason))


@router.post("/letters/{letter_id}/resume", response_model=LetterOut)
def resume_letter(letter_id: str, session: SessionDep, principal: EnterpriseWriter) -> LetterOut:
    """Let queries through again: paused → active."""
    letter = service.get_or_raise(session, letter_id=letter_id)
    return _letter_out(service.resume(session, principal=principal, letter=letter))


@router.post("/letters/{letter_id}/revoke", response_model=LetterOut)
def revoke_letter(
    letter_id: str, session: SessionDep, principal: EnterpriseWriter, data: ReasonIn | None = None
) -> LetterOut:
    """Withdraw a letter, effective at once; later queries relying on it are refused."""
    letter = service.get_or_raise(session, letter_id=letter_id)
    reason = data.reason if data else None
    return _letter_out(service.revoke(session, principal=principal, letter=letter, reason=reason))
