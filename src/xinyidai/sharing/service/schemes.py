"""Risk-sharing schemes as data the operator edits: parties and shares, caps, the loss
counted, the claim deadline, coverage and validity; draft → active → closed.

Editing a draft changes it in place; editing an active scheme closes that version and
begins the next one active, so that loans keep the version they were enrolled under.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import SYSTEM, Machine, Move
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import InstitutionType, OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import codes
from xinyidai.sharing.models import LossBasis, Scheme, SchemeState
from xinyidai.sharing.schemas import REASON_MAX, PartyOut, SchemeIn, SchemeOut
from xinyidai.sharing.service.split import FEN, HUNDRED, shares_sum_to_whole

_OPERATOR = (OrgKind.OPERATOR,)
PARTIES_MAX = 10
LIST_MAX = 50

SCHEMES: Machine[SchemeState] = Machine(
    kind="sharing_scheme",
    states=SchemeState,
    subject=Scheme,
    moves=(
        Move("draft", (), SchemeState.DRAFT, _OPERATOR),
        Move("activate", (SchemeState.DRAFT,), SchemeState.ACTIVE, _OPERATOR),
        Move("close", (SchemeState.DRAFT, SchemeState.ACTIVE), SchemeState.CLOSED, _OPERATOR),
        Move("supersede", (SchemeState.ACTIVE,), SchemeState.CLOSED, _OPERATOR),
        Move("succeed", (), SchemeState.ACTIVE, _OPERATOR),
        Move("expire", (SchemeState.ACTIVE,), SchemeState.CLOSED, (SYSTEM,)),  # past valid_to
    ),
    refusal=N_("the scheme is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a scheme"),
    keeps_reason=True,
    reason_max=REASON_MAX,
)
# The moves the operator asks for by name.
MOVES = ("activate", "close")


def _operator(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator may do this", field="scheme_id")


def _money(value: Decimal | None, *, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(FEN) or value >= 10**17:
        raise ValidationFailed("a positive amount in yuan, to the fen", field=field)
    return value


def _percent(value: Decimal, *, field: str) -> Decimal:
    if not value.is_finite() or value < 0 or value > HUNDRED:
        raise ValidationFailed("a percentage between 0 and 100", field=field)
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationFailed("at most four decimals", field=field)
    return value


def _codes(values: list[str], *, field: str, maximum: int = LIST_MAX) -> list[str]:
    cleaned = sorted({value.strip() for value in values if value.strip()})
    if len(cleaned) > maximum or any(len(value) > 40 for value in cleaned):
        raise ValidationFailed(
            "at most {maximum} codes of 40 characters", field=field, maximum=maximum
        )
    return cleaned


def checked(session: Session, data: SchemeIn) -> dict[str, Any]:
    """A scheme's terms, every field checked; ``ValidationFailed`` naming the first fault."""
    name = data.name.strip()
    if not name:
        raise ValidationFailed("give a name", field="name")
    if not codes.is_region(data.region_code):
        raise ValidationFailed("not a region code (GB/T 2260)", field="region_code")
    if not 1 <= len(data.parties) <= PARTIES_MAX:
        raise ValidationFailed(
            "between 1 and {maximum} parties", field="parties", maximum=PARTIES_MAX
        )
    parties: list[dict[str, Any]] = []
    for index, party in enumerate(data.parties):
        field = f"parties.{index}"
        if not party.role.strip() or not party.name.strip():
            raise ValidationFailed("give the party's role and name", field=field)
        share = _percent(party.share, field=f"{field}.share")
        parties.append(
            {
                "role": party.role.strip(),
                "name": party.name.strip(),
                "organization_id": party.organization_id,
                "share": str(share),
                "pool_pays": party.pool_pays,
            }
        )
    if not shares_sum_to_whole([Decimal(p["share"]) for p in parties]):
        raise ValidationFailed(
            "the parties' shares sum to {total}%, not 100%",
            field="parties",
            total=str(sum((Decimal(p["share"]) for p in parties), Decimal(0))),
        )
    if sum(1 for p in parties if p["pool_pays"]) > 1:
        raise ValidationFailed("the pool pays one party's share at most", field="parties")
    if data.loss_basis not in tuple(LossBasis):
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="loss_basis",
            value=data.loss_basis,
            allowed=", ".join(LossBasis),
        )
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise ValidationFailed("the scheme ends before it begins", field="valid_to")
    guarantor = data.guarantor_id
    if guarantor is not None:
        org = iam_service.get_organization(session, public_id=guarantor)
        if (
            org is None
            or org.kind != OrgKind.INSTITUTION
            or org.institution_type != InstitutionType.GUARANTOR
        ):
            raise ValidationFailed(
                "not a guarantor institution on the platform", field="guarantor_id"
            )
    fee_rate = _percent(data.fee_rate, field="fee_rate")
    return {
        "name": name[:200],
        "region_code": data.region_code,
        "product_ids": _codes(data.product_ids, field="product_ids"),
        "product_types": _codes(data.product_types, field="product_types"),
        "zones": _codes(data.zones, field="zones"),
        "parties": parties,
        "cap_per_loan": _money(data.cap_per_loan, field="cap_per_loan"),
        "cap_per_enterprise": _money(data.cap_per_enterprise, field="cap_per_enterprise"),
        "cap_per_institution_year": _money(
            data.cap_per_institution_year, field="cap_per_institution_year"
        ),
        "loss_basis": data.loss_basis,
        "interest_days": data.interest_days,
        "claim_deadline_days": data.claim_deadline_days,
        "guarantor_id": guarantor,
        "fee_rate": fee_rate,
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
    }


def create(session: Session, *, principal: Principal, data: SchemeIn) -> Scheme:
    """A new scheme, in draft (version 1)."""
    _operator(principal)
    terms = checked(session, data)
    public_id = new_id("sch")
    scheme = Scheme(
        public_id=public_id, family_id=public_id, version=1, created_by=principal.actor, **terms
    )
    session.add(scheme)
    SCHEMES.begin(session, scheme, "draft", actor=principal.actor)
    return scheme


def get_or_raise(session: Session, *, scheme_id: str, lock: bool = False) -> Scheme:
    stmt = select(Scheme).where(Scheme.public_id == scheme_id)
    if lock:
        stmt = stmt.with_for_update()
    scheme = session.scalar(stmt)
    if scheme is None:
        raise NotFound("no scheme {scheme}", field="scheme_id", scheme=scheme_id)
    return scheme


def update(session: Session, *, principal: Principal, scheme_id: str, data: SchemeIn) -> Scheme:
    """Edit a scheme: a draft in place; an active one by closing this version and beginning
    the next (the loans enrolled keep theirs); a closed one not at all."""
    _operator(principal)
    scheme = get_or_raise(session, scheme_id=scheme_id, lock=True)
    terms = checked(session, data)
    if scheme.state == SchemeState.DRAFT:
        for key, value in terms.items():
            setattr(scheme, key, value)
        session.flush()
        return scheme
    SCHEMES.check(scheme, "supersede", actor_kind=principal.organization_kind)
    latest = session.scalar(
        select(func.max(Scheme.version)).where(Scheme.family_id == scheme.family_id)
    )
    following = Scheme(
        public_id=new_id("sch"),
        family_id=scheme.family_id,
        version=(latest or scheme.version) + 1,
        created_by=principal.actor,
        **terms,
    )
    SCHEMES.move(
        session,
        scheme,
        "supersede",
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=f"version {following.version}",
    )
    session.add(following)
    SCHEMES.begin(
        session,
        following,
        "succeed",
        actor=principal.actor,
        reason=f"after version {scheme.version}",
    )
    return following


def move(
    session: Session, *, principal: Principal, scheme_id: str, transition: str, reason: str | None
) -> Scheme:
    """Activate or close a scheme (operator)."""
    SCHEMES.named(transition, among=MOVES)
    scheme = get_or_raise(session, scheme_id=scheme_id, lock=True)
    SCHEMES.move(
        session,
        scheme,
        transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    return scheme


SYSTEM_EXPIRY = "system:expiry"


def expire_due(session: Session, *, today: date, limit: int = 1000) -> int:
    """Close the active schemes whose validity ended before ``today``; how many closed.
    The loans enrolled keep them (a claim on one is still filed under its version)."""
    due = session.scalars(
        select(Scheme)
        .where(Scheme.state == SchemeState.ACTIVE, Scheme.valid_to < today)
        .order_by(Scheme.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for scheme in due:
        SCHEMES.move(
            session,
            scheme,
            "expire",
            actor=SYSTEM_EXPIRY,
            actor_kind=SYSTEM,
            reason=f"valid to {scheme.valid_to}",
        )
    return len(due)


def statement(*, state: str | None = None, region_code: str | None = None) -> Select[Any]:
    """Schemes, newest first (every version; anyone signed in may read the terms)."""
    stmt = select(Scheme).order_by(Scheme.id.desc())
    if state:
        stmt = stmt.where(Scheme.state == state)
    if region_code:
        stmt = stmt.where(Scheme.region_code == region_code)
    return stmt


def region_prefix(code: str) -> str:
    """What a region's codes below it start with: 450000 → 45, 450100 → 4501."""
    prefix = code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def covers(
    scheme: Scheme,
    *,
    product_id: str,
    product_type: str,
    zones: list[str],
    region_code: str | None,
    on: date,
) -> bool:
    """Whether the scheme covers a loan of this product, in this region, on this day."""
    if scheme.state != SchemeState.ACTIVE:
        return False
    if on < scheme.valid_from or (scheme.valid_to is not None and on > scheme.valid_to):
        return False
    if region_code is None or not region_code.startswith(region_prefix(scheme.region_code)):
        return False
    return (
        product_id in scheme.product_ids
        or product_type in scheme.product_types
        or any(zone in scheme.zones for zone in zones)
    )


def active(session: Session) -> list[Scheme]:
    """The active schemes, oldest first (the first that covers a loan enrols it)."""
    return list(
        session.scalars(
            select(Scheme).where(Scheme.state == SchemeState.ACTIVE).order_by(Scheme.id)
        )
    )


def shares(scheme: Scheme) -> list[Decimal]:
    return [Decimal(party["share"]) for party in scheme.parties]


def pool_pays(scheme: Scheme) -> bool:
    return any(party["pool_pays"] for party in scheme.parties)


def out(scheme: Scheme) -> SchemeOut:
    return SchemeOut(
        public_id=scheme.public_id,
        family_id=scheme.family_id,
        version=scheme.version,
        name=scheme.name,
        region_code=scheme.region_code,
        product_ids=scheme.product_ids,
        product_types=scheme.product_types,
        zones=scheme.zones,
        parties=[PartyOut(**{**p, "share": Decimal(p["share"])}) for p in scheme.parties],
        cap_per_loan=scheme.cap_per_loan,
        cap_per_enterprise=scheme.cap_per_enterprise,
        cap_per_institution_year=scheme.cap_per_institution_year,
        loss_basis=LossBasis(scheme.loss_basis),
        interest_days=scheme.interest_days,
        claim_deadline_days=scheme.claim_deadline_days,
        guarantor_id=scheme.guarantor_id,
        fee_rate=scheme.fee_rate,
        valid_from=scheme.valid_from,
        valid_to=scheme.valid_to,
        state=SchemeState(scheme.state),
        state_changed_at=scheme.state_changed_at,
        state_reason=scheme.state_reason,
    )
