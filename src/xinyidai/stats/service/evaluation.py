"""Evaluation (考核评价): a published method per year scores every institution and every
region each quarter from the figures, with rankings and the method document beside them.

The method is configuration (``stats/data/evaluation.json``, or the file
``XYD_STATS_EVALUATION_FILE`` names): for each subject (institutions, regions at a chosen
level) a list of indicators, each a figure, a weight (the weights of a subject sum to 100),
a direction (higher or lower is better) and scoring bands (a threshold and the points, out
of 100, a value at least — or, lower being better, at most — that threshold earns; a value
reaching no band earns none, and so does a figure with no value). A subject's score is the
sum of weight × points / 100. Scores are computed from the summary when asked: the same
figures always give the same scores, and a figure's drill-down is the dashboard's table of
the same quarter and cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy.orm import Session

from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import figures, labels
from xinyidai.stats.sources import FIGURES

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "evaluation.json"
SUBJECTS = ("institution", "region")


class Indicator(BaseModel):
    figure: str
    weight: Decimal = Field(gt=0, le=100)
    direction: Literal["higher", "lower"]
    bands: list[tuple[Decimal, Decimal]] = Field(min_length=1)

    def points(self, value: Decimal | None) -> Decimal:
        """The points a value earns: the best band it reaches."""
        if value is None:
            return Decimal(0)
        reached = [
            points
            for threshold, points in self.bands
            if (value >= threshold if self.direction == "higher" else value <= threshold)
        ]
        return max(reached, default=Decimal(0))


class SubjectMethod(BaseModel):
    dimension: Dimension
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _sound(self) -> SubjectMethod:
        if sum(i.weight for i in self.indicators) != 100:
            raise ValueError("the weights of a subject sum to 100")
        for indicator in self.indicators:
            figure = FIGURES.get(indicator.figure)
            if figure is None or not figure.shown:
                raise ValueError(f"unknown figure {indicator.figure}")
            if self.dimension not in figure.dimensions:
                raise ValueError(f"{indicator.figure} has no breakdown by {self.dimension}")
        return self


class Method(BaseModel):
    year: int = Field(ge=2000, le=2100)
    title: str
    subjects: dict[Literal["institution", "region"], SubjectMethod]


class MethodFile(BaseModel):
    methods: list[Method] = Field(min_length=1)


def methods() -> list[Method]:
    path = get_settings().stats.evaluation_file or SHIPPED
    try:
        return MethodFile.model_validate(json.loads(Path(path).read_text("utf-8"))).methods
    except (OSError, ValueError, ValidationError) as exc:
        raise ValidationFailed(
            "the evaluation file {path} does not read: {reason}",
            field="evaluation_file",
            path=str(path),
            reason=str(exc).splitlines()[0],
        ) from exc


def method_or_raise(year: int) -> Method:
    for method in methods():
        if method.year == year:
            return method
    raise NotFound("no evaluation method for {year}", field="year", year=year)


def quarter_span(year: int, quarter: int) -> tuple[date, date]:
    if not 1 <= quarter <= 4:
        raise ValidationFailed("a quarter is 1 to 4", field="quarter")
    first = date(year, 3 * (quarter - 1) + 1, 1)
    last = figures.period_of(Grain.QUARTER, first).last
    return first, last


@dataclass(frozen=True)
class Mark:
    figure: str
    value: Decimal | None
    points: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class Score:
    rank: int
    key: str
    name: str
    score: Decimal
    marks: list[Mark]


@dataclass(frozen=True)
class Ranking:
    method: Method
    subject: str
    dimension: Dimension
    year: int
    quarter: int
    start: date
    end: date
    scores: list[Score]


def rank(session: Session, *, year: int, quarter: int, subject: str) -> Ranking:
    """Every institution (or region) of a quarter scored by the year's method, best first;
    a cell with no figure in the quarter is not ranked."""
    if subject not in SUBJECTS:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="subject",
            value=subject,
            allowed=", ".join(SUBJECTS),
        )
    method = method_or_raise(year)
    chosen = method.subjects.get(subject)  # type: ignore[call-overload]
    if chosen is None:
        raise NotFound(
            "the {year} method does not evaluate {subject}",
            field="subject",
            year=year,
            subject=subject,
        )
    first, last = quarter_span(year, quarter)
    values = figures.table(
        session,
        figures=[i.figure for i in chosen.indicators],
        grain=Grain.QUARTER,
        start=first,
        end=last,
        dimension=chosen.dimension,
    )
    by_key: dict[str, dict[str, Decimal | None]] = {}
    for v in values:
        by_key.setdefault(v.key, {})[v.figure] = v.value
    names = labels.key_labels(session, chosen.dimension, by_key)
    unranked = []
    for key, found in by_key.items():
        if not any(found.values()):
            continue
        marks = []
        for indicator in chosen.indicators:
            points = indicator.points(found.get(indicator.figure))
            marks.append(
                Mark(
                    indicator.figure,
                    found.get(indicator.figure),
                    points,
                    (indicator.weight * points / 100).quantize(figures.CENT),
                )
            )
        unranked.append((sum((m.weighted for m in marks), Decimal(0)), key, marks))
    unranked.sort(key=lambda row: (-row[0], names.get(row[1], row[1])))
    scores = [
        Score(n + 1, key, names.get(key, key), total, marks)
        for n, (total, key, marks) in enumerate(unranked)
    ]
    return Ranking(method, subject, chosen.dimension, year, quarter, first, last, scores)


def last_quarter(today: date) -> tuple[int, int]:
    """The quarter before the one ``today`` is in."""
    first = figures.period_of(Grain.QUARTER, today).first - timedelta(days=1)
    return first.year, (first.month - 1) // 3 + 1
