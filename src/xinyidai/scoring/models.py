"""Tables of the rating: the models used, each full run, and every rating ever given.

Ratings are only ever added: the latest rating of an enterprise is its current one, the
others its history. Each names the model version that produced it, and the model's JSON
is kept by version, so an old rating can still be explained after the model changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

TRIGGER_RUN = "run"  # a full run over every enterprise
TRIGGER_ARRIVAL = "arrival"  # a negative record arrived about the enterprise
TRIGGER_REQUEST = "request"  # asked for one enterprise (no rating yet, or a re-rating)
TRIGGERS = (TRIGGER_RUN, TRIGGER_ARRIVAL, TRIGGER_REQUEST)


class RatingModel(Base):
    """A version of the rating model, with its JSON (bins, points, reasons)."""

    __tablename__ = "rating_model"

    version: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RatingRun(Base):
    """One full-coverage run: when, with which model, as of which day, and the outcome."""

    __tablename__ = "rating_run"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[date] = mapped_column(Date)
    rated: Mapped[int] = mapped_column(Integer)
    grades: Mapped[dict[str, int]] = mapped_column(JSON)
    mean_score: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    actor: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CreditRating(Base):
    """One rating of one enterprise; its reasons as ``[feature, bin, impact]`` triples."""

    __tablename__ = "credit_rating"
    __table_args__ = (Index("ix_credit_rating_code_id", "credit_code", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    probability: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[str | None] = mapped_column(String(40), index=True)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())
