"""The scorecard toolkit: fit, apply and explain a credit scorecard on any table.

From Python::

    from xinyidai.scoring.scorecard import Scorecard, ScorecardModel

    card = Scorecard(min_iv=0.02).fit(X, y)      # X: pandas frame, y: 0/1 (1 = bad)
    card.predict_proba(X_new)[:, 1]               # probability of bad
    card.score(X_new), card.explain(X_new)        # scores, reasons
    print(card.summary())
    card.model_.save(Path("model/scorecard.json"))
    ScorecardModel.load(Path("model")).apply(frame)   # numpy only: no fitting libraries

From the command line: ``xyd scorecard fit|score|compare`` (see docs/scoring.md).
"""

from xinyidai.scoring.scorecard.fitting import Scorecard, summary_of
from xinyidai.scoring.scorecard.model import (
    MODEL_FILE,
    Feature,
    ReasonText,
    ScorecardModel,
    Scored,
)
from xinyidai.scoring.scorecard.scaling import DEFAULT_GRADES, Grades, Scaling

__all__ = [
    "DEFAULT_GRADES",
    "MODEL_FILE",
    "Feature",
    "Grades",
    "ReasonText",
    "Scaling",
    "Scorecard",
    "ScorecardModel",
    "Scored",
    "summary_of",
]
