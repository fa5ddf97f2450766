"""Targets as configuration (``stats.targets_file``, else the shipped
``stats/data/targets.json``): a figure, an amount and a span of days, and how far along the
platform is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from xinyidai.core import clock
from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.stats.models import FigureKind
from xinyidai.stats.service import figures
from xinyidai.stats.sources import FIGURES

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "targets.json"


class Target(BaseModel):
    name: str = Field(max_length=60)
    label: str = Field(max_length=200)
    figure: str
    amount: Decimal = Field(gt=0)
    start: date
    end: date

    @model_validator(mode="after")
    def _known(self) -> Target:
        figure = FIGURES.get(self.figure)
        if figure is None or figure.kind != FigureKind.FLOW:
            raise ValueError(f"target {self.name}: {self.figure} is not a flow figure")
        if self.end < self.start:
            raise ValueError(f"target {self.name}: ends before it starts")
        return self


class TargetFile(BaseModel):
    targets: list[Target]


@dataclass(frozen=True)
class Progress:
    target: Target
    reached: Decimal
    share: Decimal  # percent of the amount
    elapsed: Decimal  # percent of the span gone by


def load() -> list[Target]:
    """The configured targets; a file that does not read is refused naming it."""
    path = get_settings().stats.targets_file or SHIPPED
    try:
        return TargetFile.model_validate(json.loads(Path(path).read_text("utf-8"))).targets
    except (OSError, ValueError, ValidationError) as exc:
        raise ValidationFailed(
            "the targets file {path} does not read: {reason}",
            field="targets_file",
            path=str(path),
            reason=str(exc).splitlines()[0],
        ) from exc


def progress(session, *, on: date | None = None) -> list[Progress]:  # type: ignore[no-untyped-def]
    """Each target's figure from its start to ``on`` (today), against its amount."""
    on = on or clock.today()
    found = []
    for target in load():
        end = min(on, target.end)
        reached = Decimal(0)
        if end >= target.start:
            reached = figures.totals(session, [target.figure], target.start, end)[
                target.figure
            ] or Decimal(0)
        days = (target.end - target.start).days + 1
        gone = max(0, min(days, (on - target.start).days + 1))
        found.append(
            Progress(
                target,
                reached,
                (reached / target.amount * 100).quantize(figures.CENT),
                (Decimal(gone) / days * 100).quantize(figures.CENT),
            )
        )
    return found
