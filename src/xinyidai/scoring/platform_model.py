"""The platform's rating model: which one is in force, and how it is trained.

A trained model ships inside the package (``data/platform_model.json``) so that a new
node rates from its first run. ``xyd rate train`` writes a new one; put in the data folder
(``<XYD_DATA_DIR>/scoring/platform_model.json``) it takes over from the shipped one. Both
are readable JSON: bins, points and reason texts of every indicator.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.scoring import indicators
from xinyidai.scoring.scorecard.model import ScorecardModel

if TYPE_CHECKING:
    from xinyidai.scoring.scorecard.fitting import Scorecard

MODEL_NAME = "xyd-rating"
SHIPPED = Path(__file__).resolve().parent / "data" / "platform_model.json"

# Settings of the platform scorecard: small bins are allowed because the strongest signals
# (dishonest debtors, enforcement) concern one or two enterprises in a hundred.
MIN_BIN_SIZE = 0.01
MAX_BINS = 6
MIN_IV = 0.01
MAX_CORRELATION = 0.7
TEST_SIZE = 0.3
SEED = 20260101


def installed_path() -> Path:
    """Where a model trained on this node is put to take over from the shipped one."""
    return get_settings().data_dir / "scoring" / "platform_model.json"


def path_in_force() -> Path:
    installed = installed_path()
    return installed if installed.exists() else SHIPPED


@lru_cache(maxsize=4)
def _load(path: str, modified: float) -> ScorecardModel:
    model = ScorecardModel.load(Path(path))
    unknown = [name for name in model.feature_names if name not in indicators.BY_NAME]
    if unknown:
        raise ValidationFailed(
            "the rating model uses features the indicator system does not compute: {names}",
            field="model",
            names=", ".join(unknown),
        )
    return model


def current() -> ScorecardModel:
    """The rating model in force (read again when its file changes)."""
    path = path_in_force()
    if not path.exists():
        raise ValidationFailed("no rating model at {path}", field="model", path=str(path))
    return _load(str(path), path.stat().st_mtime)


def estimator() -> Scorecard:
    """The scorecard estimator the platform model is fitted with."""
    from xinyidai.scoring.scorecard.fitting import Scorecard

    return Scorecard(
        name=MODEL_NAME,
        categorical=indicators.CATEGORICAL_NAMES,
        max_n_bins=MAX_BINS,
        min_bin_size=MIN_BIN_SIZE,
        min_iv=MIN_IV,
        max_correlation=MAX_CORRELATION,
        reasons=indicators.reasons(),
        special_labels=indicators.special_labels(),
    )
