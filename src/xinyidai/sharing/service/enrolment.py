"""Loans enrolled under a scheme, with their guarantee contract.

A loan is enrolled at disbursement when an active scheme covers its product (the
marketplace tells its listeners of every move, ``market.service.loans.on_moved``), or
later when the guarantor accepts it. The enrolment keeps the scheme's version: editing the
scheme later changes nothing for it. A scheme whose share the pool pays enrols nothing
while its pool's free money is below the pool's floor.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.iam.models import InstitutionType, OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import service as market_service
from xinyidai.market.models import Loan, LoanState
from xinyidai.sharing.models import Enrolment, MovementKind, Scheme, SchemeState
from xinyidai.sharing.schemas import EnrolmentOut
from xinyidai.sharing.service import money, pools, schemes
from xinyidai.sharing.service.split import FEN

log = logging.getLogger(__name__)
SYSTEM_ENROLMENT = "system:sharing"
REGUARANTOR_ROLE = "reguarantor"


def fee_of(principal: Decimal, fee_rate: Decimal, term_months: int) -> Decimal:
    """The guarantee fee of a contract: principal × rate a year × years, to the fen."""
    return (principal * fee_rate / 100 * term_months / 12).quantize(FEN, rounding=ROUND_HALF_UP)


def _pool_refusal(session: Session, scheme: Scheme) -> str | None:
    """Why the scheme's pool stops enrolment now, if it does."""
    if not schemes.pool_pays(scheme):
        return None
    pool = pools.of_region(session, region_code=scheme.region_code)
    if pool is None:
        return N_("the region has no compensation pool")
    if pools.below_floor(pool):
        return N_("the compensation pool is below its floor")
    return None


def _covering(session: Session, loan: Loan) -> Scheme | None:
    product = market_service.products.get_or_raise(session, product_id=loan.product_id)
    for scheme in schemes.active(session):
        if schemes.covers(
            scheme,
            product_id=loan.product_id,
            product_type=loan.product_type,
            zones=list(product.zones or []),
            region_code=loan.region_code,
            on=loan.start_on,
        ):
            return scheme
    return None


def of_loan(session: Session, *, loan_id: str) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(Enrolment.loan_id == loan_id))


def enrol(session: Session, *, loan: Loan, scheme: Scheme, actor: str) -> Enrolment:
    """Enrol the loan under the scheme, with its guarantee contract and fee (no checks:
    the callers check coverage, state and the pool)."""
    fee = fee_of(loan.principal, scheme.fee_rate, loan.term_months)
    enrolment = Enrolment(
        public_id=new_id("enr"),
        loan_id=loan.public_id,
        contract_number=loan.contract_number,
        scheme_id=scheme.id,
        institution_id=loan.institution_id,
        guarantor_id=scheme.guarantor_id,
        credit_code=loan.credit_code,
        enterprise_name=loan.enterprise_name,
        region_code=loan.region_code,
        product_id=loan.product_id,
        principal=loan.principal,
        fee_rate=scheme.fee_rate,
        fee=fee,
        reguarantee=any(party["role"] == REGUARANTOR_ROLE for party in scheme.parties),
        enrolled_on=clock.today(),
        enrolled_by=actor,
    )
    session.add(enrolment)
    session.flush()
    if fee > 0:
        money.record(
            session,
            kind=MovementKind.FEE,
            amount=fee,
            actor=actor,
            enrolment_id=enrolment.id,
            party=scheme.guarantor_id,
            note=loan.contract_number,
        )
    return enrolment


def on_loan_moved(session: Session, loan: Loan, move: str) -> None:
    """Enrol a loan as it is disbursed, if an active scheme covers it and its pool allows."""
    if move != "disburse" or of_loan(session, loan_id=loan.public_id) is not None:
        return
    scheme = _covering(session, loan)
    if scheme is None:
        return
    refusal = _pool_refusal(session, scheme)
    if refusal is not None:
        log.info("loan %s not enrolled under %s: %s", loan.public_id, scheme.public_id, refusal)
        return
    enrol(session, loan=loan, scheme=scheme, actor=SYSTEM_ENROLMENT)


market_service.loans.on_moved(on_loan_moved)


def accept(session: Session, *, principal: Principal, loan_id: str, scheme_id: str) -> Enrolment:
    """The scheme's guarantor (or the operator) enrols a running loan after disbursement."""
    scheme = schemes.get_or_raise(session, scheme_id=scheme_id)
    is_guarantor = (
        principal.organization_kind == OrgKind.INSTITUTION
        and principal.institution_type == InstitutionType.GUARANTOR
        and principal.organization_public_id == scheme.guarantor_id
    )
    if not is_guarantor and principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden(
            "only the scheme's guarantor or the operator may enrol a loan", field="scheme_id"
        )
    if scheme.state != SchemeState.ACTIVE:
        raise Conflict(
            "the scheme is {state}; it enrols no loan", field="scheme_id", state=scheme.state
        )
    refusal = _pool_refusal(session, scheme)
    if refusal is not None:
        raise Conflict(refusal, field="scheme_id")
    # One answer for a loan that does not exist, is not current, is not covered, or is
    # another guarantor's: the guarantor is no party to the loan yet and learns nothing of it.
    hidden = NotFound(
        "no current loan {loan} that this scheme covers", field="loan_id", loan=loan_id
    )
    try:
        loan = market_service.loans.get_or_raise(session, loan_id=loan_id, lock=True)
    except NotFound:
        raise hidden from None
    product = market_service.products.get_or_raise(session, product_id=loan.product_id)
    if loan.state != LoanState.CURRENT or not schemes.covers(
        scheme,
        product_id=loan.product_id,
        product_type=loan.product_type,
        zones=list(product.zones or []),
        region_code=loan.region_code,
        on=clock.today(),
    ):
        raise hidden
    existing = of_loan(session, loan_id=loan.public_id)
    if existing is not None:
        if is_guarantor and existing.guarantor_id != principal.organization_public_id:
            raise hidden
        raise Conflict("the loan is enrolled already", field="loan_id")
    return enrol(session, loan=loan, scheme=scheme, actor=principal.actor)


def visible(principal: Principal) -> Select[Any]:
    """The enrolments the principal may list, newest first: the lender's and the
    guarantor's own, the enterprise's own, every one for the operator."""
    stmt: Select[Any] = (
        select(Enrolment, Scheme)  # type: ignore[assignment]
        .join(Scheme, Scheme.id == Enrolment.scheme_id)
        .order_by(Enrolment.id.desc())
    )
    kind = principal.organization_kind
    if kind == OrgKind.OPERATOR:
        return stmt
    if kind == OrgKind.INSTITUTION:
        org = principal.organization_public_id
        return stmt.where(or_(Enrolment.institution_id == org, Enrolment.guarantor_id == org))
    if kind == OrgKind.ENTERPRISE and principal.credit_code:
        return stmt.where(Enrolment.credit_code == principal.credit_code)
    raise Forbidden("enrolments are for their parties and the operator", field="loan_id")


def of_loan_visible_or_raise(
    session: Session, *, principal: Principal, loan_id: str
) -> tuple[Enrolment, Scheme]:
    """A loan's enrolment, to those entitled; 404 to anyone else and when there is none."""
    found = session.execute(visible(principal).where(Enrolment.loan_id == loan_id)).first()
    if found is None:
        raise NotFound("loan {loan} is not enrolled", field="loan_id", loan=loan_id)
    return found[0], found[1]


def out(row: Any) -> EnrolmentOut:
    enrolment, scheme = row
    return EnrolmentOut(
        public_id=enrolment.public_id,
        loan_id=enrolment.loan_id,
        contract_number=enrolment.contract_number,
        scheme_id=scheme.public_id,
        scheme_version=scheme.version,
        institution_id=enrolment.institution_id,
        guarantor_id=enrolment.guarantor_id,
        credit_code=enrolment.credit_code,
        enterprise_name=enrolment.enterprise_name,
        principal=enrolment.principal,
        fee_rate=enrolment.fee_rate,
        fee=enrolment.fee,
        reguarantee=enrolment.reguarantee,
        enrolled_on=enrolment.enrolled_on,
    )
