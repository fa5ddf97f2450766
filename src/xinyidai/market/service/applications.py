"""Applications: an enterprise applies to a product (granting the institution a letter for
this application), the institution reviews it through the access decision and decides;
every move is a guarded transition with its actor and time, recorded once."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import LOAN_APPLICATION, Decision, LetterIn
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import SYSTEM, Machine, Move, Transition
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import (
    OPEN_APPLICATION_STATES,
    Application,
    ApplicationState,
    DecisionMode,
    NeedState,
    Product,
    ProductState,
)
from xinyidai.market.schemas import (
    APPLICATION_LETTER_DAYS,
    APPLICATION_LEVELS,
    FIRST_LOAN,
    RENEWAL,
    ApplicationIn,
)
from xinyidai.market.service import matching, visibility
from xinyidai.market.service import products as products_service
from xinyidai.registry import service as registry_service

_INSTITUTION, _ENTERPRISE = (OrgKind.INSTITUTION,), (OrgKind.ENTERPRISE,)
EXPIRY_DAYS = 30  # an open application nobody decided within this many days expires
SYSTEM_EXPIRY = "system:expiry"


APPLICATIONS: Machine[ApplicationState] = Machine(
    kind="application",
    states=ApplicationState,
    subject=Application,
    moves=(
        Move("submit", (), ApplicationState.SUBMITTED),  # the enterprise applies
        Move("accept", (ApplicationState.SUBMITTED,), ApplicationState.ACCEPTED, _INSTITUTION),
        Move(
            "request_info",
            (ApplicationState.SUBMITTED, ApplicationState.ACCEPTED),
            ApplicationState.INFO_REQUESTED,
            _INSTITUTION,
        ),
        Move(
            "supply_info",
            (ApplicationState.INFO_REQUESTED,),
            ApplicationState.ACCEPTED,
            _ENTERPRISE,
        ),
        Move("approve", OPEN_APPLICATION_STATES, ApplicationState.APPROVED, _INSTITUTION),
        Move("reject", OPEN_APPLICATION_STATES, ApplicationState.REJECTED, _INSTITUTION),
        Move("withdraw", OPEN_APPLICATION_STATES, ApplicationState.WITHDRAWN, _ENTERPRISE),
        Move("expire", OPEN_APPLICATION_STATES, ApplicationState.EXPIRED, (SYSTEM,)),
    ),
    refusal=N_("the application is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} an application"),
)
# The moves the parties make through ``act`` (the decision has its own way in).
PARTY_MOVES = ("accept", "request_info", "supply_info", "withdraw")
DECISIONS = ("approve", "reject")

SubmittedListener = Callable[[Session, Application], None]
# Who hears of each new application, in its transaction (another domain's checks, such as
# risk's fraud scan, queue their work after commit from here).
_SUBMITTED: list[SubmittedListener] = []


def on_submitted(listener: SubmittedListener) -> SubmittedListener:
    """Call ``listener(session, application)`` for each application made from now on."""
    if listener not in _SUBMITTED:
        _SUBMITTED.append(listener)
    return listener


def history(session: Session, *, application: Application) -> list[Transition]:
    """The application's recorded moves, oldest first."""
    return APPLICATIONS.history(session, application)


def _orderable(session: Session, product_id: str) -> Product:
    """The product if an application may be made to it now; a clear error otherwise."""
    product = products_service.get_or_raise(session, product_id=product_id)
    if not products_service.institution_active(session, product.institution_id):
        raise Conflict(
            "the institution of this product is not active; it takes no applications",
            field="product_id",
        )
    if product.state != ProductState.PUBLISHED:
        raise Conflict(
            "this product is {state}; it takes no applications",
            field="product_id",
            state=product.state,
        )
    return product


def _same_request(application: Application, data: ApplicationIn) -> bool:
    return (
        application.product_id == data.product_id
        and application.amount == data.amount
        and application.term_months == data.term_months
        and application.repayment_method == data.repayment_method
        and application.need_id == data.need_id
    )


def by_key(session: Session, *, credit_code: str, key: str) -> Application | None:
    return session.scalar(
        select(Application).where(
            Application.credit_code == credit_code, Application.idempotency_key == key
        )
    )


def check_zone_rules(session: Session, *, product: Product, credit_code: str) -> None:
    """A first-loan product takes an enterprise with no loan on the platform yet, a
    renewal product one with a current loan in good standing: ``Conflict`` otherwise."""
    if FIRST_LOAN not in product.zones and RENEWAL not in product.zones:
        return
    loans, good_standing = matching.loan_standing(session, credit_code=credit_code)
    if FIRST_LOAN in product.zones and loans:
        raise Conflict(
            "this product is for a first loan: you have had a loan on the platform",
            field="product_id",
        )
    if RENEWAL in product.zones and not good_standing:
        raise Conflict(
            "this product renews a current loan in good standing: you have none",
            field="product_id",
        )


def submit(
    session: Session,
    *,
    principal: Principal,
    data: ApplicationIn,
    idempotency_key: str | None = None,
) -> tuple[Application, bool]:
    """The enterprise applies; (the application, whether it was made now).

    The same ``idempotency_key`` returns the application it made before; reusing a key for
    a different request is a conflict. Applying grants the institution an authorization
    letter for this application, which the enterprise must confirm (``authorize``).
    """
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise applies for financing", field="credit_code")
    iam_service.check_active(principal)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 100:
            raise ValidationFailed(
                "at most {maximum} characters", field="Idempotency-Key", maximum=100
            )
        earlier = by_key(session, credit_code=principal.credit_code, key=key)
        if earlier is not None:
            if not _same_request(earlier, data):
                raise Conflict(
                    "this Idempotency-Key was used for a different application",
                    field="Idempotency-Key",
                )
            return earlier, False
    product = _orderable(session, data.product_id)
    amount = products_service.check_amount(data.amount, field="amount")
    if not product.amount_min <= amount <= product.amount_max:
        raise ValidationFailed(
            "must be between {low} and {high} yuan for this product",
            field="amount",
            low=product.amount_min,
            high=product.amount_max,
        )
    if not product.term_min <= data.term_months <= product.term_max:
        raise ValidationFailed(
            "must be between {low} and {high} months for this product",
            field="term_months",
            low=product.term_min,
            high=product.term_max,
        )
    check_zone_rules(session, product=product, credit_code=principal.credit_code)
    if data.repayment_method not in product.repayment_methods:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="repayment_method",
            value=data.repayment_method,
            allowed=", ".join(product.repayment_methods),
        )
    if data.need_id is not None:
        need = matching.get_need_or_raise(session, need_id=data.need_id)
        if need.credit_code != principal.credit_code:
            raise Forbidden("this need belongs to another enterprise", field="need_id")
        if need.state != NeedState.OPEN:
            raise Conflict("this need is closed", field="need_id")
    if not data.authorize:
        raise ValidationFailed(
            "confirm the authorization letter to the institution to apply", field="authorize"
        )
    pending = session.scalar(
        select(Application.public_id).where(
            Application.credit_code == principal.credit_code,
            Application.product_id == product.public_id,
            Application.state.in_(OPEN_APPLICATION_STATES),
        )
    )
    if pending is not None:
        raise Conflict(
            "you already have application {application} open for this product",
            field="product_id",
            application=pending,
        )
    subject = registry_service.get_by_code_or_raise(session, credit_code=principal.credit_code)
    now = clock.now()
    public_id = new_id("app")
    letter = consent_service.grant(
        session,
        principal=principal,
        data=LetterIn(
            grantee_scope="organization",
            grantee_id=product.institution_id,
            levels=list(APPLICATION_LEVELS),
            purpose=LOAN_APPLICATION,
            valid_until=now + timedelta(days=APPLICATION_LETTER_DAYS),
            fetch_mode="on_demand",
            data_life_days=365,
            note=f"{public_id} {product.name}"[:500],
        ),
    )
    application = Application(
        public_id=public_id,
        product_id=product.public_id,
        product_name=product.name,
        need_id=data.need_id,
        institution_id=product.institution_id,
        institution_name=product.institution_name,
        credit_code=subject.credit_code,
        enterprise_name=subject.name,
        region_code=subject.region_code,
        amount=amount,
        term_months=data.term_months,
        repayment_method=data.repayment_method,
        purpose=data.purpose.strip(),
        letter_id=letter.public_id,
        idempotency_key=key,
        submitted_at=now,
    )
    session.add(application)
    APPLICATIONS.begin(session, application, "submit", actor=principal.actor, at=now)
    for listener in _SUBMITTED:
        listener(session, application)
    return application, True


def get(session: Session, *, application_id: str, lock: bool = False) -> Application | None:
    """The application (locked for update when ``lock``: it is being decided)."""
    stmt = select(Application).where(Application.public_id == application_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_or_raise(session: Session, *, application_id: str, lock: bool = False) -> Application:
    application = get(session, application_id=application_id, lock=lock)
    if application is None:
        raise NotFound(
            "no application {application}", field="application_id", application=application_id
        )
    return application


def visible_or_raise(
    session: Session, *, principal: Principal, application_id: str, lock: bool = False
) -> Application:
    """The application if the principal may see it; ``NotFound`` otherwise."""
    application = get_or_raise(session, application_id=application_id, lock=lock)
    if not visibility.may_see_application(principal, application):
        raise NotFound(
            "no application {application}", field="application_id", application=application_id
        )
    return application


def move(
    session: Session,
    *,
    application: Application,
    transition: str,
    actor: str,
    actor_kind: str,
    reason: str | None = None,
) -> Application:
    """One guarded transition: 403 when the mover may not make it, 409 when the state does
    not allow it. A decision stamps when and by whom it was made, and how long it took."""
    step = APPLICATIONS.move(
        session, application, transition, actor=actor, actor_kind=actor_kind, reason=reason
    )
    if transition in DECISIONS:
        application.decided_at = step.at
        application.decided_by = actor
        application.decision_ms = max(
            0, math.ceil((step.at - application.submitted_at).total_seconds() * 1000)
        )
        session.flush()
    return application


def act(
    session: Session,
    *,
    principal: Principal,
    application_id: str,
    transition: str,
    note: str | None = None,
) -> Application:
    """A party's move on an application: accept, request_info (institution), supply_info,
    withdraw (enterprise). Locked so that two moves at once cannot both pass."""
    APPLICATIONS.named(transition, among=PARTY_MOVES)
    application = visible_or_raise(
        session, principal=principal, application_id=application_id, lock=True
    )
    note = (note or "").strip() or None
    if transition == "request_info":
        if note is None:
            raise ValidationFailed("say what information is needed", field="note")
        application.info_request = note
    return move(
        session,
        application=application,
        transition=transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=note,
    )


def check_terms(
    product: Product, application: Application, *, amount: Decimal, rate: Decimal, term: int
) -> tuple[Decimal, Decimal, int]:
    """Approved terms must fit the product and not exceed what was asked."""
    amount = products_service.check_amount(amount, field="amount")
    if amount > application.amount or amount > product.amount_max:
        raise ValidationFailed(
            "must not exceed the {cap} yuan applied for", field="amount", cap=application.amount
        )
    rate = products_service.check_rate(rate, field="rate")
    if not product.rate_min <= rate <= product.rate_max:
        raise ValidationFailed(
            "must be within the product's rates, {low}% to {high}%",
            field="rate",
            low=product.rate_min,
            high=product.rate_max,
        )
    if not product.term_min <= term <= product.term_max:
        raise ValidationFailed(
            "must be between {low} and {high} months for this product",
            field="term_months",
            low=product.term_min,
            high=product.term_max,
        )
    return amount, rate, term


def decide(
    session: Session,
    *,
    principal: Principal,
    application_id: str,
    outcome: str,
    amount: Decimal | None = None,
    rate: Decimal | None = None,
    term: int | None = None,
    reason: str | None = None,
) -> Application:
    """The institution approves (amount, rate, term) or rejects (reason) by hand.

    The row is locked (``SELECT … FOR UPDATE`` on PostgreSQL): of two decisions at once one
    wins and the other finds the application decided (409)."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only the institution decides an application", field="outcome")
    APPLICATIONS.named(outcome, among=DECISIONS, field="outcome")
    application = visible_or_raise(
        session, principal=principal, application_id=application_id, lock=True
    )
    # The guard before the terms are checked: a decided application is a 409, whatever
    # the terms (``move`` below runs the same guard).
    APPLICATIONS.check(application, outcome, actor_kind=OrgKind.INSTITUTION)
    reason = (reason or "").strip() or None
    if outcome == "reject":
        if reason is None:
            raise ValidationFailed("give the reason for the rejection", field="reason")
        application.decision_reason = reason
    else:
        product = products_service.get_or_raise(session, product_id=application.product_id)
        decided = check_terms(
            product,
            application,
            amount=amount if amount is not None else application.amount,
            rate=rate if rate is not None else product.rate_min,
            term=term if term is not None else application.term_months,
        )
        application.decided_amount, application.decided_rate, application.decided_term = decided
        application.decision_reason = reason
    application.decision_mode = DecisionMode.MANUAL
    return move(
        session,
        application=application,
        transition=outcome,
        actor=principal.actor,
        actor_kind=OrgKind.INSTITUTION,
        reason=reason,
    )


def decide_automatically(
    session: Session,
    *,
    application: Application,
    approve: bool,
    amount: Decimal | None,
    rate: Decimal | None,
    reason: str,
    trace: list[dict[str, object]],
) -> Application:
    """Record the decision the institution's rules made at once, with their trace."""
    application.decision_mode = DecisionMode.AUTOMATIC
    application.decision_trace = trace
    application.decision_reason = reason
    if approve:
        application.decided_amount = amount
        application.decided_rate = rate
        application.decided_term = application.term_months
    return move(
        session,
        application=application,
        transition="approve" if approve else "reject",
        actor="system:rules",
        actor_kind=OrgKind.INSTITUTION,
        reason=reason,
    )


def expire_due(session: Session, *, days: int = EXPIRY_DAYS, limit: int = 1000) -> int:
    """Expire open applications nobody decided within ``days``; how many moved."""
    cutoff = clock.now() - timedelta(days=days)
    rows = session.scalars(
        select(Application)
        .where(
            Application.state.in_(OPEN_APPLICATION_STATES),
            Application.state_changed_at < cutoff,
        )
        .limit(limit)
    ).all()
    for application in rows:
        move(
            session,
            application=application,
            transition="expire",
            actor=SYSTEM_EXPIRY,
            actor_kind=SYSTEM,
            reason=f"no decision within {days} days",
        )
    return len(rows)


def percentile(values: list[int], share: float) -> int | None:
    """The nearest-rank percentile of ``values`` (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def decision_latency(
    session: Session, *, institution_id: str | None = None
) -> dict[str, dict[str, int | None]]:
    """Decision time by mode (automatic, manual): count, median and p95 in milliseconds."""
    stmt = select(Application.decision_mode, Application.decision_ms).where(
        Application.decision_ms.is_not(None)
    )
    if institution_id:
        stmt = stmt.where(Application.institution_id == institution_id)
    by_mode: dict[str, list[int]] = {DecisionMode.AUTOMATIC: [], DecisionMode.MANUAL: []}
    for mode, ms in session.execute(stmt):
        if mode in by_mode and ms is not None:
            by_mode[mode].append(int(ms))
    return {
        mode: {
            "count": len(values),
            "median_ms": percentile(values, 0.5),
            "p95_ms": percentile(values, 0.95),
        }
        for mode, values in by_mode.items()
    }


def report(session: Session, *, principal: Principal, application: Application) -> Decision:
    """The access decision for the institution to read the applicant's credit report under
    the application's letter (the caller enforces and renders it)."""
    if principal.organization_public_id != application.institution_id:
        raise Forbidden("only the institution applied to reads this report", field="application_id")
    return consent_service.decide(
        session,
        actor=principal,
        subject=application.credit_code,
        purpose=LOAN_APPLICATION,
        letter_id=application.letter_id,
        channel="api:market.application",
    )
