"""Authorization letters (授权书): granting, requesting, and every move as a guarded transition.

Moves: ``request`` (an institution asks: → pending), ``grant`` (the enterprise grants: →
active), ``approve`` (pending → active), ``reject`` (pending → rejected), ``pause`` (active
→ paused), ``resume`` (paused → active), ``revoke`` (pending/active/paused → revoked, by the
enterprise at any time, effective at once), ``expire`` (the clock: → expired), ``use_up``
(the last allowed query: active → used_up). Each is recorded once with its actor and time,
and appended to the ledger with the letter's terms, so the terms an enterprise agreed to
cannot change unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, event, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from xinyidai.catalog import service as catalog_service
from xinyidai.consent.models import (
    AuthorizationLetter,
    FetchMode,
    GranteeScope,
    LetterState,
    LetterTransition,
    LetterView,
)
from xinyidai.consent.schemas import (
    APPLICATION_PURPOSES,
    DESENSITIZED_PURPOSES,
    LETTER_EXPIRED,
    LETTER_PAUSED,
    LETTER_PURPOSES,
    LETTER_REVOKED,
    LETTER_USED_UP,
    TOO_FREQUENT,
    LetterIn,
    LetterRequestIn,
    LetterTerms,
)
from xinyidai.consent.service.commitment import require_signed
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, RefusedAtCommit, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Machine, Move, Step
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.privacy.service import LEVELS
from xinyidai.registry import service as registry_service

LEDGER_KIND = "consent.letter"
# Leaves name no one: who granted what to whom stays in the database, only digests go public.
LEDGER_ACTOR = "system:consent"
LEDGER_SUBJECT = "letter"
SYSTEM_EXPIRY = "system:expiry"
SYSTEM_USAGE = "system:usage"
GRANTEE_KINDS = (OrgKind.INSTITUTION, OrgKind.PLATFORM)
MAX_VALIDITY = timedelta(days=5 * 366)
MAX_DATA_LIFE_DAYS = 5 * 366
NOTE_MAX = 500


# --------------------------------------------------------------------------- checking terms


def _choice(value: str | None, *, allowed: Sequence[str], field: str) -> str:
    text = (value or "").strip()
    if text not in allowed:
        raise ValidationFailed("must be one of: {choices}", field=field, choices=", ".join(allowed))
    return text


def end_of_day(day: date) -> datetime:
    """The last moment of a day in China, as the portal's date fields mean it."""
    return datetime.combine(day, time.max, tzinfo=clock.SHANGHAI)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.SHANGHAI)


@dataclass(frozen=True)
class CheckedTerms:
    categories: list[str]
    levels: list[str]
    purpose: str
    view: str
    valid_from: datetime
    valid_until: datetime
    data_from: date | None
    data_until: date | None
    fetch_mode: str
    fetch_period_days: int | None
    data_life_days: int
    max_queries: int | None
    note: str | None


def check_terms(session: Session, terms: LetterTerms) -> CheckedTerms:
    """The terms if they make sense; ``ValidationFailed`` naming the first field that does not."""
    known = {c.code for c in catalog_service.list_categories(session)}
    categories: list[str] = []
    for position, code in enumerate(terms.categories):
        code = (code or "").strip()
        if code not in known:
            raise ValidationFailed(
                "category {code} is not in the catalogue",
                field=f"categories.{position}",
                code=code,
            )
        if code not in categories:
            categories.append(code)
    levels: list[str] = []
    for position, level in enumerate(terms.levels):
        level = (level or "").strip()
        if level not in LEVELS:
            raise ValidationFailed(
                "must be one of: {choices}", field=f"levels.{position}", choices=", ".join(LEVELS)
            )
        if level not in levels:
            levels.append(level)
    if not categories and not levels:
        raise ValidationFailed(
            "name at least one category or sensitivity level", field="categories"
        )
    purpose = _choice(terms.purpose, allowed=LETTER_PURPOSES, field="purpose")
    view = _choice(terms.view or LetterView.FULL, allowed=tuple(LetterView), field="view")
    if purpose in DESENSITIZED_PURPOSES:
        view = LetterView.DESENSITIZED
    now = clock.now()
    valid_from = clock.as_utc(terms.valid_from) if terms.valid_from else now
    valid_until = clock.as_utc(terms.valid_until)
    if valid_until <= valid_from:
        raise ValidationFailed("must be later than valid_from", field="valid_until")
    if valid_until <= now:
        raise ValidationFailed("must be in the future", field="valid_until")
    if valid_until - valid_from > MAX_VALIDITY:
        raise ValidationFailed("a letter is valid for at most five years", field="valid_until")
    if terms.data_from and terms.data_until and terms.data_until < terms.data_from:
        raise ValidationFailed("must not be earlier than data_from", field="data_until")
    fetch_mode = _choice(
        terms.fetch_mode or FetchMode.ONCE, allowed=tuple(FetchMode), field="fetch_mode"
    )
    period = terms.fetch_period_days
    if fetch_mode == FetchMode.PERIODIC:
        if period is None or period < 1:
            raise ValidationFailed(
                "a periodic letter needs a period of at least one day", field="fetch_period_days"
            )
        if period > MAX_VALIDITY.days:  # longer than any letter lives: and past a date's range
            raise ValidationFailed(
                "must be between {minimum} and {maximum}",
                field="fetch_period_days",
                minimum=1,
                maximum=MAX_VALIDITY.days,
            )
    else:
        period = None
    if terms.data_life_days < 1 or terms.data_life_days > MAX_DATA_LIFE_DAYS:
        raise ValidationFailed(
            "must be between {minimum} and {maximum}",
            field="data_life_days",
            minimum=1,
            maximum=MAX_DATA_LIFE_DAYS,
        )
    if terms.max_queries is not None and terms.max_queries < 1:
        raise ValidationFailed("must be at least {minimum}", field="max_queries", minimum=1)
    note = (terms.note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise ValidationFailed("at most {maximum} characters", field="note", maximum=NOTE_MAX)
    return CheckedTerms(
        categories=categories,
        levels=levels,
        purpose=purpose,
        view=view,
        valid_from=valid_from,
        valid_until=valid_until,
        data_from=terms.data_from,
        data_until=terms.data_until,
        fetch_mode=fetch_mode,
        fetch_period_days=period,
        data_life_days=terms.data_life_days,
        max_queries=terms.max_queries,
        note=note,
    )


# --------------------------------------------------------------------------- transitions


def terms_body(letter: AuthorizationLetter) -> dict[str, Any]:
    """The fixed terms of a letter (what never changes after it is made)."""
    return {
        "id": letter.public_id,
        "credit_code": letter.credit_code,
        "grantor_id": letter.grantor_id,
        "grantee_scope": letter.grantee_scope,
        "grantee_id": letter.grantee_id,
        "categories": list(letter.categories),
        "levels": list(letter.levels),
        "purpose": letter.purpose,
        "view": letter.view,
        "valid_from": clock.as_utc(letter.valid_from).isoformat(timespec="microseconds"),
        "valid_until": clock.as_utc(letter.valid_until).isoformat(timespec="microseconds"),
        "data_from": letter.data_from.isoformat() if letter.data_from else None,
        "data_until": letter.data_until.isoformat() if letter.data_until else None,
        "fetch_mode": letter.fetch_mode,
        "fetch_period_days": letter.fetch_period_days,
        "data_life_days": letter.data_life_days,
        "max_queries": letter.max_queries,
    }


def _transition_body(letter: AuthorizationLetter, row: LetterTransition) -> dict[str, Any]:
    return {
        "letter": terms_body(letter),
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "reason": row.reason,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


def _record(session: Session, letter: AuthorizationLetter, step: Step) -> LetterTransition:
    row = LetterTransition(
        letter_id=letter.id,
        transition=step.transition,
        from_state=step.from_state,
        to_state=step.to_state,
        actor=step.actor,
        reason=step.reason,
        at=step.at,
    )
    body = _transition_body(letter, row)
    row.digest = ledger_service.digest_of(body)
    row.salt = ledger_service.new_salt()
    session.add(row)
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
        ref=f"{letter.public_id}:{row.id}",
        body=body,
        salt=row.salt,
    )
    return row


class LetterHistory:
    """A letter's moves live in their own table, each also a leaf of the ledger whose
    reference names the row (``letter:row id``)."""

    def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None:
        session.flush()  # the letter's own row first: the move names it
        _record(session, subject, step)

    def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]:
        return list(transitions_of(session, letter=subject))


_LIVE = (LetterState.PENDING, LetterState.ACTIVE, LetterState.PAUSED)

LETTERS: Machine[LetterState] = Machine(
    kind=LEDGER_SUBJECT,
    states=LetterState,
    subject=AuthorizationLetter,
    moves=(
        Move("grant", (), LetterState.ACTIVE),  # the enterprise grants
        Move("request", (), LetterState.PENDING),  # an institution or platform asks
        Move("approve", (LetterState.PENDING,), LetterState.ACTIVE),
        Move("reject", (LetterState.PENDING,), LetterState.REJECTED),
        Move("pause", (LetterState.ACTIVE,), LetterState.PAUSED),
        Move("resume", (LetterState.PAUSED,), LetterState.ACTIVE),
        Move("revoke", _LIVE, LetterState.REVOKED),
        Move("expire", _LIVE, LetterState.EXPIRED),  # the clock
        Move("use_up", (LetterState.ACTIVE,), LetterState.USED_UP),  # the last allowed query
    ),
    # Who moves a letter is the grantor's check (``_own_letter``) or the system's sweep.
    refusal=N_("cannot {transition} a letter that is {state}"),
    keeps_reason=True,
    reason_max=NOTE_MAX,
    history=LetterHistory(),
)


def _move(
    session: Session,
    letter: AuthorizationLetter,
    *,
    transition: str,
    actor: str,
    reason: str | None = None,
) -> AuthorizationLetter:
    reason = LETTERS.check(letter, transition, reason=reason)
    # A use this transaction claimed came first: count it before the letter moves (the
    # guard then refuses a move the use made impossible, a letter it spent).
    claim = session.info.get(_CLAIMS, {}).pop(letter.id, None)
    if claim is not None:
        _spend(session, claim)
    LETTERS.move(session, letter, transition, actor=actor, reason=reason)
    return letter


def _grantor_of(principal: Principal) -> str:
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only the enterprise that grants a letter may do this", field="letter_id")
    iam_service.check_active(principal)  # a pending claim to the code grants nothing
    return principal.credit_code


def _own_letter(principal: Principal, letter: AuthorizationLetter) -> None:
    """The enterprise acts only on letters it granted (or was asked for)."""
    if _grantor_of(principal) != letter.credit_code:
        raise Forbidden(
            "authorization letter {letter} was not granted by your enterprise",
            field="letter_id",
            letter=letter.public_id,
        )


def _new_letter(
    *,
    credit_code: str,
    grantor_id: str | None,
    grantor_name: str,
    scope: str,
    grantee_id: str | None,
    grantee_name: str | None,
    grantee_kind: str | None,
    terms: CheckedTerms,
    requested_by: str | None,
) -> AuthorizationLetter:
    return AuthorizationLetter(
        public_id=new_id("aut"),
        credit_code=credit_code,
        grantor_id=grantor_id,
        grantor_name=grantor_name,
        grantee_scope=scope,
        grantee_id=grantee_id,
        grantee_name=grantee_name,
        grantee_kind=grantee_kind,
        categories=terms.categories,
        levels=terms.levels,
        purpose=terms.purpose,
        view=terms.view,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        data_from=terms.data_from,
        data_until=terms.data_until,
        fetch_mode=terms.fetch_mode,
        fetch_period_days=terms.fetch_period_days,
        data_life_days=terms.data_life_days,
        max_queries=terms.max_queries,
        queries_used=0,
        note=terms.note,
        requested_by=requested_by,
    )


def _grantee(session: Session, grantee_id: str | None) -> tuple[str, str, str]:
    """(public id, name, kind) of an active institution or platform; ``ValidationFailed`` else."""
    wanted = (grantee_id or "").strip()
    if not wanted:
        raise ValidationFailed("this field is required", field="grantee_id")
    organization = iam_service.get_organization(session, public_id=wanted)
    if (
        organization is None
        or organization.kind not in GRANTEE_KINDS
        or organization.state != OrgState.ACTIVE
    ):
        raise ValidationFailed(
            "no active institution or platform {grantee}", field="grantee_id", grantee=wanted
        )
    return organization.public_id, organization.name, organization.kind


def grant(session: Session, *, principal: Principal, data: LetterIn) -> AuthorizationLetter:
    """The enterprise grants a letter, active at once; it must have signed the commitment."""
    credit_code = _grantor_of(principal)
    scope = _choice(data.grantee_scope, allowed=tuple(GranteeScope), field="grantee_scope")
    terms = check_terms(session, data)
    grantee_id: str | None
    grantee_name: str | None
    if scope == GranteeScope.ORGANIZATION:
        grantee_id, grantee_name, grantee_kind = _grantee(session, data.grantee_id)
    else:
        if terms.purpose not in APPLICATION_PURPOSES:
            raise ValidationFailed(
                "any institution may be named only for an application "
                "(loan application, guarantee review, insurance underwriting)",
                field="grantee_scope",
            )
        grantee_id = grantee_name = None
        grantee_kind = OrgKind.INSTITUTION
    require_signed(session, credit_code=credit_code)
    letter = _new_letter(
        credit_code=credit_code,
        grantor_id=principal.organization_public_id,
        grantor_name=principal.organization_name,
        scope=scope,
        grantee_id=grantee_id,
        grantee_name=grantee_name,
        grantee_kind=grantee_kind,
        terms=terms,
        requested_by=None,
    )
    session.add(letter)
    LETTERS.begin(session, letter, "grant", actor=principal.actor)
    return letter


def request(
    session: Session, *, principal: Principal, data: LetterRequestIn
) -> AuthorizationLetter:
    """An institution or platform asks an enterprise for a letter; it waits, pending."""
    if principal.organization_kind not in GRANTEE_KINDS:
        raise Forbidden("only an institution or a platform asks for a letter", field="credit_code")
    code = registry_service.parse_code_or_raise(data.credit_code)
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    enterprise = iam_service.get_enterprise_organization(session, credit_code=code)
    if enterprise is None:
        raise ValidationFailed(
            "{credit_code} has no account on the platform to answer a request",
            field="credit_code",
            credit_code=code,
        )
    terms = check_terms(session, data)
    letter = _new_letter(
        credit_code=code,
        grantor_id=enterprise.public_id,
        grantor_name=subject.name,
        scope=GranteeScope.ORGANIZATION,
        grantee_id=principal.organization_public_id,
        grantee_name=principal.organization_name,
        grantee_kind=principal.organization_kind,
        terms=terms,
        requested_by=principal.actor,
    )
    session.add(letter)
    LETTERS.begin(session, letter, "request", actor=principal.actor)
    return letter


def approve(
    session: Session, *, principal: Principal, letter: AuthorizationLetter
) -> AuthorizationLetter:
    """Pending → active: the enterprise grants what an institution asked for."""
    _own_letter(principal, letter)
    require_signed(session, credit_code=letter.credit_code)
    if letter.state == LetterState.PENDING and clock.as_utc(letter.valid_until) <= clock.now():
        raise Conflict("the request ran past its validity; ask for a new one", field="valid_until")
    return _move(
        session,
        letter,
        transition="approve",
        actor=principal.actor,
    )


def reject(
    session: Session, *, principal: Principal, letter: AuthorizationLetter, reason: str | None
) -> AuthorizationLetter:
    """Pending → rejected, with the reason the institution sees."""
    _own_letter(principal, letter)
    return _move(
        session,
        letter,
        transition="reject",
        actor=principal.actor,
        reason=reason,
    )


def pause(
    session: Session, *, principal: Principal, letter: AuthorizationLetter, reason: str | None
) -> AuthorizationLetter:
    """Active → paused: no query passes until the enterprise resumes it."""
    _own_letter(principal, letter)
    return _move(
        session,
        letter,
        transition="pause",
        actor=principal.actor,
        reason=reason,
    )


def resume(
    session: Session, *, principal: Principal, letter: AuthorizationLetter
) -> AuthorizationLetter:
    """Paused → active."""
    _own_letter(principal, letter)
    if clock.as_utc(letter.valid_until) <= clock.now():
        return expire(session, letter=letter)
    return _move(
        session,
        letter,
        transition="resume",
        actor=principal.actor,
    )


def revoke(
    session: Session, *, principal: Principal, letter: AuthorizationLetter, reason: str | None
) -> AuthorizationLetter:
    """The enterprise withdraws a letter, at any time, effective at once."""
    _own_letter(principal, letter)
    return _move(
        session,
        letter,
        transition="revoke",
        actor=principal.actor,
        reason=reason,
    )


def expire(session: Session, *, letter: AuthorizationLetter) -> AuthorizationLetter:
    """The letter ran past its validity (the clock's move)."""
    return _move(
        session,
        letter,
        transition="expire",
        actor=SYSTEM_EXPIRY,
    )


@dataclass
class _Claim:
    """Uses of one letter to count when the transaction commits, as the decision saw it."""

    letter_pk: int
    last_used_at: datetime | None
    refused: Callable[[Session, str], object]
    uses: int = 1


_CLAIMS = "xyd.consent.letter_claims"


def claim_use(
    session: Session,
    *,
    letter: AuthorizationLetter,
    refused: Callable[[Session, str], object],
) -> None:
    """Count one allowed query of ``letter`` as the caller's transaction commits.

    The count is one conditional ``UPDATE`` run just before the commit, not a row lock
    taken when the decision is made: a bank's reports on one letter would otherwise queue
    on that lock while each report is built. The update adds the uses only if the letter
    is still active and valid, has them left and (periodic letters) was not used since the
    decision read it; if a request that committed first took the last use, the commit is
    refused (``RefusedAtCommit``), the work rolled back, and ``refused(session, reason)``
    records the refusal in a transaction of its own. The use that spends a letter moves it
    to used_up in the same transaction. Uses claimed but not yet counted are
    ``pending_uses``: a second decision in the same transaction sees them.
    """
    claims: dict[int, _Claim] = session.info.setdefault(_CLAIMS, {})
    claim = claims.get(letter.id)
    if claim is None:
        claims[letter.id] = _Claim(letter.id, letter.last_used_at, refused)
    else:
        claim.uses += 1


def pending_uses(session: Session, *, letter: AuthorizationLetter) -> int:
    """Uses of ``letter`` claimed in this transaction and not yet counted."""
    claims: dict[int, _Claim] = session.info.get(_CLAIMS, {})
    claim = claims.get(letter.id)
    return claim.uses if claim is not None else 0


def _spend(session: Session, claim: _Claim) -> None:
    letters = AuthorizationLetter
    now = clock.now()
    seen = (
        letters.last_used_at.is_(None)
        if claim.last_used_at is None
        else letters.last_used_at == claim.last_used_at
    )
    counted = session.execute(
        update(letters)
        .where(
            letters.id == claim.letter_pk,
            letters.state == LetterState.ACTIVE,
            letters.valid_until > now,
            or_(
                letters.max_queries.is_(None),
                letters.queries_used + claim.uses <= letters.max_queries,
            ),
            or_(letters.fetch_mode != FetchMode.ONCE, letters.queries_used == 0),
            or_(letters.fetch_mode != FetchMode.PERIODIC, seen),
        )
        .values(queries_used=letters.queries_used + claim.uses, last_used_at=now)
        .returning(
            letters.queries_used, letters.fetch_mode, letters.max_queries, letters.updated_at
        )
        .execution_options(synchronize_session=False)
    ).first()
    if counted is None:
        letter = session.get(AuthorizationLetter, claim.letter_pk, populate_existing=True)
        reason = _lost_reason(letter)
        raise RefusedAtCommit(
            "authorization letter {letter} was used up or withdrawn by another request "
            "while this one was answered",
            field="letter_id",
            error_code=reason,
            letter=letter.public_id if letter is not None else "",
            record=lambda s: claim.refused(s, reason),
        )
    used, fetch_mode, max_queries, updated_at = counted
    spent = fetch_mode == FetchMode.ONCE or (max_queries is not None and used >= max_queries)
    if not spent:
        # The letter as loaded in this session learns its new count without reading it again.
        loaded = session.identity_map.get(identity_key(AuthorizationLetter, claim.letter_pk))
        if loaded is not None:
            set_committed_value(loaded, "queries_used", used)
            set_committed_value(loaded, "last_used_at", now)
            set_committed_value(loaded, "updated_at", updated_at)
        return
    letter = session.get(AuthorizationLetter, claim.letter_pk, populate_existing=True)
    if letter is None:  # deleted between the update and this read: nothing left to move
        return
    _move(session, letter, transition="use_up", actor=SYSTEM_USAGE)


def _lost_reason(letter: AuthorizationLetter | None) -> str:
    """The refusal code of a use lost at commit time, from the letter as it is now."""
    if letter is None or letter.state == LetterState.REVOKED:
        return LETTER_REVOKED
    if letter.state == LetterState.PAUSED:
        return LETTER_PAUSED
    if letter.state == LetterState.EXPIRED or clock.as_utc(letter.valid_until) <= clock.now():
        return LETTER_EXPIRED
    if letter.state == LetterState.USED_UP or letter.fetch_mode == FetchMode.ONCE:
        return LETTER_USED_UP
    if letter.max_queries is not None and letter.queries_used >= letter.max_queries:
        return LETTER_USED_UP
    return TOO_FREQUENT  # a periodic letter used by another request since it was read


@event.listens_for(Session, "before_commit")
def _count_claimed_uses(session: Session) -> None:
    claims: dict[int, _Claim] = session.info.pop(_CLAIMS, {})
    for claim in claims.values():
        _spend(session, claim)


@event.listens_for(Session, "after_rollback")
def _forget_claimed_uses(session: Session) -> None:
    session.info.pop(_CLAIMS, None)


def expire_due(session: Session, *, limit: int = 1000) -> int:
    """Move every letter past its validity to expired; how many moved (the periodic sweep)."""
    rows = session.scalars(
        select(AuthorizationLetter)
        .where(
            AuthorizationLetter.state.in_(LETTERS.sources("expire")),
            AuthorizationLetter.valid_until <= clock.now(),
        )
        .order_by(AuthorizationLetter.id)
        .limit(limit)
    ).all()
    for letter in rows:
        expire(session, letter=letter)
    return len(rows)


# --------------------------------------------------------------------------- reading


def get(session: Session, *, letter_id: str) -> AuthorizationLetter | None:
    """The letter with this id."""
    return session.scalar(
        select(AuthorizationLetter).where(AuthorizationLetter.public_id == letter_id)
    )


def get_or_raise(session: Session, *, letter_id: str) -> AuthorizationLetter:
    letter = get(session, letter_id=letter_id)
    if letter is None:
        raise NotFound("no authorization letter {letter}", field="letter_id", letter=letter_id)
    return letter


def may_see(principal: Principal, letter: AuthorizationLetter) -> bool:
    """The grantor, the named grantee, the operator and auditors see a letter."""
    kind = principal.organization_kind
    if kind in (OrgKind.OPERATOR, OrgKind.AUDITOR):
        return True
    if kind == OrgKind.ENTERPRISE:
        return principal.credit_code == letter.credit_code
    return letter.grantee_id == principal.organization_public_id


def visible_or_raise(
    session: Session, *, principal: Principal, letter_id: str
) -> AuthorizationLetter:
    """The letter if the principal may see it; ``NotFound`` otherwise (nothing is revealed)."""
    letter = get_or_raise(session, letter_id=letter_id)
    if not may_see(principal, letter):
        raise NotFound("no authorization letter {letter}", field="letter_id", letter=letter_id)
    return letter


def transitions_of(session: Session, *, letter: AuthorizationLetter) -> list[LetterTransition]:
    return list(
        session.scalars(
            select(LetterTransition)
            .where(LetterTransition.letter_id == letter.id)
            .order_by(LetterTransition.at, LetterTransition.id)
        )
    )


def letters_statement(
    *,
    principal: Principal,
    state: str | None = None,
    purpose: str | None = None,
    credit_code: str | None = None,
) -> Select[Any]:
    """Letters the principal may see, newest first: an enterprise's own, a grantee's held,
    everything for the operator and auditors."""
    if state and state not in tuple(LetterState):
        raise ValidationFailed(
            "must be one of: {choices}", field="state", choices=", ".join(LetterState)
        )
    stmt = select(AuthorizationLetter).order_by(
        AuthorizationLetter.created_at.desc(), AuthorizationLetter.id.desc()
    )
    kind = principal.organization_kind
    if kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(AuthorizationLetter.credit_code == (principal.credit_code or ""))
    elif kind in GRANTEE_KINDS:
        stmt = stmt.where(AuthorizationLetter.grantee_id == principal.organization_public_id)
    elif kind not in (OrgKind.OPERATOR, OrgKind.AUDITOR):
        raise Forbidden("your organization may not do this")
    if state:
        stmt = stmt.where(AuthorizationLetter.state == state)
    if purpose:
        stmt = stmt.where(AuthorizationLetter.purpose == purpose)
    if credit_code:
        stmt = stmt.where(AuthorizationLetter.credit_code == credit_code.strip().upper())
    return stmt


def candidates(
    session: Session, *, principal: Principal, credit_code: str
) -> list[AuthorizationLetter]:
    """Every letter of ``credit_code`` that names the principal's organization, or any
    institution when it is one, newest first."""
    reach = [AuthorizationLetter.grantee_id == principal.organization_public_id]
    if principal.organization_kind == OrgKind.INSTITUTION:
        reach.append(AuthorizationLetter.grantee_scope == GranteeScope.ANY_INSTITUTION)
    stmt = (
        select(AuthorizationLetter)
        .where(AuthorizationLetter.credit_code == credit_code, or_(*reach))
        .order_by(AuthorizationLetter.created_at.desc(), AuthorizationLetter.id.desc())
    )
    return list(session.scalars(stmt))


def subjects_with_letters(session: Session, *, principal: Principal, purpose: str) -> list[str]:
    """The credit codes whose active letters, valid now, let the principal's organization use
    them for ``purpose`` (named, or any institution when it is one), in code order: who may
    take part in a joint job. A letter used up or paused does not count."""
    now = clock.now()
    reach = [AuthorizationLetter.grantee_id == principal.organization_public_id]
    if principal.organization_kind == OrgKind.INSTITUTION:
        reach.append(AuthorizationLetter.grantee_scope == GranteeScope.ANY_INSTITUTION)
    stmt = (
        select(AuthorizationLetter.credit_code)
        .where(
            or_(*reach),
            AuthorizationLetter.purpose == purpose,
            AuthorizationLetter.state == LetterState.ACTIVE,
            AuthorizationLetter.valid_from <= now,
            AuthorizationLetter.valid_until > now,
        )
        .distinct()
        .order_by(AuthorizationLetter.credit_code)
    )
    return list(session.scalars(stmt))


def state_counts(session: Session) -> dict[str, int]:
    """How many letters there are in each state."""
    rows = session.execute(
        select(AuthorizationLetter.state, func.count()).group_by(AuthorizationLetter.state)
    )
    return {state: int(count) for state, count in rows}


def applications_by_grantee(session: Session) -> dict[str, int]:
    """Enterprises each organization holds an application letter of (any state but rejected):
    the count anomaly flags set queries against until the marketplace records applications."""
    rows = session.execute(
        select(
            AuthorizationLetter.grantee_id,
            func.count(func.distinct(AuthorizationLetter.credit_code)),
        )
        .where(
            AuthorizationLetter.purpose.in_(APPLICATION_PURPOSES),
            AuthorizationLetter.state != LetterState.REJECTED,
            AuthorizationLetter.grantee_id.is_not(None),
        )
        .group_by(AuthorizationLetter.grantee_id)
    )
    return {grantee: int(count) for grantee, count in rows if grantee}


def open_application_letters(session: Session) -> list[tuple[str, str]]:
    """(letter id, credit code) of every letter to any institution for an application."""
    rows = session.execute(
        select(AuthorizationLetter.public_id, AuthorizationLetter.credit_code).where(
            AuthorizationLetter.grantee_scope == GranteeScope.ANY_INSTITUTION,
            AuthorizationLetter.state != LetterState.REJECTED,
        )
    )
    return [(letter_id, code) for letter_id, code in rows]


# --------------------------------------------------------------------------- the ledger


def _stored(letter: AuthorizationLetter, row: LetterTransition) -> StoredEvent:
    """A move as the ledger checks it: recomputed from the rows, with its salt."""
    return StoredEvent(
        ref=f"{letter.public_id}:{row.id}",
        digest=ledger_service.digest_of(_transition_body(letter, row)),
        salt=None if row.salt is None else bytes(row.salt),
        subject=LEDGER_SUBJECT,
        actor=LEDGER_ACTOR,
    )


ledger_service.register_steps(
    LEDGER_KIND,
    step=LetterTransition,
    owner=AuthorizationLetter,
    owner_of_step=LetterTransition.letter_id,
    stored=_stored,
)
