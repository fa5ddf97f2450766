"""The early-warning model: for a live loan, the probability that it falls 30 or more days
overdue, or defaults, within six months.

It reads the borrower's rating (its score: everything the rating's indicators say), the
loan's own repayment so far (days overdue now, the longest delay, the share of instalments
paid on time, the share of the principal still outstanding, the amount), the borrower's
other live loans on the platform and its bad neighbours (associated enterprises one link
away that are dishonest debtors, under enforcement or on a list: ``graph``). It is a
scorecard fitted with the platform's toolkit (``scoring.scorecard``), so each warning comes
with its top reasons (the bins that lost the most points), and it ships as readable JSON
(``data/warning_model.json``); one put in the data folder
(``<XYD_DATA_DIR>/risk/warning_model.json``) takes over, as for the rating model.

``table`` builds the model's columns from loans in the shape
``scoring.loan_behaviour.LOAN_COLUMNS`` and the borrowers' scores and bad neighbours: the
same function serves the nightly refresh (loans from the marketplace) and fitting on a
synthetic region (its loan book), so a model is fitted on what it is applied to.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.scoring.scorecard.model import MISSING, ReasonText, ScorecardModel
from xinyidai.scoring.scorecard.scaling import Grades

if TYPE_CHECKING:
    import polars as pl

    from xinyidai.scoring.scorecard.fitting import Scorecard

MODEL_NAME = "xyd-warning"
TARGET = "bad"
SHIPPED = Path(__file__).resolve().parent / "data" / "warning_model.json"

# Bands of the warning score (the rating's scaling: 600 points at odds of 50 to 1, 20
# points to double them): low under about 4%, watch under 10%, high under 25%, then severe.
BANDS = Grades((("low", 580.0), ("watch", 550.0), ("high", 520.0), ("severe", None)))
BAND_NAMES = tuple(name for name, _ in BANDS.bands)

MIN_BIN_SIZE = 0.02
MAX_BINS = 6
MIN_IV = 0.01
MAX_CORRELATION = 0.7
TEST_SIZE = 0.3
SEED = 20260601

# feature -> (reason code, Chinese, English, what missing means (zh, en))
FEATURES: dict[str, tuple[str, str, str, tuple[str, str]]] = {
    "rating_score": (
        "RATING",
        "借款企业信用评分",
        "Borrower's credit rating score",
        ("未评级", "not rated"),
    ),
    "days_overdue_now": (
        "OVERDUE_NOW",
        "本笔贷款当前逾期天数",
        "Days overdue now on this loan",
        ("无记录", "no record"),
    ),
    "max_days_overdue": (
        "MAX_OVERDUE",
        "本笔贷款最长逾期天数",
        "Longest delay on this loan (days)",
        ("无记录", "no record"),
    ),
    "on_time_share": (
        "ON_TIME",
        "本笔贷款按期还款比例",
        "Share of this loan's instalments paid on time",
        ("尚无到期还款", "no instalment due yet"),
    ),
    "outstanding_share": (
        "OUTSTANDING_SHARE",
        "未还本金占比",
        "Share of the principal outstanding",
        ("无记录", "no record"),
    ),
    "outstanding": (
        "OUTSTANDING",
        "贷款余额（元）",
        "Outstanding (yuan)",
        ("无记录", "no record"),
    ),
    "other_live_loans": (
        "OTHER_LOANS",
        "借款企业在平台的其他在贷笔数",
        "Borrower's other live loans on the platform",
        ("无记录", "no record"),
    ),
    "bad_associates_1": (
        "BAD_NEIGHBOURS",
        "直接关联企业中的失信、被执行或经营异常企业数",
        "Associated enterprises one link away that are dishonest, enforced or abnormal",
        ("无记录", "no record"),
    ),
}
NAMES = tuple(FEATURES)


def reasons() -> dict[str, ReasonText]:
    return {name: ReasonText(code=c, zh=zh, en=en) for name, (c, zh, en, _) in FEATURES.items()}


def special_labels() -> dict[str, dict[str, dict[str, str]]]:
    return {
        name: {MISSING: {"zh": missing[0], "en": missing[1]}}
        for name, (_, _, _, missing) in FEATURES.items()
    }


def estimator() -> Scorecard:
    """The scorecard estimator the early-warning model is fitted with."""
    from xinyidai.scoring.scorecard.fitting import Scorecard

    return Scorecard(
        name=MODEL_NAME,
        max_n_bins=MAX_BINS,
        min_bin_size=MIN_BIN_SIZE,
        min_iv=MIN_IV,
        max_correlation=MAX_CORRELATION,
        grades=BANDS,
        reasons=reasons(),
        special_labels=special_labels(),
        cap_missing=True,
    )


def table(loans: pl.DataFrame, borrowers: pl.DataFrame) -> pl.DataFrame:
    """The model's columns for every live loan among ``loans`` (``LOAN_COLUMNS``):
    ``loan_id``, ``credit_code`` and ``NAMES``. ``borrowers`` has ``credit_code``,
    ``rating_score`` and ``bad_associates_1`` (a borrower missing from it is unrated and
    has no bad neighbour)."""
    import polars as pl

    from xinyidai.scoring import loan_behaviour

    live = loan_behaviour.per_loan(loans).filter(pl.col("live"))
    joined = live.join(
        borrowers.select(
            pl.col("credit_code"),
            pl.col("rating_score").cast(pl.Float64),
            pl.col("bad_associates_1").cast(pl.Float64),
        ),
        on="credit_code",
        how="left",
    )
    return joined.select(
        "loan_id",
        "credit_code",
        pl.col("rating_score"),
        pl.col("days_overdue_now"),
        pl.col("max_days_overdue"),
        pl.col("on_time_share"),
        pl.col("outstanding_share"),
        pl.col("outstanding"),
        pl.col("other_live_loans"),
        pl.col("bad_associates_1").fill_null(0.0),
    ).sort("loan_id")


def fit(frame: Any, *, test_size: float = TEST_SIZE, seed: int = SEED, source: str = "") -> Any:
    """Fit the model on a pandas frame of ``table`` columns with the outcome ``bad``,
    holding ``test_size`` out; the toolkit's ``Evaluation``."""
    from xinyidai.scoring.scorecard.report import evaluate
    from xinyidai.scoring.scorecard.table import prepare

    prepared = prepare(
        frame, target=TARGET, id_column="loan_id", exclude=["credit_code"], features=list(NAMES)
    )
    return evaluate(prepared, estimator(), test_size=test_size, seed=seed, source=source)


def installed_path() -> Path:
    """Where a model fitted on this node is put to take over from the shipped one."""
    return get_settings().data_dir / "risk" / "warning_model.json"


def path_in_force() -> Path:
    installed = installed_path()
    return installed if installed.exists() else SHIPPED


@lru_cache(maxsize=4)
def _load(path: str, modified: float) -> ScorecardModel:
    model = ScorecardModel.load(Path(path))
    unknown = [name for name in model.feature_names if name not in FEATURES]
    if unknown:
        raise ValidationFailed(
            "the early-warning model uses features the platform does not compute: {names}",
            field="model",
            names=", ".join(unknown),
        )
    return model


def current() -> ScorecardModel:
    """The early-warning model in force (read again when its file changes)."""
    path = path_in_force()
    if not path.exists():
        raise ValidationFailed("no early-warning model at {path}", field="model", path=str(path))
    return _load(str(path), path.stat().st_mtime)
