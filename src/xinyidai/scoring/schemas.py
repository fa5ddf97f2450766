"""What the rating gives out: a rating with its reasons, runs, the model in force."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from xinyidai.core.clock import Day


class ReasonOut(BaseModel):
    """One negative factor: a stable code, its text in the caller's language, the points lost."""

    code: str = Field(examples=["TAX_GRADE"])
    text: str = Field(examples=["纳税信用等级：D"])
    impact: float = Field(description="points below the indicator's best bin", examples=[-41])


class RatingOut(BaseModel):
    """An enterprise's rating: score, grade, probability of default and its reasons."""

    credit_code: str
    score: float = Field(examples=[612])
    grade: str = Field(examples=["A"])
    probability: float = Field(description="probability of default within a year")
    model_version: str
    as_of: date
    rated_at: datetime
    trigger: str = Field(description="run, arrival (a negative record arrived) or request")
    reasons: list[ReasonOut]
    marks: list[str] = Field(
        default_factory=list,
        description="shown beside the rating: objection (an objection to it is being handled, "
        "异议处理中)",
    )


class RatingRunOut(BaseModel):
    """A full-coverage run."""

    id: str
    job_id: str | None
    model_version: str
    as_of: date
    rated: int
    grades: dict[str, int]
    mean_score: float | None
    seconds: float
    actor: str | None
    started_at: datetime
    finished_at: datetime


class RatingRunIn(BaseModel):
    """Start a full run; ``as_of`` defaults to today (Asia/Shanghai)."""

    as_of: Day | None = None


class ModelFeatureOut(BaseModel):
    name: str
    code: str
    text: str
    kind: str
    information_value: float
    bins: int


class ModelOut(BaseModel):
    """The rating model in force: version, scaling, grades and the indicators it uses."""

    version: str
    base_score: float
    base_odds: float
    pdo: float
    grades: list[dict[str, float | str | None]]
    features: list[ModelFeatureOut]
    training: dict[str, object]
