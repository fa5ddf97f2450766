"""Who may see which applications, loans and financing needs: the one rule that the API,
the portal and the command line apply, as a filtered ``Select`` for a list (paged in the
database by the caller) and as a yes or no for one row.

An enterprise sees its own (by its credit code), an institution what was made to it (by its
public id), the operator everything; any other member, or an enterprise or institution
account that names no code or id, is refused a list (``Forbidden``) and sees no row.
Financing needs differ in one way: an institution sees every open need (to offer products
for it), not only those made to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from xinyidai.core.errors import Forbidden
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Application, Loan, Need, NeedState

ENTERPRISE, INSTITUTION, OPERATOR = OrgKind.ENTERPRISE, OrgKind.INSTITUTION, OrgKind.OPERATOR


def party_of(principal: Principal) -> tuple[str, str | None] | None:
    """The side of the marketplace the principal is on and the key its rows carry (credit
    code, institution id; None for the operator), or None: no side at all."""
    kind = principal.organization_kind
    if kind == OPERATOR:
        return OPERATOR, None
    if kind == ENTERPRISE and principal.credit_code:
        return ENTERPRISE, principal.credit_code
    if kind == INSTITUTION and principal.organization_public_id:
        return INSTITUTION, principal.organization_public_id
    return None


def _may_see(principal: Principal, *, credit_code: str, institution_id: str) -> bool:
    party = party_of(principal)
    if party is None:
        return False
    side, key = party
    return (
        side == OPERATOR
        or (side == ENTERPRISE and key == credit_code)
        or (side == INSTITUTION and key == institution_id)
    )


def applications(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The applications the principal may list (one state or all), newest first."""
    party = party_of(principal)
    if party is None:
        raise Forbidden("applications are for enterprises, institutions and the operator")
    side, key = party
    stmt = select(Application)
    if side == ENTERPRISE:
        stmt = stmt.where(Application.credit_code == key)
    elif side == INSTITUTION:
        stmt = stmt.where(Application.institution_id == key)
    if state:
        stmt = stmt.where(Application.state == state)
    return stmt.order_by(Application.submitted_at.desc(), Application.id.desc())


def may_see_application(principal: Principal, application: Application) -> bool:
    return _may_see(
        principal,
        credit_code=application.credit_code,
        institution_id=application.institution_id,
    )


def loans(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The loans the principal may list (one state or all), latest start first."""
    party = party_of(principal)
    if party is None:
        raise Forbidden("loans are for enterprises, institutions and the operator")
    side, key = party
    stmt = select(Loan)
    if side == ENTERPRISE:
        stmt = stmt.where(Loan.credit_code == key)
    elif side == INSTITUTION:
        stmt = stmt.where(Loan.institution_id == key)
    if state:
        stmt = stmt.where(Loan.state == state)
    return stmt.order_by(Loan.start_on.desc(), Loan.id.desc())


def may_see_loan(principal: Principal, loan: Loan) -> bool:
    return _may_see(principal, credit_code=loan.credit_code, institution_id=loan.institution_id)


def needs(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The financing needs the principal may list, newest first: an enterprise its own (one
    state or all), an institution and the operator the open ones."""
    party = party_of(principal)
    if party is None:
        raise Forbidden("financing needs are for enterprises, institutions and the operator")
    side, key = party
    stmt = select(Need)
    if side == ENTERPRISE:
        stmt = stmt.where(Need.credit_code == key)
        if state:
            stmt = stmt.where(Need.state == state)
    else:
        stmt = stmt.where(Need.state == NeedState.OPEN)
    return stmt.order_by(Need.created_at.desc(), Need.id.desc())


def may_see_need(principal: Principal, need: Need) -> bool:
    party = party_of(principal)
    if party is None:
        return False
    side, key = party
    return (
        side == OPERATOR
        or (side == ENTERPRISE and key == need.credit_code)
        or (side == INSTITUTION and need.state == NeedState.OPEN)
    )
