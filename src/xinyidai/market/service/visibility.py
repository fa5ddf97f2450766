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

from collections.abc import Callable
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


def _may_see(
    principal: Principal, *, credit_code: str, institution_sees: Callable[[str | None], bool]
) -> bool:
    """Whether the principal may see one row: the operator always, an enterprise its own (by
    ``credit_code``), an institution when ``institution_sees`` its key."""
    party = party_of(principal)
    if party is None:
        return False
    side, key = party
    return (
        side == OPERATOR
        or (side == ENTERPRISE and key == credit_code)
        or (side == INSTITUTION and institution_sees(key))
    )


def _party_or_refuse(principal: Principal, *, refusal: str) -> tuple[str, str | None]:
    """The principal's side and key (``party_of``); ``Forbidden`` saying ``refusal`` when it
    is on no side."""
    party = party_of(principal)
    if party is None:
        raise Forbidden(refusal)
    return party


def _deals(
    model: type[Application] | type[Loan], principal: Principal, state: str | None, refusal: str
) -> Select[Any]:
    """The rows of ``model`` (applications or loans) the principal may list, in one state or
    all: its own for an enterprise, those made to it for an institution, all for the operator."""
    side, key = _party_or_refuse(principal, refusal=refusal)
    stmt = select(model)
    if side == ENTERPRISE:
        stmt = stmt.where(model.credit_code == key)
    elif side == INSTITUTION:
        stmt = stmt.where(model.institution_id == key)
    if state:
        stmt = stmt.where(model.state == state)
    return stmt


def applications(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The applications the principal may list (one state or all), newest first."""
    refusal = "applications are for enterprises, institutions and the operator"
    stmt = _deals(Application, principal, state, refusal)
    return stmt.order_by(Application.submitted_at.desc(), Application.id.desc())


def _may_see_deal(principal: Principal, row: Application | Loan) -> bool:
    """Whether the principal may see one application or loan: its enterprise, the institution
    it was made to, the operator."""
    return _may_see(
        principal,
        credit_code=row.credit_code,
        institution_sees=lambda key: key == row.institution_id,
    )


def may_see_application(principal: Principal, application: Application) -> bool:
    return _may_see_deal(principal, application)


def loans(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The loans the principal may list (one state or all), latest start first."""
    refusal = "loans are for enterprises, institutions and the operator"
    stmt = _deals(Loan, principal, state, refusal)
    return stmt.order_by(Loan.start_on.desc(), Loan.id.desc())


def may_see_loan(principal: Principal, loan: Loan) -> bool:
    return _may_see_deal(principal, loan)


def needs(principal: Principal, *, state: str | None = None) -> Select[Any]:
    """The financing needs the principal may list, newest first: an enterprise its own (one
    state or all), an institution and the operator the open ones."""
    refusal = "financing needs are for enterprises, institutions and the operator"
    side, key = _party_or_refuse(principal, refusal=refusal)
    stmt = select(Need)
    if side == ENTERPRISE:
        stmt = stmt.where(Need.credit_code == key)
        if state:
            stmt = stmt.where(Need.state == state)
    else:
        stmt = stmt.where(Need.state == NeedState.OPEN)
    return stmt.order_by(Need.created_at.desc(), Need.id.desc())


def may_see_need(principal: Principal, need: Need) -> bool:
    return _may_see(
        principal,
        credit_code=need.credit_code,
        institution_sees=lambda _key: need.state == NeedState.OPEN,
    )
