"""HTTP routes of the records: a subject's records and credit report (both through the
access decision in ``consent``), conflicts. The registry search is the directory's
(``privacy.api``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import LetterQuery, PurposeQuery, enforce
from xinyidai.consent.schemas import Decision, ReportOut
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.bounds import BigInt
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import PartyKeyOut, PartyKeysOut
from xinyidai.records import service
from xinyidai.records.schemas import CategoryRecords, ConflictOut
from xinyidai.registry import service as registry
from xinyidai.registry.models import Enterprise

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)


def _decide(
    session: SessionDep,
    principal: Principal,
    subject: Enterprise,
    *,
    categories: list[str] | None,
    purpose: str | None,
    letter: str | None,
    channel: str,
) -> Decision:
    decision = consent_service.decide(
        session,
        actor=principal,
        subject=subject.credit_code,
        categories=categories,
        purpose=purpose,
        letter_id=letter,
        channel=channel,
    )
    return enforce(session, decision)


@router.get("/enterprises/{code}/records", response_model=list[CategoryRecords])
def read_records(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    category: Annotated[list[str] | None, Query(description="only these categories")] = None,
    history: Annotated[bool, Query(description="include every earlier version")] = False,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
    format: Annotated[str | None, Query(pattern="^csv$", description="csv: export")] = None,
) -> Any:
    """A subject's current records by category, as the access decision lets you see them.

    The enterprise itself and the operator (for its duties) see everything; a department
    sees what it sent; others see public categories and what an authorization letter
    grants, each field raw or desensitized by its grade. Every call is logged.
    """
    decision = _decide(
        session,
        principal,
        registry.get_by_code_or_raise(session, credit_code=code),
        categories=category,
        purpose=purpose,
        letter=letter,
        channel="api:records.csv" if format == "csv" else "api:records",
    )
    groups = consent_service.records_for(session, decision, with_history=history)
    if format == "csv":
        return StreamingResponse(
            consent_service.records_csv(groups),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="records-{code}.csv"'},
        )
    return groups


@router.get("/enterprises/{code}/report", response_model=ReportOut)
def read_report(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
) -> ReportOut:
    """The credit report of the current records you are entitled to, desensitized per field,
    with a report number and the day you must delete it by (the letter's data life)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    decision = _decide(
        session,
        principal,
        subject,
        categories=None,
        purpose=purpose,
        letter=letter,
        channel="api:report",
    )
    return consent_service.credit_report(session, decision, actor=principal, subject=subject)


@router.get("/me/ledger-key", response_model=PartyKeysOut)
def read_my_ledger_key(principal: CurrentUser) -> PartyKeysOut:
    """Your key to the public ledger: an enterprise finds the leaves of its records with it,
    a department those of the records it sent; nobody else can tell those leaves apart.

    Keep it like a password: whoever holds it can tell which leaves are yours.
    """
    role, label = service.ledger_party(
        organization_kind=principal.organization_kind,
        credit_code=principal.credit_code,
        organization_code=principal.organization_code,
    )
    keys = ledger_service.party_keys(role=role, label=label)
    return PartyKeysOut(
        role=role, label=label, keys=[PartyKeyOut(id=i, key=k.hex()) for i, k in keys]
    )


@router.get("/records/conflicts", response_model=Page[ConflictOut])
def list_conflicts(
    session: SessionDep,
    principal: OperatorUser,
    paging: PageDep,
    state: Annotated[str | None, Query(pattern="^(open|resolved)$")] = "open",
) -> Page[ConflictOut]:
    """Facts two departments sent with different values, for the operator to settle."""
    return page_of(
        session,
        service.conflicts_statement(state=state),
        paging,
        lambda r: ConflictOut.model_validate(r, from_attributes=True),
    )


@router.post("/records/conflicts/{conflict_id}/resolve", response_model=ConflictOut)
def resolve_conflict(
    conflict_id: BigInt, session: SessionDep, principal: OperatorWriter
) -> ConflictOut:
    """Mark a conflict settled by the operator."""
    conflict = service.resolve_conflict(
        session, conflict_id=conflict_id, actor=principal.username or "operator"
    )
    return ConflictOut.model_validate(conflict, from_attributes=True)
