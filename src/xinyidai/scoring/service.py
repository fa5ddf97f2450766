"""Business logic of the rating: rate every enterprise, one, or those a record concerns.

A rating is computed set-based (``features.compute`` then the scorecard over arrays) and
added to ``credit_rating`` with the model version and the as-of day; nothing is updated in
place, so the latest rating is the current one and the rest its history. A negative record
re-rates its enterprise as it is stored: records calls ``on_records_stored`` (registered
below) inside the storing transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.consent.schemas import NO_BASIS, Decision
from xinyidai.core import clock
from xinyidai.core.db import insert_frame, insert_missing
from xinyidai.core.errors import NotFound
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.graph import service as graph_service
from xinyidai.records import service as records_service
from xinyidai.records.schemas import Fact
from xinyidai.registry import service as registry_service
from xinyidai.scoring import features, platform_model
from xinyidai.scoring.models import (
    TRIGGER_ARRIVAL,
    TRIGGER_REQUEST,
    TRIGGER_RUN,
    CreditRating,
    RatingModel,
    RatingRun,
)
from xinyidai.scoring.schemas import ModelFeatureOut, ModelOut, RatingOut, ReasonOut
from xinyidai.scoring.scorecard.model import ScorecardModel, Scored

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

WRITE_CHUNK = 100_000
JOB_KIND = "rating.run"
RATE_ALL_TASK = "rating.rate_all"  # the queue task that runs a JOB_KIND job


class Reporter(Protocol):
    """Where a long run reports its progress (``core.jobs.Progress`` is one)."""

    def set_total(self, total: int | None) -> None: ...

    def advance(self, count: int = 1, message: str | None = None) -> None: ...


# ------------------------------------------------------------------------------ models
def register_model(session: Session, *, model: ScorecardModel, source: str) -> RatingModel:
    """Keep the model's JSON under its version (once), so its ratings stay explainable."""
    found = session.get(RatingModel, model.version)
    if found is not None:
        return found
    # Files ingested side by side may each rate for the first time at once: one adds the
    # model, the others find it.
    insert_missing(
        session,
        RatingModel.__table__,
        [
            {
                "version": model.version,
                "name": model.name,
                "body": model.to_dict(),
                "features": len(model.features),
                "source": source[:200],
                "created_at": clock.now(),
            }
        ],
        key="version",
    )
    row = session.get(RatingModel, model.version)
    assert row is not None  # added here, or by the writer this one waited for
    return row


def model_in_force(session: Session) -> ScorecardModel:
    """The rating model in force, registered by version."""
    model = platform_model.current()
    row = register_model(session, model=model, source=str(platform_model.path_in_force().name))
    # held by the session, so that the next rating finds it without asking the database
    session.info["xyd_rating_model"] = row
    return model


@lru_cache(maxsize=16)
def _model_from_body(version: str, body: str) -> ScorecardModel:
    return ScorecardModel.from_dict(json.loads(body))


def model_by_version(session: Session, *, version: str) -> ScorecardModel:
    """The model that produced a rating, from the models kept by version."""
    current = platform_model.current()
    if current.version == version:
        return current
    row = session.get(RatingModel, version)
    if row is None:
        raise NotFound("no rating model {version}", field="model_version", version=version)
    return _model_from_body(version, json.dumps(row.body, sort_keys=True))


def model_out(model: ScorecardModel, *, locale: str) -> ModelOut:
    """The model in force as the API shows it."""
    return ModelOut(
        version=model.version,
        base_score=model.scaling.base_score,
        base_odds=model.scaling.base_odds,
        pdo=model.scaling.pdo,
        grades=[{"grade": name, "min_score": cut} for name, cut in model.grades.bands],
        features=[
            ModelFeatureOut(
                name=f.name,
                code=f.reason_text.code,
                text=f.reason_text.text(locale),
                kind=f.kind,
                information_value=round(f.iv, 4),
                bins=len(f.bins),
            )
            for f in model.features
        ],
        training={
            k: v for k, v in model.training.items() if k in ("rows", "bads", "bad_rate", "metrics")
        },
    )


# ------------------------------------------------------------------------------ rating
def _reasons_json(scored: Scored) -> list[str]:
    """Each row's reasons as JSON text ``[[feature, bin, impact], ...]``.

    Reasons depend on a row's bins only, and a million enterprises fall into a few
    thousand combinations of bins: the text is built once per combination.
    """
    first, inverse = scored.distinct()
    order, impacts = scored.reason_matrix(rows=first)
    names = scored.model.feature_names
    texts = []
    for row, positions, losses in zip(
        first.tolist(), order.tolist(), impacts.tolist(), strict=True
    ):
        items = [
            [names[p], int(scored.bins[row, p]), round(loss, 2)]
            for p, loss in zip(positions, losses, strict=True)
            if p >= 0
        ]
        texts.append(json.dumps(items, ensure_ascii=False, separators=(",", ":")))
    spread: list[str] = np.array(texts, dtype=object)[inverse].tolist()
    return spread


def _rating_frame(
    table: pl.DataFrame,
    model: ScorecardModel,
    *,
    trigger: str,
    run_id: str | None,
) -> tuple[pl.DataFrame, Scored]:
    """Score the indicator table: the rows to add to ``credit_rating``."""
    import polars as pl

    scored = model.apply({name: table[name].to_numpy() for name in model.feature_names})
    rows = pl.DataFrame(
        {
            "credit_code": table["credit_code"],
            "score": scored.score,
            "grade": scored.grade.astype(str),
            "probability": np.round(scored.probability, 6),
            "reasons": _reasons_json(scored),
        }
    ).with_columns(
        pl.lit(model.version).alias("model_version"),
        table["as_of"].alias("as_of"),
        pl.lit(trigger).alias("trigger"),
        pl.lit(run_id, dtype=pl.String).alias("run_id"),
        pl.lit(clock.now()).dt.convert_time_zone("UTC").alias("rated_at"),
    )
    return rows, scored


def _store(session: Session, rows: pl.DataFrame) -> None:
    insert_frame(session, CreditRating.__table__, rows, json_columns=("reasons",))


def rate_subjects(
    session: Session,
    *,
    credit_codes: Sequence[str],
    on: date | None = None,
    trigger: str = TRIGGER_REQUEST,
) -> int:
    """Rate these subjects now (set-based); how many were rated."""
    wanted = list(dict.fromkeys(credit_codes))
    if not wanted:
        return 0
    model = model_in_force(session)
    table = features.compute(session, on=on or clock.today(), credit_codes=wanted)
    rows, _ = _rating_frame(table, model, trigger=trigger, run_id=None)
    _store(session, rows)
    return rows.height


def rate_one(
    session: Session, *, credit_code: str, on: date | None = None, trigger: str = TRIGGER_REQUEST
) -> CreditRating:
    """Rate one subject now and return its new rating."""
    code = registry_service.parse_code_or_raise(credit_code)
    model = model_in_force(session)
    table = features.compute(session, on=on or clock.today(), credit_codes=[code])
    if table.height == 0:
        raise NotFound(
            "no credit subject with code {credit_code}", field="credit_code", credit_code=code
        )
    rows, _ = _rating_frame(table, model, trigger=trigger, run_id=None)
    values = rows.row(0, named=True)
    rating = CreditRating(**(values | {"reasons": json.loads(values["reasons"])}))
    session.add(rating)
    session.flush()
    return rating


def rate_all(
    session: Session,
    *,
    on: date | None = None,
    actor: str | None = None,
    job_id: str | None = None,
    progress: Reporter | None = None,
    commit: Callable[[], None] | None = None,
) -> RatingRun:
    """Rate every active or pending subject as of ``on`` (today by default), set-based.

    The indicators are read category by category in bulk, scored as arrays and added in
    chunks of ``WRITE_CHUNK``; ``progress`` counts the parts read and the chunks written.
    A job passes ``commit`` to make each chunk durable as it goes (and its progress
    visible); the run's row comes last, so a run cut short has none and is simply run
    again. Without ``commit`` the caller's transaction holds the whole run.
    """
    started = clock.now()
    clock_start = time.monotonic()
    day = on or clock.today()
    model = model_in_force(session)
    if commit is not None:
        commit()
    run_id = new_id("rrun")
    parts = features.parts()
    if progress is not None:
        progress.set_total(parts + 2)

    def step(name: str) -> None:
        if progress is not None:
            progress.advance(1, f"features: {name}")

    table = features.compute(session, on=day, step=step)
    rows, scored = _rating_frame(table, model, trigger=TRIGGER_RUN, run_id=run_id)
    if commit is not None:
        commit()  # end the reading transaction before writing
    chunks = max(1, -(-rows.height // WRITE_CHUNK))
    if progress is not None:
        progress.set_total(parts + 1 + chunks)
        progress.advance(1, "scored")
    for start in range(0, max(rows.height, 1), WRITE_CHUNK):
        _store(session, rows.slice(start, WRITE_CHUNK))
        if commit is not None:
            commit()
        if progress is not None:
            progress.advance(1, f"stored {min(start + WRITE_CHUNK, rows.height)}")
    grades = {name: int((scored.grade == name).sum()) for name in model.grades.names}
    run = RatingRun(
        id=run_id,
        job_id=job_id,
        model_version=model.version,
        as_of=day,
        rated=rows.height,
        grades=grades,
        mean_score=round(float(scored.score.mean()), 2) if rows.height else None,
        seconds=round(time.monotonic() - clock_start, 3),
        actor=actor,
        started_at=started,
        finished_at=clock.now(),
    )
    session.add(run)
    session.flush()
    return run


# ------------------------------------------------------------------------------ reading
def current_rating(session: Session, *, credit_code: str) -> CreditRating | None:
    """The latest rating of a subject, or None."""
    return session.scalar(
        select(CreditRating)
        .where(CreditRating.credit_code == credit_code)
        .order_by(CreditRating.id.desc())
        .limit(1)
    )


def current_scores(
    session: Session, *, credit_codes: Sequence[str]
) -> dict[str, tuple[float, float, str]]:
    """The latest rating of each of these subjects that has one: code -> (score,
    probability, grade); set-based, a few statements for any number of codes."""
    found: dict[str, tuple[float, float, str]] = {}
    codes = list(dict.fromkeys(credit_codes))
    for start in range(0, len(codes), 500):
        part = codes[start : start + 500]
        latest = (
            select(func.max(CreditRating.id).label("id"))
            .where(CreditRating.credit_code.in_(part))
            .group_by(CreditRating.credit_code)
            .subquery()
        )
        rows = session.execute(
            select(
                CreditRating.credit_code,
                CreditRating.score,
                CreditRating.probability,
                CreditRating.grade,
            ).join(latest, CreditRating.id == latest.c.id)
        )
        for code, score, probability, grade in rows:
            found[code] = (float(score), float(probability), str(grade))
    return found


def current_or_rate(session: Session, *, credit_code: str) -> CreditRating:
    """The latest rating of a subject; rated now if it has none yet."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=credit_code)
    rating = current_rating(session, credit_code=subject.credit_code)
    if rating is None:
        rating = rate_one(session, credit_code=subject.credit_code)
    return rating


def history(
    session: Session, *, credit_code: str, page: int = 1, size: int = 20
) -> tuple[Sequence[CreditRating], int]:
    """A subject's ratings, newest first (one page, and the total)."""
    registry_service.get_by_code_or_raise(session, credit_code=credit_code)
    return paginate(session, history_statement(credit_code=credit_code), page=page, size=size)


def history_statement(*, credit_code: str) -> Select[Any]:
    """A subject's ratings, newest first."""
    return (
        select(CreditRating)
        .where(CreditRating.credit_code == credit_code)
        .order_by(CreditRating.id.desc())
    )


def runs_statement() -> Select[Any]:
    """Full runs, newest first."""
    return select(RatingRun).order_by(RatingRun.finished_at.desc())


def ratings_of_run(session: Session, *, run_id: str) -> Sequence[CreditRating]:
    """Every rating a full run gave."""
    return session.scalars(select(CreditRating).where(CreditRating.run_id == run_id)).all()


def latest_run(session: Session) -> RatingRun | None:
    return session.scalar(select(RatingRun).order_by(RatingRun.finished_at.desc()).limit(1))


def rated_subjects(session: Session) -> int:
    """How many subjects have at least one rating."""
    return int(session.scalar(select(func.count(func.distinct(CreditRating.credit_code)))) or 0)


def reasons_of(session: Session, rating: CreditRating, *, locale: str) -> list[ReasonOut]:
    """A rating's reasons with their texts, from the model version that gave them."""
    model = model_by_version(session, version=rating.model_version)
    out = []
    for name, index, impact in rating.reasons:
        feature = model.feature(str(name))
        text = feature.reason_text.text(locale)
        label = feature.label(int(index), locale)
        out.append(
            ReasonOut(
                code=feature.reason_text.code,
                text=f"{text}: {label}" if locale == "en" else f"{text}：{label}",
                impact=float(impact),
            )
        )
    return out


def rating_out(session: Session, rating: CreditRating, *, locale: str) -> RatingOut:
    """A stored rating as the API and the portal show it."""
    return RatingOut(
        credit_code=rating.credit_code,
        score=rating.score,
        grade=rating.grade,
        probability=rating.probability,
        model_version=rating.model_version,
        as_of=rating.as_of,
        rated_at=rating.rated_at,
        trigger=rating.trigger,
        reasons=reasons_of(session, rating, locale=locale),
        marks=sorted(records_service.rating_marks(session, subject_code=rating.credit_code)),
    )


# ------------------------------------------------------------------------------ arrival
NEGATIVE_GRADES = {
    "tax_rating": ("grade", ("C", "D")),
    "customs_record": ("customs_grade", ("失信企业",)),
}
ARREARS_FIELDS = {
    "social_insurance": ("arrears_months", "arrears_amount"),
    "housing_fund": ("arrears_months",),
    "utility_payment": ("arrears_months", "arrears_amount"),
    "tax_payment": ("overdue_tax",),
}


def _positive_number(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def negative_subjects(session: Session, *, category: str, facts: Sequence[Fact]) -> list[str]:
    """The subjects these facts bring a negative record for, in categories the rating reads.

    A record of a negative category (penalty, enforcement, lists), a grade that is a bad
    one (tax C or D, a dishonest customs grade), or arrears in a payment record.
    """
    if category not in features.source_categories():
        return []
    if catalog_service.polarities(session).get(category) == "negative":
        return list(dict.fromkeys(f.subject_code for f in facts))
    codes: list[str] = []
    if category in NEGATIVE_GRADES:
        field, bad = NEGATIVE_GRADES[category]
        codes = [f.subject_code for f in facts if f.data.get(field) in bad]
    elif category in ARREARS_FIELDS:
        names = ARREARS_FIELDS[category]
        codes = [
            f.subject_code for f in facts if any(_positive_number(f.data.get(n)) for n in names)
        ]
    return list(dict.fromkeys(codes))


def arrival_paused() -> AbstractContextManager[None]:
    """Store records without re-rating on arrival: a bulk load that a full run rates after.
    The records' own pause of their listeners, under the name the rating's callers know."""
    return records_service.listeners_paused()


def on_records_stored(session: Session, category: str, facts: Sequence[Fact]) -> None:
    """Re-rate the enterprises a newly stored negative record concerns, in the same
    transaction. A record of a bad signal association analysis follows (dishonest debtor,
    enforcement, the lists) also changes the bad-neighbour counts of the enterprises
    around its subject: they are counted again and those whose counts changed re-rated
    too. A failure to rate is logged, never a failure to store: the next full run rates
    them (and the next region analysis counts again)."""
    try:
        codes = negative_subjects(session, category=category, facts=facts)
        if category in graph_service.BAD_CATEGORIES:
            around = graph_service.recount_around(
                session, codes=list(dict.fromkeys(f.subject_code for f in facts))
            )
            codes = list(dict.fromkeys([*codes, *around]))
        if not codes:
            return
        model = model_in_force(session)
        table = features.compute(session, on=clock.today(), credit_codes=codes)
        rows, _ = _rating_frame(table, model, trigger=TRIGGER_ARRIVAL, run_id=None)
    except Exception:  # the records are stored all the same; the next run rates them
        log.exception("re-rating on arrival of %s records failed", category)
        return
    _store(session, rows)


records_service.on_stored(on_records_stored)


def rated_categories() -> list[str]:
    """Every catalogue category a rating reveals something of (``features``): a reader sees
    a rating, or anything derived from it, only if its access decision grants them all."""
    return features.rated_categories()


def withheld_from(decision: Decision) -> str | None:
    """Why an access decision does not let its actor see the rating, or None if it does:
    the score and its reasons reveal every category the rating is computed from (its
    association indicators, the subject's links), so the decision must grant them all (a
    category the catalogue lacks feeds nothing)."""
    if not decision.allowed:
        return decision.reason or NO_BASIS
    for category in features.rated_categories():
        if category in decision.withheld:
            return decision.withheld[category]
    return None
