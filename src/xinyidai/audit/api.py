"""HTTP routes of the audit trail: an enterprise's access log, the auditor's search and
export, counts for the operator, and the anomaly flags."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from xinyidai.audit import flags, service
from xinyidai.audit.schemas import (
    AccessCounts,
    AccessEventOut,
    EventFilter,
    FlagOut,
    LedgerLeavesOut,
)
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.bounds import BigInt
from xinyidai.core.db import streamed
from xinyidai.core.errors import Forbidden
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentPrincipal, require_roles
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)

EnterpriseReader = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE))]
CountReader = Annotated[Principal, Depends(require_roles(OrgKind.OPERATOR, OrgKind.AUDITOR))]


def auditor(principal: CurrentPrincipal) -> Principal:
    """A member of an active auditor organization, or an auditor's key with ``audit:read``."""
    if (
        principal.organization_kind != OrgKind.AUDITOR
        or principal.organization_state != OrgState.ACTIVE
    ):
        raise Forbidden("only an auditor may do this", error_code="forbidden")
    if not principal.is_user and not principal.has_scope("audit:read"):
        raise Forbidden("this needs the scope {scope}", error_code="forbidden", scope="audit:read")
    return principal


AuditorReader = Annotated[Principal, Depends(auditor)]


@router.get("/me/access-log", response_model=Page[AccessEventOut])
def read_my_access_log(
    session: SessionDep,
    principal: EnterpriseReader,
    paging: PageDep,
    others_only: Annotated[bool, Query(description="leave out your own reads")] = False,
) -> Page[AccessEventOut]:
    """Who looked (or tried to look) at your enterprise's data, when, why and on what basis."""
    stmt = service.access_log_statement(
        subject=principal.credit_code or "", others_only=others_only
    )
    return page_of(session, stmt, paging, AccessEventOut.model_validate)


@router.get("/audit/events", response_model=Page[AccessEventOut])
def search_events(
    session: SessionDep,
    principal: AuditorReader,
    paging: PageDep,
    organization: Annotated[
        str | None, Query(description="the asking organization (org_…)")
    ] = None,
    enterprise: Annotated[str | None, Query(description="credit code of the enterprise")] = None,
    date_from: Annotated[date | None, Query(description="first day (China time)")] = None,
    date_to: Annotated[date | None, Query(description="last day (China time)")] = None,
    purpose: str | None = None,
    outcome: Annotated[str | None, Query(description="allow or deny")] = None,
    letter_id: str | None = None,
    format: Annotated[str | None, Query(pattern="^csv$", description="csv: every match")] = None,
) -> Any:
    """Search every access decision, newest first; ``format=csv`` exports all that match."""
    flt = EventFilter(
        organization=organization or None,
        subject=enterprise or None,
        date_from=date_from,
        date_to=date_to,
        purpose=purpose or None,
        outcome=outcome or None,
        letter_id=letter_id or None,
    )
    if format == "csv":
        service.check_filter(flt)  # a bad filter fails here, before the response starts
        return StreamingResponse(
            streamed(lambda reader: service.csv_lines(reader, flt=flt)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="access-events.csv"'},
        )
    stmt = service.events_statement(flt=flt)
    return page_of(session, stmt, paging, AccessEventOut.model_validate)


@router.get("/audit/ledger-leaves", response_model=LedgerLeavesOut)
def find_ledger_leaves(
    session: SessionDep,
    principal: AuditorReader,
    subject: Annotated[str | None, Query(description="an enterprise's credit code")] = None,
    department: Annotated[str | None, Query(description="a department's code")] = None,
    start: Annotated[BigInt, Query(ge=0, description="first leaf index to scan")] = 0,
) -> LedgerLeavesOut:
    """The public ledger's leaves of one enterprise or one department (their tags matched
    on the node); 100,000 leaves scanned per call, continue from ``next``. Logged."""
    return service.ledger_leaves(
        session, principal=principal, subject=subject, department=department, start=start
    )


@router.get("/audit/counts", response_model=AccessCounts)
def read_counts(session: SessionDep, principal: CountReader) -> AccessCounts:
    """How many decisions there were, by outcome, basis, purpose and kind of asker."""
    return service.counts(session)


@router.get("/audit/flags", response_model=list[FlagOut])
def read_flags(session: SessionDep, principal: AuditorReader) -> list[FlagOut]:
    """Anomalies in the access log over the flag window (thresholds: ``XYD_AUDIT_*``)."""
    return flags.compute(session)
