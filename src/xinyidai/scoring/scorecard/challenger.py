"""The challenger: a gradient-boosting model (LightGBM) on the same columns and split.

It shows how much ranking power the scorecard's explainable form gives up. It is never
used to rate: it has no points, no bins and no reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyidai.scoring.scorecard.model import CATEGORICAL, category_key

if TYPE_CHECKING:
    import pandas as pd

PARAMETERS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": 1,
    "verbose": -1,
}


@dataclass
class Challenger:
    """A fitted LightGBM classifier and how it reads the columns it was fitted on."""

    model: Any
    columns: list[str]
    categories: dict[str, list[str]]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """The probability of being bad of every row."""
        return np.asarray(self.model.predict_proba(_encode(frame, self.columns, self.categories)))[
            :, 1
        ]


def _encode(
    frame: pd.DataFrame, columns: list[str], categories: dict[str, list[str]]
) -> pd.DataFrame:
    import pandas as pd

    encoded = {}
    for name in columns:
        if name in categories:
            keys = [category_key(v) for v in frame[name].tolist()]
            encoded[name] = pd.Categorical(keys, categories=categories[name])
        else:
            encoded[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.DataFrame(encoded, index=frame.index)


def fit_challenger(
    frame: pd.DataFrame, y: np.ndarray, kinds: dict[str, str], *, seed: int = 0
) -> Challenger:
    """Fit LightGBM on ``frame`` (categorical columns as categories, missing kept)."""
    import lightgbm

    columns = list(kinds)
    categories = {
        name: sorted({k for k in (category_key(v) for v in frame[name].tolist()) if k is not None})
        for name, kind in kinds.items()
        if kind == CATEGORICAL
    }
    model = lightgbm.LGBMClassifier(random_state=seed, **PARAMETERS)
    model.fit(_encode(frame, columns, categories), y)
    return Challenger(model=model, columns=columns, categories=categories)
