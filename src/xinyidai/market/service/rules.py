"""Automatic approval (系统自动审批): an institution's rules per product decide an
application at once — hard declines first, then the grade threshold, then the amount cap
and the rate of the applicant's grade (better credit, lower rate) — and every step is
kept as the decision's trace. An application no rule settles waits for a person.

The rules read the applicant's data for the institution, so they read it as the
institution would: through the access decision under the letter the application carries
(recorded, actor ``system:rules``); an application whose letter does not allow it waits
for a person."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import LOAN_APPLICATION
from xinyidai.core.errors import ValidationFailed
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Application, ApplicationState, DecisionRule, Product
from xinyidai.market.schemas import (
    GRADES,
    HARD_DECLINES,
    PLATFORM_DECLINES,
    ApplicationIn,
    EnterpriseFacts,
    RulesIn,
)
from xinyidai.market.service import applications, matching
from xinyidai.market.service import products as products_service

DeclineCheck = Callable[[Session, str], bool]
# The facts of the platform's own hard declines, by name: answered by the domain that keeps
# them (risk registers ``blacklisted`` and ``fraud_confirmed``).
_DECLINE_CHECKS: dict[str, DeclineCheck] = {}


def register_decline(name: str, check: DeclineCheck) -> None:
    """Let ``check(session, credit_code)`` answer the hard decline ``name``."""
    if name not in PLATFORM_DECLINES:
        raise ValueError(f"{name} is not one of the platform's hard declines")
    _DECLINE_CHECKS[name] = check


def with_platform_facts(
    session: Session, facts: EnterpriseFacts, declines: Sequence[str]
) -> EnterpriseFacts:
    """``facts`` with the platform's hard declines the rules use answered (None: no domain
    answers it in this process, which refers the application to a person)."""
    updates: dict[str, bool | None] = {}
    for name in declines:
        if name in PLATFORM_DECLINES:
            check = _DECLINE_CHECKS.get(name)
            updates[name] = None if check is None else check(session, facts.credit_code)
    return facts.model_copy(update=updates) if updates else facts


def get(session: Session, *, product_id: str) -> DecisionRule | None:
    return session.scalar(select(DecisionRule).where(DecisionRule.product_id == product_id))


def _grade(value: str, *, field: str) -> str:
    if value not in GRADES:
        raise ValidationFailed(
            "{value} is not one of {allowed}", field=field, value=value, allowed=", ".join(GRADES)
        )
    return value


def configure(
    session: Session, *, principal: Principal, product: Product, data: RulesIn
) -> DecisionRule:
    """Set (or replace) a product's rules; caps and rates must fit the product's ranges."""
    products_service.own_or_raise(principal, product)
    min_grade = _grade(data.min_grade, field="min_grade")
    caps: dict[str, str] = {}
    for grade, amount in data.amount_caps.items():
        _grade(grade, field=f"amount_caps.{grade}")
        cap = products_service.check_amount(amount, field=f"amount_caps.{grade}")
        if not product.amount_min <= cap <= product.amount_max:
            raise ValidationFailed(
                "must be between {low} and {high} yuan for this product",
                field=f"amount_caps.{grade}",
                low=product.amount_min,
                high=product.amount_max,
            )
        caps[grade] = str(cap)
    rates: dict[str, str] = {}
    for grade, rate in data.rates.items():
        _grade(grade, field=f"rates.{grade}")
        value = products_service.check_rate(rate, field=f"rates.{grade}")
        if not product.rate_min <= value <= product.rate_max:
            raise ValidationFailed(
                "must be within the product's rates, {low}% to {high}%",
                field=f"rates.{grade}",
                low=product.rate_min,
                high=product.rate_max,
            )
        rates[grade] = str(value)
    ordered = [rates[g] for g in GRADES if g in rates]
    if any(Decimal(a) > Decimal(b) for a, b in itertools.pairwise(ordered)):
        raise ValidationFailed("a better grade must not pay a higher rate", field="rates")
    declines = products_service.check_choices(
        data.hard_declines, allowed=HARD_DECLINES, field="hard_declines"
    )
    rule = get(session, product_id=product.public_id)
    if rule is None:
        rule = DecisionRule(product_id=product.public_id)
        session.add(rule)
    rule.enabled = data.enabled
    rule.min_grade = min_grade
    rule.amount_caps = caps
    rule.rates = rates
    rule.hard_declines = declines
    rule.updated_by = principal.actor
    session.flush()
    return rule


def at_grade(table: dict[str, str], grade: str) -> Decimal | None:
    """The value set for ``grade`` or, failing that, for the nearest worse grade set (a
    better grade never gets worse terms than a worse one)."""
    for candidate in GRADES[GRADES.index(grade) :]:
        if candidate in table:
            return Decimal(table[candidate])
    return None


def evaluate(
    rule: DecisionRule, product: Product, application: Application, facts: Any
) -> tuple[str, Decimal | None, Decimal | None, str, list[dict[str, Any]]]:
    """(outcome, amount, rate, reason, trace): outcome is approve, reject or refer."""
    trace: list[dict[str, Any]] = []

    def step(rule_name: str, passed: bool, detail: str) -> None:
        trace.append({"rule": rule_name, "passed": passed, "detail": detail})

    for decline in rule.hard_declines:
        value = getattr(facts, decline, False)
        if value is None and decline in PLATFORM_DECLINES:
            step(f"decline:{decline}", False, f"{decline}=unknown")
            return "refer", None, None, f"{decline} not checked: manual review", trace
        hit = bool(value)
        step(f"decline:{decline}", not hit, f"{decline}={'yes' if hit else 'no'}")
        if hit:
            return "reject", None, None, f"hard decline: {decline}", trace
    grade = facts.grade
    if grade is None:
        step("grade", False, "not rated")
        return "refer", None, None, "not rated: manual review", trace
    meets = matching.grade_at_least(grade, rule.min_grade)
    step("grade", meets, f"{grade} vs minimum {rule.min_grade}")
    if not meets:
        return "reject", None, None, f"grade {grade} below {rule.min_grade}", trace
    cap = at_grade(rule.amount_caps, grade)
    amount = application.amount if cap is None else min(application.amount, cap)
    step("amount_cap", True, f"applied {application.amount}, cap {cap}, approved {amount}")
    if amount < product.amount_min:
        return "refer", None, None, "cap below the product's minimum: manual review", trace
    rate = at_grade(rule.rates, grade) or product.rate_max
    step("rate", True, f"{rate}% for grade {grade}")
    return "approve", amount, rate, f"automatic approval at grade {grade}", trace


SYSTEM_RULES = "rules"


def rules_principal(session: Session, *, institution_id: str) -> Principal:
    """The institution as its automatic rules act for it (actor ``system:rules``)."""
    organization = iam_service.get_organization_or_raise(session, public_id=institution_id)
    return Principal(
        organization_id=organization.id,
        organization_public_id=organization.public_id,
        organization_kind=organization.kind,
        organization_name=organization.name,
        organization_state=organization.state,
        role="staff",
        institution_type=organization.institution_type,
        system=SYSTEM_RULES,
    )


def categories_read(rule: DecisionRule) -> list[str]:
    """The catalogue categories a product's rules read about the applicant: the rating's
    (the grade, its caps and rates) and the lists of its hard declines."""
    sources = matching.rule_sources()
    wanted = list(sources["grade"])
    if rule.hard_declines:
        wanted += [c for c in sources["dishonest"] if c not in wanted]
    return wanted


def _under_letter(session: Session, *, rule: DecisionRule, application: Application) -> str | None:
    """Decide (and record) the rules' read of the applicant under the application's letter;
    None if it is allowed, else the refusal's reason."""
    known = {c.code for c in catalog_service.list_categories(session, include_inactive=True)}
    decision = consent_service.decide(
        session,
        actor=rules_principal(session, institution_id=application.institution_id),
        subject=application.credit_code,
        categories=[c for c in categories_read(rule) if c in known],
        purpose=LOAN_APPLICATION,
        letter_id=application.letter_id,
        channel="market:rules",
    )
    return None if decision.allowed else decision.reason or "no_basis"


def decide_on_submit(session: Session, *, application: Application) -> Application:
    """Apply the product's rules to a new application: decided at once when they settle it,
    left submitted (with the trace) when they refer it to a person, or when the
    application's letter does not let them read the applicant's data."""
    if application.state != ApplicationState.SUBMITTED:
        return application
    rule = get(session, product_id=application.product_id)
    if rule is None or not rule.enabled:
        return application
    refused = _under_letter(session, rule=rule, application=application)
    if refused is not None:
        application.decision_trace = [{"rule": "letter", "passed": False, "detail": refused}]
        application.decision_reason = "the application's letter does not allow it: manual review"
        session.flush()
        return application
    product = products_service.get_or_raise(session, product_id=application.product_id)
    facts = matching.facts_for(
        session,
        credit_code=application.credit_code,
        rate_missing=True,
        rules=("grade", "dishonest") if rule.hard_declines else ("grade",),
    )
    facts = with_platform_facts(session, facts, rule.hard_declines)
    outcome, amount, rate, reason, trace = evaluate(rule, product, application, facts)
    if outcome == "refer":
        application.decision_trace = trace
        application.decision_reason = reason
        session.flush()
        return application
    return applications.decide_automatically(
        session,
        application=application,
        approve=outcome == "approve",
        amount=amount,
        rate=rate,
        reason=reason,
        trace=trace,
    )


def submit_and_decide(
    session: Session,
    *,
    principal: Principal,
    data: ApplicationIn,
    idempotency_key: str | None = None,
) -> tuple[Application, bool]:
    """Submit an application and let the product's rules decide it at once if they can;
    (the application, whether it was made now). A repeated key decides nothing again."""
    application, made = applications.submit(
        session, principal=principal, data=data, idempotency_key=idempotency_key
    )
    if made:
        decide_on_submit(session, application=application)
    return application, made
