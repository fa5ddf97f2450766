"""Fitting and checking the rating model on known outcomes (a synthetic region's defaults).

The indicators come from the database exactly as a rating computes them, so the model is
fitted on what it will be applied to; the association indicators need the region analysis
to have counted the bad neighbours, as of the region's day (``analyse_associations``).
``outcomes_of`` reads a ``xyd synth`` folder's ``truth/defaults.csv`` and the day its
feeds describe (``manifest.json``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from xinyidai.core.errors import ValidationFailed
from xinyidai.graph import service as graph_service
from xinyidai.scoring import features, indicators, loan_behaviour, platform_model
from xinyidai.scoring.scorecard import metrics
from xinyidai.scoring.scorecard.model import ScorecardModel
from xinyidai.scoring.scorecard.report import Evaluation, evaluate
from xinyidai.scoring.scorecard.table import prepare

TARGET = "defaulted"


@dataclass(frozen=True)
class Outcomes:
    """Known outcomes (credit code → 1 defaulted, 0 not) and the day the data describe."""

    values: Mapping[str, int]
    as_of: date
    source: str


def outcomes_of(folder: Path) -> Outcomes:
    """The defaults of a synthetic region and the day its feeds describe."""
    manifest = folder / "manifest.json"
    truth = folder / "truth" / "defaults.csv"
    if not manifest.exists() or not truth.exists():
        raise ValidationFailed(
            "{path} is not a synthetic region (manifest.json and truth/defaults.csv)",
            field="region",
            path=str(folder),
        )
    facts = json.loads(manifest.read_text(encoding="utf-8"))
    with truth.open(encoding="utf-8", newline="") as handle:
        values = {row["credit_code"]: int(row["defaulted"]) for row in csv.DictReader(handle)}
    return Outcomes(
        values=values,
        as_of=date.fromisoformat(facts["as_of"]),
        source=f"synthetic region seed {facts.get('seed')}, {len(values)} subjects",
    )


def analyse_associations(session: Session, outcomes: Outcomes) -> str:
    """Run the region analysis over the region's records, counting bad neighbours as of the
    day its data describe (what the association indicators read); its id."""
    analysis = graph_service.analyse(session, on=outcomes.as_of, actor="system:rating")
    session.flush()
    return analysis.id


def loan_book_of(folder: Path) -> Any:
    """A synthetic region's loan book (``loans/loans.csv``) as the loan indicators read
    loans, or None when the region has none."""
    path = folder / "loans" / "loans.csv"
    return loan_behaviour.from_book(path) if path.exists() else None


def labelled_features(session: Session, outcomes: Outcomes, *, loans: Any = None) -> Any:
    """The indicators of every subject with an outcome, as a pandas frame with the target.
    ``loans`` (the shape ``loan_behaviour.LOAN_COLUMNS``) stands in for the platform's
    loans, as a synthetic loan book does."""
    import pandas as pd

    # in code order, so that the seeded split does not depend on how the database stores rows
    table = features.compute(session, on=outcomes.as_of, loans=loans).sort("credit_code")
    codes = table["credit_code"].to_list()
    known = [code in outcomes.values for code in codes]
    if not any(known):
        raise ValidationFailed(
            "none of the region's subjects are in the database: ingest the region first",
            field="region",
        )
    frame = pd.DataFrame({name: table[name].to_numpy() for name in table.columns})
    frame = frame[np.array(known)].reset_index(drop=True)
    frame[TARGET] = [outcomes.values[code] for code in frame["credit_code"]]
    return frame


def train(
    session: Session,
    outcomes: Outcomes,
    *,
    test_size: float = platform_model.TEST_SIZE,
    seed: int = platform_model.SEED,
    loans: Any = None,
) -> Evaluation:
    """Fit the rating model on the region's outcomes, holding a part out to measure it.
    The region analysis runs first, so that the association indicators are counted.

    The loan indicators take part only where there are loans (on the platform, or in
    ``loans``): without any, the fit is the one from the records alone."""
    analyse_associations(session, outcomes)
    frame = labelled_features(session, outcomes, loans=loans)
    absent = [name for name in loan_behaviour.LOAN_INDICATORS if frame[name].isna().all()]
    table = prepare(
        frame,
        target=TARGET,
        id_column="credit_code",
        exclude=["as_of", *absent],
        categorical=indicators.CATEGORICAL_NAMES,
    )
    evaluation = evaluate(
        table,
        platform_model.estimator(),
        test_size=test_size,
        seed=seed,
        source=outcomes.source,
    )
    evaluation.card.model_ = evaluation.model.with_training(as_of=outcomes.as_of.isoformat())
    return evaluation


def measure(
    session: Session, model: ScorecardModel, outcomes: Outcomes, *, loans: Any = None
) -> dict[str, Any]:
    """How well ``model`` ranks a region's outcomes: AUC, Gini, KS and bad rate per grade."""
    frame = labelled_features(session, outcomes, loans=loans)
    scored = model.apply({name: frame[name].to_numpy() for name in model.feature_names})
    y = frame[TARGET].to_numpy()
    return {
        "subjects": len(y),
        "defaults": int(y.sum()),
        **metrics.summary(y, scored.probability),
        "grades": metrics.grade_table(y, scored.grade, model.grades.names),
    }
