"""Points scaling and grades: how log-odds become a score, and a score a grade.

A score is ``offset + factor * ln(odds)`` where odds are good:bad. The defaults put 600
points at odds of 50:1 and add 20 points each time the odds double (PDO), the usual
convention of credit scorecards. Grades are bands of the score, best first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xinyidai.core.errors import ValidationFailed

BASE_SCORE = 600.0
BASE_ODDS = 50.0
PDO = 20.0

# (grade, lowest score in it); the last grade takes every score below the one before.
DEFAULT_GRADES: tuple[tuple[str, float | None], ...] = (
    ("AAA", 660.0),
    ("AA", 640.0),
    ("A", 620.0),
    ("BBB", 600.0),
    ("BB", 580.0),
    ("B", 560.0),
    ("CCC", 540.0),
    ("CC", 520.0),
    ("C", None),
)


@dataclass(frozen=True)
class Scaling:
    """Base score at base odds (good:bad) and points to double the odds."""

    base_score: float = BASE_SCORE
    base_odds: float = BASE_ODDS
    pdo: float = PDO

    def __post_init__(self) -> None:
        if not self.pdo > 0:
            raise ValidationFailed("points to double the odds must be positive", field="pdo")
        if not self.base_odds > 0:
            raise ValidationFailed("the base odds must be positive", field="base_odds")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_of_logit(self, logit_bad: np.ndarray) -> np.ndarray:
        """The score of a log-odds of being bad (higher log-odds, lower score)."""
        return self.offset - self.factor * logit_bad

    def probability(self, score: np.ndarray) -> np.ndarray:
        """The probability of being bad that a score stands for."""
        exponent = np.clip((np.asarray(score, dtype=float) - self.offset) / self.factor, -700, 700)
        return 1.0 / (1.0 + np.exp(exponent))

    def to_dict(self) -> dict[str, float]:
        return {"base_score": self.base_score, "base_odds": self.base_odds, "pdo": self.pdo}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scaling:
        return cls(
            base_score=float(data["base_score"]),
            base_odds=float(data["base_odds"]),
            pdo=float(data["pdo"]),
        )


@dataclass(frozen=True)
class Grades:
    """Grade bands, best first: each grade holds scores from its cut-off up."""

    bands: tuple[tuple[str, float | None], ...] = DEFAULT_GRADES

    def __post_init__(self) -> None:
        names = [name for name, _ in self.bands]
        if not names:
            raise ValidationFailed("at least one grade is needed", field="grades")
        if len(set(names)) != len(names):
            raise ValidationFailed("grade names must be unique", field="grades")
        cuts = [cut for _, cut in self.bands[:-1]]
        if any(cut is None for cut in cuts):
            raise ValidationFailed("every grade but the last needs a cut-off", field="grades")
        if self.bands[-1][1] is not None:
            raise ValidationFailed(
                "the last grade takes every lower score and has no cut-off", field="grades"
            )
        numbers = [float(cut) for cut in cuts if cut is not None]
        if any(a <= b for a, b in itertools.pairwise(numbers)):
            raise ValidationFailed("grade cut-offs must decrease, best grade first", field="grades")

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.bands]

    def of(self, scores: np.ndarray) -> np.ndarray:
        """The grade of each score, as an array of grade names."""
        cuts = np.array([cut for _, cut in self.bands[:-1]], dtype=float)
        # cuts decrease; the number of cut-offs strictly above a score is its grade's position
        position = np.searchsorted(-cuts, -np.asarray(scores, dtype=float), side="left")
        return np.array(self.names, dtype=object)[position]

    def to_list(self) -> list[dict[str, Any]]:
        return [{"grade": name, "min_score": cut} for name, cut in self.bands]

    @classmethod
    def from_list(cls, data: Sequence[dict[str, Any]]) -> Grades:
        return cls(
            tuple(
                (
                    str(item["grade"]),
                    None if item["min_score"] is None else float(item["min_score"]),
                )
                for item in data
            )
        )

    @classmethod
    def parse(cls, text: str) -> Grades:
        """``"AAA:660,AA:640,...,C"``: names with cut-offs, the last without."""
        bands: list[tuple[str, float | None]] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, _, cut = part.partition(":")
            if not name.strip():
                raise ValidationFailed("a grade needs a name: {part}", field="grades", part=part)
            try:
                bands.append((name.strip(), float(cut) if cut.strip() else None))
            except ValueError:
                raise ValidationFailed(
                    "grade cut-off {value} is not a number", field="grades", value=cut
                ) from None
        return cls(tuple(bands))
