"""HTTP routes of the early warning, under ``/api/v1/risk/warnings``.

Institutions list the warnings of their own live loans, ranked by probability; the operator
lists all of them (filter by institution) and queues a refresh for one borrower. Every
warning shown passes the access decision (``risk.service.warning``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from xinyidai.consent.api import enforce
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.i18n import current_locale
from xinyidai.core.pagination import Page
from xinyidai.iam.auth import CurrentUser, OperatorWriter
from xinyidai.risk.service import warning as service
from xinyidai.risk.warning_schemas import LoanWarningOut

router = APIRouter(prefix="/warnings", tags=["risk"], responses=ERROR_RESPONSES)


class RefreshIn(BaseModel):
    credit_code: str = Field(description="the borrower whose live loans are warned again")


class RefreshQueuedOut(BaseModel):
    credit_code: str
    queued: bool = True


@router.get("", response_model=Page[LoanWarningOut])
def list_warnings(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    min_probability: Annotated[
        float | None, Query(ge=0.0, le=1.0, description="only warnings at least this likely")
    ] = None,
    institution: Annotated[
        str | None, Query(max_length=40, description="the lender's id (operator)")
    ] = None,
) -> Page[LoanWarningOut]:
    """Live loans ranked by the probability of 30+ days overdue or default within six
    months, each with its top reasons: an institution's own, or all for the operator.
    A warning whose borrower gives no basis to read it (post-loan monitoring) is listed
    after the ranked ones, withheld."""
    return service.list_warnings(
        session,
        principal,
        paging,
        locale=current_locale(),
        min_probability=min_probability,
        institution=institution,
    )


@router.get("/{loan_id}", response_model=LoanWarningOut)
def read_warning(loan_id: str, session: SessionDep, principal: CurrentUser) -> LoanWarningOut:
    """The latest warning of one live loan (its lender, the operator), through the access
    decision."""
    row = service.warning_of_loan(session, principal, loan_id=loan_id)
    enforce(session, service.decide_warning(session, principal, row))
    return service.warning_out(row, locale=current_locale())


@router.post("/refresh", response_model=RefreshQueuedOut, status_code=202)
def refresh_enterprise(
    data: RefreshIn, session: SessionDep, principal: OperatorWriter
) -> RefreshQueuedOut:
    """Warn one borrower's live loans again (operator), queued once this request commits."""
    return RefreshQueuedOut(credit_code=service.refresh_for_enterprise(session, data.credit_code))
