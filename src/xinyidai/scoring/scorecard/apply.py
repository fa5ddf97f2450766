"""Score a CSV with a saved model: id, score, probability, grade and reasons per row.

Rows the model has never seen are scored the same way as in training: a missing value
takes its feature's missing bin, a category not seen in training the neutral bin (weight
of evidence 0), a text in a numeric column counts as missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xinyidai.core import exports
from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard.model import ScorecardModel
from xinyidai.scoring.scorecard.table import read_csv

OUTPUT_COLUMNS = ("score", "probability", "grade", "reasons")


@dataclass(frozen=True)
class ScoredFile:
    """What scoring a file did."""

    rows: int
    out: Path
    grades: dict[str, int]
    model_version: str


def _score_cell(score: float) -> int | float:
    return int(score) if score.is_integer() else round(score, 4)


def score_file(
    model: ScorecardModel,
    data: Path,
    out: Path,
    *,
    id_column: str | None = None,
    max_reasons: int | None = None,
) -> ScoredFile:
    """Score every row of ``data`` into ``out`` (CSV, UTF-8)."""
    frame = read_csv(data)
    if id_column is not None and id_column not in frame.columns:
        raise ValidationFailed("no column {names} in the data", field="id", names=id_column)
    if id_column is None and model.id_column and model.id_column in frame.columns:
        id_column = model.id_column
    missing = [name for name in model.feature_names if name not in frame.columns]
    if missing:
        raise ValidationFailed(
            "the data has no column {name}, which the model needs",
            field="data",
            name=", ".join(missing),
        )
    scored = model.apply({name: frame[name].to_numpy() for name in model.feature_names})
    reasons = scored.reasons(max_reasons)
    ids = frame[id_column].tolist() if id_column else None
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        ([ids[i]] if ids is not None else [])
        + [
            _score_cell(float(scored.score[i])),
            f"{scored.probability[i]:.6f}",
            scored.grade[i],
            json.dumps(
                [r.as_dict() for r in reasons[i]], ensure_ascii=False, separators=(",", ":")
            ),
        ]
        for i in range(len(scored))
    )
    exports.write_csv(out, ([id_column] if id_column else []) + list(OUTPUT_COLUMNS), rows)
    counts = {name: int((scored.grade == name).sum()) for name in model.grades.names}
    return ScoredFile(rows=len(scored), out=out, grades=counts, model_version=model.version)
