"""Threshold answers (可验证不可见): whether an enterprise clears a threshold — tax paid in
the latest year at least X yuan, a social-insurance headcount of at least N, no arrears,
registered capital at least X yuan — answered yes or no, never with the value.

The facts are the rating's indicators (``scoring.features.compute`` for the one subject,
as of today), so a threshold answer and a rating read the same records the same way:

    tax_paid_last_year   tax paid in the latest year of tax-payment records  ≥ threshold
    insured_headcount    insured headcount of the latest social-insurance record ≥ threshold
    no_arrears           no overdue tax in the latest year, no months in arrears on the
                         latest social-insurance and housing-fund records nor on any
                         utility bill of the latest year (no record: no arrears)
    registered_capital   registered capital (public registration)  ≥ threshold

Every answer goes through the access decision (purpose ``verification``: a letter for
verification covering the categories, the operator's duty, or the department's own
category) and is its access event. An organization may have at most
``settings.joint.threshold_answers`` answers about one enterprise and one question in
``settings.joint.threshold_window_days`` days: asking a yes-or-no question is a step of a
binary search, and k steps over a range narrow a value only to a 2^-k part of it (three
steps over 0 to 10 million yuan leave a band of 1.25 million). The limit is counted from
the stored answers, in the database, so every web process of a node shares it and a
restart forgets nothing; past it the question is refused (429, ``Retry-After``) before any
decision is made, so nothing more is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import VERIFICATION, Decision
from xinyidai.core import clock
from xinyidai.core.db import is_postgres
from xinyidai.core.errors import Forbidden, TooManyRequests, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.joint.models import ThresholdAnswer, ThresholdQuestion
from xinyidai.registry import service as registry_service
from xinyidai.scoring import features

# Who may ask: the kinds that may hold a letter for verification, and the operator.
ASKERS = (OrgKind.INSTITUTION, OrgKind.PLATFORM, OrgKind.OPERATOR)
# Largest threshold taken (yuan or heads): past it a question says nothing a smaller one
# would not, and a bigger number is a typo.
MAX_THRESHOLD = Decimal("1000000000000")


@dataclass(frozen=True)
class Question:
    """What one threshold question reads: the categories the decision must grant and the
    indicators that answer it; whether it takes a threshold."""

    categories: tuple[str, ...]
    indicators: tuple[str, ...]
    needs_threshold: bool


QUESTIONS: dict[str, Question] = {
    ThresholdQuestion.TAX_PAID_LAST_YEAR: Question(
        ("tax_payment",), ("tax_paid_last_year",), needs_threshold=True
    ),
    ThresholdQuestion.INSURED_HEADCOUNT: Question(
        ("social_insurance",), ("insured_count",), needs_threshold=True
    ),
    ThresholdQuestion.NO_ARREARS: Question(
        ("tax_payment", "social_insurance", "housing_fund", "utility_payment"),
        ("tax_overdue", "si_arrears_months", "hf_arrears_months", "utility_arrears_months"),
        needs_threshold=False,
    ),
    ThresholdQuestion.REGISTERED_CAPITAL: Question(
        ("registration",), ("registered_capital",), needs_threshold=True
    ),
}


@dataclass(frozen=True)
class Answer:
    """A threshold answer: the question, the threshold, yes or no, and what is left."""

    public_id: str
    credit_code: str
    question: str
    threshold: Decimal | None
    holds: bool
    event_id: str
    asked_at: datetime
    remaining: int


def question_or_raise(value: str) -> Question:
    """The question named ``value``; ``ValidationFailed`` on ``question`` if unknown."""
    found = QUESTIONS.get(value)
    if found is None:
        raise ValidationFailed(
            "must be one of: {choices}", field="question", choices=", ".join(QUESTIONS)
        )
    return found


def parse_threshold(question: Question, value: Any) -> Decimal | None:
    """The threshold as a decimal (yuan or heads), checked: needed where the question
    compares, refused where it does not; never negative, never past ``MAX_THRESHOLD``."""
    if not question.needs_threshold:
        if value is not None:
            raise ValidationFailed("this question takes no threshold", field="threshold")
        return None
    if value is None or isinstance(value, bool):
        raise ValidationFailed("this question needs a threshold", field="threshold")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed("must be a number", field="threshold") from None
    if not number.is_finite() or number < 0 or number > MAX_THRESHOLD:
        raise ValidationFailed(
            "must be between 0 and {maximum}", field="threshold", maximum=str(MAX_THRESHOLD)
        )
    return number


def answers_statement(
    *, organization_id: str, credit_code: str, question: str, since: datetime
) -> Select[ThresholdAnswer]:
    """The answers an organization had about an enterprise and question since a moment."""
    return select(ThresholdAnswer).where(
        ThresholdAnswer.organization_id == organization_id,
        ThresholdAnswer.credit_code == credit_code,
        ThresholdAnswer.question == question,
        ThresholdAnswer.asked_at > since,
    )


def answers_of(*, organization_id: str) -> Select[ThresholdAnswer]:
    """The answers given to an organization, newest first (what it may list)."""
    return (
        select(ThresholdAnswer)
        .where(ThresholdAnswer.organization_id == organization_id)
        .order_by(ThresholdAnswer.asked_at.desc(), ThresholdAnswer.id.desc())
    )


def _lock(session: Session, key: str) -> None:
    """Serialize the count and the answer of one organization, enterprise and question on
    PostgreSQL (an advisory lock until commit), so two requests cannot both pass the limit;
    SQLite has one writer at a time already."""
    if is_postgres(session):
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def check_limit(
    session: Session, *, organization_id: str, credit_code: str, question: str, now: datetime
) -> int:
    """How many answers are left in the window; ``TooManyRequests`` when none are."""
    settings = get_settings().joint
    window = timedelta(days=settings.threshold_window_days)
    since = now - window
    _lock(session, f"joint.threshold:{organization_id}:{credit_code}:{question}")
    counted = answers_statement(
        organization_id=organization_id, credit_code=credit_code, question=question, since=since
    ).with_only_columns(func.count(), func.min(ThresholdAnswer.asked_at))
    count, oldest = session.execute(counted).one()
    if count >= settings.threshold_answers:
        free_at = clock.as_utc(oldest) + window
        seconds = max(1, int((free_at - now).total_seconds()) + 1)
        raise TooManyRequests(
            "{question} was answered {count} times about {subject} in {days} days; "
            "ask again after {moment}",
            retry_after=seconds,
            field="question",
            question=question,
            count=count,
            subject=credit_code,
            days=settings.threshold_window_days,
            moment=clock.to_local(free_at).strftime("%Y-%m-%d %H:%M"),
        )
    return int(settings.threshold_answers - count)


def _holds(question: str, row: dict[str, Any], threshold: Decimal | None) -> bool:
    """Whether the indicators in ``row`` clear the question (a missing value does not)."""
    if question == ThresholdQuestion.NO_ARREARS:
        return all((row.get(name) or 0.0) <= 0 for name in QUESTIONS[question].indicators)
    value = row.get(QUESTIONS[question].indicators[0])
    if value is None or threshold is None:
        return False
    return Decimal(repr(float(value))) >= threshold


def decide(
    session: Session, *, actor: Principal, credit_code: str, question: str, letter_id: str | None
) -> Decision:
    """The access decision for one threshold question (purpose ``verification``)."""
    return consent_service.decide(
        session,
        actor=actor,
        subject=credit_code,
        categories=list(QUESTIONS[question].categories),
        purpose=VERIFICATION,
        letter_id=letter_id,
        channel="api:joint.threshold",
    )


def answer(
    session: Session,
    *,
    actor: Principal,
    credit_code: str,
    question: str,
    threshold: Any = None,
    letter_id: str | None = None,
    on_refusal: Callable[[Forbidden], Forbidden] | None = None,
) -> Answer:
    """Answer one threshold question about an enterprise for ``actor``.

    The question and threshold are checked, then the limit (refused past it, before the
    decision), then the access decision; a refusal is raised through ``on_refusal`` (the
    edge's ``core.db.commit_refusal``, which commits the refusal's access event first). The
    answer is stored and counted."""
    if actor.organization_kind not in ASKERS:
        raise Forbidden("your organization may not do this")
    spec = question_or_raise(question)
    limit = parse_threshold(spec, threshold)
    code = registry_service.parse_code_or_raise(credit_code)
    now = clock.now()
    remaining = check_limit(
        session,
        organization_id=actor.organization_public_id,
        credit_code=code,
        question=question,
        now=now,
    )
    decision = decide(
        session, actor=actor, credit_code=code, question=question, letter_id=letter_id
    )
    if not decision.allowed:
        refused = consent_service.refusal(decision)
        raise on_refusal(refused) if on_refusal is not None else refused
    table = features.compute(session, on=clock.today(), credit_codes=[code])
    row = table.row(0, named=True) if table.height else {}
    holds = _holds(question, row, limit)
    stored = ThresholdAnswer(
        public_id=new_id("thr"),
        organization_id=actor.organization_public_id,
        credit_code=code,
        question=question,
        threshold=None if limit is None else str(limit),
        holds=holds,
        event_id=decision.event_id,
        asked_by=actor.actor,
        asked_at=now,
    )
    session.add(stored)
    session.flush()
    return Answer(
        public_id=stored.public_id,
        credit_code=code,
        question=question,
        threshold=limit,
        holds=holds,
        event_id=decision.event_id,
        asked_at=now,
        remaining=remaining - 1,
    )
