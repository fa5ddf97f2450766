"""The one access decision: may this actor see these categories of this enterprise, and how?

``decide`` finds the legal basis of each category asked for — the enterprise itself, the
operator's duty, a department reading what it sent, an active authorization letter, or
public data — and the view every field gets (raw, desensitized, withheld), then records the
decision, allow or deny, in the audit trail and the ledger. Every read of enterprise data
goes through it; ``consent.service.views`` applies a decision to records.

Bad input (an unknown purpose, a category not in the catalogue, a letter that does not
exist) is an error and records nothing. A refusal is an answer: it is recorded, and the
edge commits it before reporting the refusal (``refusal``) to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.audit import service as audit_service
from xinyidai.audit.models import ALLOW, DENY
from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.schemas import CategorySpec
from xinyidai.consent.models import (
    AuthorizationLetter,
    FetchMode,
    GranteeScope,
    LetterState,
    LetterView,
)
from xinyidai.consent.schemas import (
    AGREEMENT_LAPSED,
    AGREEMENT_UNSIGNED,
    ASSESSMENT_LAPSED,
    ASSESSMENT_MISSING,
    BASIS_LETTER,
    BASIS_OPERATOR,
    BASIS_PROVIDER,
    BASIS_PUBLIC,
    BASIS_SELF,
    DEFAULT_PURPOSE,
    LETTER_EXPIRED,
    LETTER_NOT_YET_VALID,
    LETTER_PAUSED,
    LETTER_PENDING,
    LETTER_REJECTED,
    LETTER_REVOKED,
    LETTER_USED_UP,
    NO_BASIS,
    NOT_COVERED,
    OPERATOR_PURPOSES,
    PROVIDER_PURPOSES,
    PURPOSES,
    SUPERVISION,
    TOO_FREQUENT,
    VERIFICATION,
    WRONG_GRANTEE,
    WRONG_PURPOSE,
    WRONG_SUBJECT,
    CategoryGrant,
    Decision,
)
from xinyidai.consent.service import letters
from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.privacy import service as privacy
from xinyidai.registry import service as registry_service

GRANTEE_KINDS = letters.GRANTEE_KINDS

STATE_REASONS: dict[str, str] = {
    LetterState.REVOKED: LETTER_REVOKED,
    LetterState.EXPIRED: LETTER_EXPIRED,
    LetterState.USED_UP: LETTER_USED_UP,
    LetterState.PAUSED: LETTER_PAUSED,
    LetterState.PENDING: LETTER_PENDING,
    LetterState.REJECTED: LETTER_REJECTED,
}
# When no letter can be used, the one whose problem ranks first explains the refusal.
REASON_RANK = (
    LETTER_REVOKED,
    LETTER_EXPIRED,
    LETTER_USED_UP,
    LETTER_PAUSED,
    TOO_FREQUENT,
    LETTER_NOT_YET_VALID,
    LETTER_PENDING,
    WRONG_PURPOSE,
    LETTER_REJECTED,
    NOT_COVERED,
)

# The words of each refusal (message ids), and the field it concerns.
MESSAGES: dict[str, tuple[str, str]] = {
    NO_BASIS: (
        "nothing entitles your organization to {categories} of {subject}; "
        "ask the enterprise for an authorization letter",
        "category",
    ),
    LETTER_REVOKED: ("authorization letter {letter} was revoked by the enterprise", "letter_id"),
    LETTER_EXPIRED: ("authorization letter {letter} has expired", "letter_id"),
    LETTER_USED_UP: (
        "authorization letter {letter} is used up: it allowed {queries} queries",
        "letter_id",
    ),
    LETTER_PAUSED: ("authorization letter {letter} is paused by the enterprise", "letter_id"),
    LETTER_PENDING: (
        "authorization letter {letter} is still waiting for the enterprise",
        "letter_id",
    ),
    LETTER_REJECTED: ("authorization letter {letter} was rejected by the enterprise", "letter_id"),
    LETTER_NOT_YET_VALID: (
        "authorization letter {letter} is valid only from {valid_from}",
        "letter_id",
    ),
    WRONG_PURPOSE: (
        "authorization letter {letter} is for {allowed}, not for {purpose}",
        "purpose",
    ),
    WRONG_GRANTEE: (
        "authorization letter {letter} was not granted to your organization",
        "letter_id",
    ),
    WRONG_SUBJECT: ("authorization letter {letter} is not about {subject}", "letter_id"),
    NOT_COVERED: (
        "authorization letter {letter} does not cover {categories}",
        "category",
    ),
    TOO_FREQUENT: ("authorization letter {letter} may be used again from {next}", "letter_id"),
    AGREEMENT_UNSIGNED: (
        "your organization has not signed the confidentiality agreement in force; "
        "sign it before reading credit data",
        "agreement",
    ),
    AGREEMENT_LAPSED: (
        "a new version of the confidentiality agreement was due to be signed by {due}; "
        "sign it to read credit data again",
        "agreement",
    ),
    ASSESSMENT_MISSING: (
        "your organization has no passed security assessment; credit data is read only after one",
        "assessment",
    ),
    ASSESSMENT_LAPSED: (
        "your organization's security assessment expired on {expired}; reads are limited "
        "to public data until it is renewed",
        "assessment",
    ),
}


@dataclass(frozen=True)
class Problem:
    """Why one letter cannot be used now: a reason code and the message's parameters."""

    reason: str
    params: dict[str, Any]


def resolve_purpose(actor: Principal, purpose: str | None) -> str:
    """The purpose asked for, or the caller's default one; ``ValidationFailed`` if unknown."""
    value = (purpose or "").strip() or DEFAULT_PURPOSE.get(actor.organization_kind, SUPERVISION)
    if value not in PURPOSES:
        raise ValidationFailed(
            "must be one of: {choices}", field="purpose", choices=", ".join(PURPOSES)
        )
    return value


def _specs(session: Session, categories: Sequence[str] | None) -> tuple[list[CategorySpec], bool]:
    """The categories asked for (all of them when none are named); whether they were named."""
    known = catalog_service.specs_in_force(session)
    wanted = [c.strip() for c in categories or [] if c and c.strip()]
    if not wanted:
        return list(known.values()), False
    specs: list[CategorySpec] = []
    for code in wanted:
        spec = known.get(code)
        if spec is None:
            raise ValidationFailed(
                "category {code} is not in the catalogue", field="category", code=code
            )
        if spec not in specs:
            specs.append(spec)
    return specs, True


def covers(letter: AuthorizationLetter, spec: CategorySpec) -> bool:
    """Whether a letter names the category, or the category's sensitivity level."""
    return spec.code in letter.categories or spec.sensitivity in letter.levels


def _time_text(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")


def problem_with(
    session: Session,
    letter: AuthorizationLetter,
    *,
    actor: Principal,
    subject: str,
    purpose: str,
    now: datetime,
) -> Problem | None:
    """Why ``actor`` cannot use ``letter`` about ``subject`` for ``purpose`` now, or None.

    A letter found past its validity is moved to expired here (the clock's transition).
    """
    params: dict[str, Any] = {"letter": letter.public_id}
    if letter.grantee_scope == GranteeScope.ANY_INSTITUTION:
        if actor.organization_kind != OrgKind.INSTITUTION:
            return Problem(WRONG_GRANTEE, params)
    elif letter.grantee_id != actor.organization_public_id:
        return Problem(WRONG_GRANTEE, params)
    if letter.credit_code != subject:
        return Problem(WRONG_SUBJECT, params | {"subject": subject})
    if (
        letter.state in (LetterState.ACTIVE, LetterState.PAUSED, LetterState.PENDING)
        and clock.as_utc(letter.valid_until) <= now
    ):
        letters.expire(session, letter=letter)
    if letter.state in STATE_REASONS:
        return Problem(STATE_REASONS[letter.state], params | {"queries": letter.queries_used})
    if clock.as_utc(letter.valid_from) > now:
        return Problem(LETTER_NOT_YET_VALID, params | {"valid_from": _time_text(letter.valid_from)})
    if letter.purpose != purpose:
        return Problem(WRONG_PURPOSE, params | {"allowed": letter.purpose, "purpose": purpose})
    if letter.fetch_mode == FetchMode.PERIODIC and letter.last_used_at and letter.fetch_period_days:
        ready = clock.as_utc(letter.last_used_at) + timedelta(days=letter.fetch_period_days)
        if now < ready:
            return Problem(TOO_FREQUENT, params | {"next": _time_text(ready)})
    # Uses an earlier decision of this transaction claimed are counted only at commit.
    pending = letters.pending_uses(session, letter=letter)
    if pending:
        used = letter.queries_used + pending
        if letter.fetch_mode == FetchMode.ONCE or (
            letter.max_queries is not None and used >= letter.max_queries
        ):
            return Problem(LETTER_USED_UP, params | {"queries": used})
        if letter.fetch_mode == FetchMode.PERIODIC and letter.fetch_period_days:
            ready = now + timedelta(days=letter.fetch_period_days)
            return Problem(TOO_FREQUENT, params | {"next": _time_text(ready)})
    return None


def _raw_levels(letter: AuthorizationLetter, spec: CategorySpec) -> frozenset[str]:
    """The levels a letter lets its grantee see raw in one category it covers."""
    if letter.view == LetterView.DESENSITIZED:
        return frozenset({privacy.PUBLIC})
    levels = {privacy.PUBLIC, *letter.levels}
    if spec.code in letter.categories:
        levels.add(spec.sensitivity)
    return frozenset(levels)


@dataclass
class _Plan:
    grants: dict[str, CategoryGrant]
    withheld: dict[str, str]
    letter: AuthorizationLetter | None = None  # the letter relied on for some category
    chosen: AuthorizationLetter | None = None  # the letter considered, even if it adds nothing
    problem: Problem | None = None


def _full(
    specs: list[CategorySpec], basis: str, withhold: bool, provider: str | None = None
) -> _Plan:
    return _Plan(
        grants={
            s.code: CategoryGrant(
                category=s.code,
                basis=basis,
                view=privacy.view_of(s, raw_levels=privacy.ALL_LEVELS, withhold=withhold),
                provider=provider,
            )
            for s in specs
        },
        withheld={},
    )


def _best_letter(
    session: Session,
    *,
    actor: Principal,
    subject: str,
    purpose: str,
    wanted: list[CategorySpec],
    now: datetime,
) -> tuple[AuthorizationLetter | None, Problem | None]:
    """The usable letter covering most of ``wanted``; else None and the reason ranking first."""
    found = letters.candidates(session, principal=actor, credit_code=subject)
    best: tuple[int, AuthorizationLetter] | None = None
    problems: list[Problem] = []
    for letter in found:
        problem = problem_with(
            session, letter, actor=actor, subject=subject, purpose=purpose, now=now
        )
        if problem is not None:
            if any(covers(letter, spec) for spec in wanted):
                problems.append(problem)
            continue
        covered = sum(
            1
            for spec in wanted
            if spec.code in letter.categories
            or (not privacy.is_public(spec) and covers(letter, spec))
        )
        if not covered:
            problems.append(Problem(NOT_COVERED, {"letter": letter.public_id}))
            continue
        if best is None or covered > best[0]:
            best = (covered, letter)
    if best is not None:
        return best[1], None
    if not problems:
        return None, None
    return None, min(problems, key=lambda p: REASON_RANK.index(p.reason))


def _public_grant(spec: CategorySpec, withhold: bool) -> CategoryGrant:
    return CategoryGrant(
        category=spec.code,
        basis=BASIS_PUBLIC,
        view=privacy.view_of(spec, raw_levels=frozenset({privacy.PUBLIC}), withhold=withhold),
    )


def supervision_hold(session: Session, *, actor: Principal) -> Problem | None:
    """Why supervision holds this institution back from non-public data now (its
    confidentiality agreement unsigned or overdue, its security assessment missing or
    expired), as a refusal's reason; None when nothing does or the gate is off."""
    if not get_settings().supervision.read_gate:
        return None
    found = iam_service.clearance.read_hold(
        session, organization_id=actor.organization_id, organization_kind=actor.organization_kind
    )
    if found is None:
        return None
    hold, row = found
    params: dict[str, Any] = {}
    if row is not None and row.agreement_due_at is not None:
        params["due"] = _time_text(row.agreement_due_at)
    if row is not None and row.assessment_expires_on is not None:
        params["expired"] = row.assessment_expires_on.isoformat()
    return Problem(str(hold), params)


def _by_letter_or_public(
    session: Session,
    *,
    actor: Principal,
    subject: str,
    purpose: str,
    specs: list[CategorySpec],
    letter_id: str | None,
    withhold: bool,
    now: datetime,
) -> _Plan:
    plan = _Plan(grants={}, withheld={})
    private = [s for s in specs if not privacy.is_public(s)]
    letter: AuthorizationLetter | None = None
    held = supervision_hold(session, actor=actor)
    if held is not None:
        # No letter opens non-public data to a held institution: public data only.
        plan.problem = held
        for spec in specs:
            if privacy.is_public(spec):
                plan.grants[spec.code] = _public_grant(spec, withhold)
            else:
                plan.withheld[spec.code] = held.reason
        return plan
    if letter_id:
        letter = letters.get_or_raise(session, letter_id=letter_id.strip())
        plan.problem = problem_with(
            session, letter, actor=actor, subject=subject, purpose=purpose, now=now
        )
        if plan.problem is not None:
            letter = None
    elif actor.organization_kind in GRANTEE_KINDS:
        # A letter may add private categories, or personal information in public ones.
        wanted = private + [s for s in specs if privacy.is_public(s)]
        letter, plan.problem = _best_letter(
            session,
            actor=actor,
            subject=subject,
            purpose=purpose,
            wanted=wanted,
            now=now,
        )
    for spec in specs:
        if letter is not None and (
            spec.code in letter.categories or (not privacy.is_public(spec) and covers(letter, spec))
        ):
            plan.grants[spec.code] = CategoryGrant(
                category=spec.code,
                basis=BASIS_LETTER,
                view=privacy.view_of(spec, raw_levels=_raw_levels(letter, spec), withhold=withhold),
                letter_id=letter.public_id,
                data_from=letter.data_from,
                data_until=letter.data_until,
            )
        elif privacy.is_public(spec):
            plan.grants[spec.code] = _public_grant(spec, withhold)
        elif letter is not None:
            plan.withheld[spec.code] = NOT_COVERED
        else:
            plan.withheld[spec.code] = plan.problem.reason if plan.problem else NO_BASIS
    plan.chosen = letter
    plan.letter = letter if any(g.basis == BASIS_LETTER for g in plan.grants.values()) else None
    return plan


def _plan(
    session: Session,
    *,
    actor: Principal,
    subject: str,
    purpose: str,
    specs: list[CategorySpec],
    letter_id: str | None,
    now: datetime,
) -> _Plan:
    kind = actor.organization_kind
    withhold = purpose == VERIFICATION
    if kind == OrgKind.ENTERPRISE and actor.credit_code == subject and not letter_id:
        return _full(specs, BASIS_SELF, withhold)
    if kind == OrgKind.OPERATOR and (purpose in OPERATOR_PURPOSES or withhold) and not letter_id:
        return _full(specs, BASIS_OPERATOR, withhold)
    if (
        kind == OrgKind.PROVIDER
        and actor.organization_code
        and not letter_id
        and (purpose in PROVIDER_PURPOSES or withhold)
    ):
        # A department's own categories are those the catalogue names it the source of,
        # nothing more: every other category it reads as anyone does (public, or a letter).
        department = actor.organization_code
        own = [s for s in specs if s.provider == department]
        if own:
            plan = _full(own, BASIS_PROVIDER, withhold, provider=department)
            rest = [s for s in specs if s not in own]
            if rest:
                other = _by_letter_or_public(
                    session,
                    actor=actor,
                    subject=subject,
                    purpose=purpose,
                    specs=rest,
                    letter_id=None,
                    withhold=withhold,
                    now=now,
                )
                plan.grants.update(other.grants)
                plan.withheld.update(other.withheld)
            return plan
    return _by_letter_or_public(
        session,
        actor=actor,
        subject=subject,
        purpose=purpose,
        specs=specs,
        letter_id=letter_id,
        withhold=withhold,
        now=now,
    )


def _primary_basis(grants: dict[str, CategoryGrant]) -> str | None:
    bases = {g.basis for g in grants.values()}
    for basis in (BASIS_SELF, BASIS_OPERATOR, BASIS_PROVIDER, BASIS_LETTER, BASIS_PUBLIC):
        if basis in bases:
            return basis
    return None


def decide(
    session: Session,
    *,
    actor: Principal,
    subject: str,
    categories: Sequence[str] | None = None,
    purpose: str | None = None,
    letter_id: str | None = None,
    channel: str = "api",
) -> Decision:
    """Allow or deny ``actor`` reading ``categories`` (None: all it may) of ``subject``.

    Returns the decision with the basis of each category and the view of each field, after
    recording it in the audit trail; a letter it relies on is counted as used. Naming
    categories asks for all of them: one refused refuses the whole. Naming no category asks
    for whatever the actor may see, refused only when that is nothing. Naming a letter
    (``letter_id``) relies on that letter: if it cannot be used the decision is refused.
    """
    code = registry_service.parse_code_or_raise(subject)
    chosen = resolve_purpose(actor, purpose)
    specs, named = _specs(session, categories)
    now = clock.now()
    plan = _plan(
        session,
        actor=actor,
        subject=code,
        purpose=chosen,
        specs=specs,
        letter_id=letter_id,
        now=now,
    )
    refused = (named and plan.withheld) or not plan.grants
    if letter_id and plan.problem is not None:
        refused = True
    reason: str | None = None
    params: dict[str, Any] = {"subject": code}
    if refused or plan.withheld:
        problem = plan.problem
        if problem is not None and (refused or problem.reason == LETTER_REVOKED):
            reason = problem.reason
            params |= problem.params
        elif refused:
            reason = NOT_COVERED if plan.chosen is not None else NO_BASIS
            if plan.chosen is not None:
                params["letter"] = plan.chosen.public_id
        params["categories"] = ", ".join(sorted(plan.withheld)) or ", ".join(s.code for s in specs)
    outcome = DENY if refused else ALLOW
    grants = {} if refused else plan.grants
    retain_until: date | None = None
    used = plan.letter if not refused else None
    if used is not None:
        letters.claim_use(
            session,
            letter=used,
            refused=lambda again, lost: audit_service.record_access(
                again,
                principal=actor,
                subject=code,
                categories=[s.code for s in specs] if named else sorted(plan.grants),
                purpose=chosen,
                outcome=DENY,
                basis=None,
                letter_id=used.public_id,
                reason=lost,
                granted={},
                channel=channel,
            ),
        )
        retain_until = clock.today() + timedelta(days=used.data_life_days)
    event = audit_service.record_access(
        session,
        principal=actor,
        subject=code,
        categories=[s.code for s in specs] if named else sorted(grants),
        purpose=chosen,
        outcome=outcome,
        basis=_primary_basis(grants),
        letter_id=used.public_id if used else (params.get("letter") if reason else None),
        reason=reason,
        granted={c: g.basis for c, g in grants.items()},
        channel=channel,
    )
    message, error_field = MESSAGES.get(reason or "", (None, None))
    return Decision(
        outcome=outcome,
        subject=code,
        purpose=chosen,
        categories=tuple(s.code for s in specs) if named else tuple(sorted(grants)),
        basis=_primary_basis(grants),
        letter_id=used.public_id if used else None,
        grants=grants,
        withheld=(
            {s.code: plan.withheld.get(s.code) or reason or NO_BASIS for s in specs}
            if refused
            else dict(plan.withheld)
        ),
        event_id=event.public_id,
        reason=reason,
        message=message,
        params=params,
        error_field=error_field,
        retain_until=retain_until,
    )


def grantable(
    session: Session,
    *,
    actor: Principal,
    subject: str,
    categories: Sequence[str],
    purpose: str | None = None,
) -> frozenset[str]:
    """The categories among ``categories`` that ``decide`` would grant ``actor`` now, found
    the same way but recording nothing, counting no letter's use and locking nothing.

    For a read that reveals something of these categories only where a basis exists (the
    marketplace's matching): it asks ``decide`` — which records the read — only then, so
    that reads revealing nothing non-public do not flood the audit trail.
    """
    if not categories:
        return frozenset()
    code = registry_service.parse_code_or_raise(subject)
    specs, _ = _specs(session, categories)
    plan = _plan(
        session,
        actor=actor,
        subject=code,
        purpose=resolve_purpose(actor, purpose),
        specs=specs,
        letter_id=None,
        now=clock.now(),
    )
    return frozenset(plan.grants)


def refusal(decision: Decision) -> Forbidden:
    """The error an edge raises for a refused decision (after committing its audit event)."""
    message = decision.message or MESSAGES[NO_BASIS][0]
    field = decision.error_field or "category"
    params = {"categories": "", "subject": decision.subject, **decision.params}
    return Forbidden(message, field=field, error_code=decision.reason or NO_BASIS, **params)


def console_principal(session: Session, *, name: str) -> Principal:
    """The operator at the server's console (the ``xyd`` command), named ``name``.

    It reads under the operator's duty like an operator user, and its reads are logged
    with the actor ``user:console.<name>`` against the operator organization.
    """
    from xinyidai.iam import service as iam_service

    rows, _ = iam_service.list_organizations(
        session, kind=OrgKind.OPERATOR, state=OrgState.ACTIVE, size=1
    )
    organization = rows[0] if rows else None
    return Principal(
        organization_id=organization.id if organization else 0,
        organization_public_id=organization.public_id if organization else "org_console",
        organization_kind=OrgKind.OPERATOR,
        organization_name=organization.name if organization else "console",
        organization_state=OrgState.ACTIVE,
        role="admin",
        username=f"console.{name}",
        display_name=name,
    )
