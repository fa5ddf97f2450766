"""The scorecard estimator: optimal binning, weight of evidence, logistic regression, points.

Binning is optbinning's (mathematically optimal bins under a monotonic constraint, for
numeric and categorical columns, missing values in a bin of their own); the regression is
scikit-learn's. Both are imported when ``fit`` runs, never to apply a fitted model, which
is a ``ScorecardModel`` (numpy only, saved as JSON).

Weight of evidence here is ``ln(share of goods / share of bads)``: a bin with fewer bads
than average has a positive WoE, so every coefficient of the regression on WoE (for the
log-odds of being bad) must be negative. A feature whose coefficient turns positive next
to correlated ones is dropped and the regression fitted again.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard.model import (
    CATEGORICAL,
    DEFAULT_MAX_REASONS,
    MISSING,
    NUMERIC,
    OTHER,
    Bin,
    Feature,
    ReasonText,
    ScorecardModel,
    as_numbers,
    category_key,
)
from xinyidai.scoring.scorecard.scaling import Grades, Scaling
from xinyidai.scoring.scorecard.table import target_values

if TYPE_CHECKING:
    import pandas as pd

MONOTONIC_TRENDS = (
    "auto",
    "auto_heuristic",
    "auto_asc_desc",
    "ascending",
    "descending",
    "convex",
    "concave",
    "peak",
    "valley",
)
SMOOTHING = 0.5  # pseudo-count for a bin without goods or without bads


@dataclass
class _Binned:
    """A binned candidate feature before regression: its bins and information value."""

    feature: Feature
    iv: float


class Scorecard:
    """A credit scorecard, fitted like a scikit-learn estimator.

    ``fit(X, y)`` bins every column of ``X`` (a pandas frame) against ``y`` (0/1, 1 = bad),
    keeps the columns with enough information value that are not too correlated with a
    stronger one, fits a logistic regression on their weights of evidence and scales it
    into points. ``transform`` gives the weights of evidence, ``predict_proba`` the
    probabilities, ``score`` the scores, ``explain`` the reasons, ``summary`` a text report.
    """

    def __init__(
        self,
        *,
        name: str = "scorecard",
        categorical: Sequence[str] = (),
        monotonic_trend: str | None = "auto_asc_desc",
        monotonic: Mapping[str, str | None] | None = None,
        max_n_bins: int = 6,
        min_bin_size: float = 0.05,
        min_iv: float = 0.02,
        max_correlation: float = 0.7,
        max_features: int | None = None,
        scaling: Scaling | None = None,
        grades: Grades | None = None,
        rounded: bool = True,
        max_reasons: int = DEFAULT_MAX_REASONS,
        C: float = 1.0,  # noqa: N803 - scikit-learn's name for the inverse regularization
        reasons: Mapping[str, ReasonText] | None = None,
        special_labels: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
        max_categories: int = 50,
        time_limit: int = 30,
    ) -> None:
        self.name = name
        self.categorical = tuple(categorical)
        self.monotonic_trend = monotonic_trend
        self.monotonic = dict(monotonic or {})
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.min_iv = min_iv
        self.max_correlation = max_correlation
        self.max_features = max_features
        self.scaling = scaling or Scaling()
        self.grades = grades or Grades()
        self.rounded = rounded
        self.max_reasons = max_reasons
        self.C = C
        self.reasons = dict(reasons or {})
        self.special_labels = dict(special_labels or {})
        self.max_categories = max_categories
        self.time_limit = time_limit

    # ------------------------------------------------------------------ fitting
    def fit(self, X: pd.DataFrame, y: Any) -> Scorecard:  # noqa: N803
        """Bin, select, regress and scale; the fitted model is ``model_``."""
        self._check_parameters()
        target = target_values(y, "target")
        if len(target) != len(X):
            raise ValidationFailed("X and y have different lengths", field="target")
        self.feature_names_in_ = [str(c) for c in X.columns]
        self.n_features_in_ = len(self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        dropped: dict[str, str] = {}
        candidates: list[_Binned] = []
        for name in self.feature_names_in_:
            kind = self._kind_of(X[name], name)
            values = X[name].to_numpy()
            reason = _unusable(values, kind, self.max_categories)
            if reason is not None:
                dropped[name] = reason
                continue
            binned = self._bin(name, kind, values, target)
            if binned is None:
                dropped[name] = "the binning found no split"
                continue
            candidates.append(binned)
        self.iv_ = {c.feature.name: c.iv for c in candidates}
        kept = [c for c in candidates if c.iv >= self.min_iv]
        for c in candidates:
            if c.iv < self.min_iv:
                dropped[c.feature.name] = f"information value {c.iv:.4f} below {self.min_iv}"
        kept.sort(key=lambda c: -c.iv)
        woe = {c.feature.name: _woe_of(c.feature, X[c.feature.name]) for c in kept}
        kept = self._decorrelate(kept, woe, dropped)
        if self.max_features is not None and len(kept) > self.max_features:
            for c in kept[self.max_features :]:
                dropped[c.feature.name] = f"beyond the {self.max_features} strongest features"
            kept = kept[: self.max_features]
        coefficients, intercept = self._regress(kept, woe, target, dropped)
        if not kept:
            raise ValidationFailed(
                "no feature is left to score with (information value at least {min_iv}); "
                "the data does not separate 0 from 1",
                field="data",
                min_iv=self.min_iv,
            )
        features = self._points(kept, coefficients, intercept)
        self.model_ = ScorecardModel(
            name=self.name,
            features=tuple(features),
            intercept=intercept,
            scaling=self.scaling,
            grades=self.grades,
            max_reasons=self.max_reasons,
            rounded=self.rounded,
            dropped=dropped,
            training={
                "rows": len(target),
                "bads": int(target.sum()),
                "bad_rate": float(target.mean()),
                "settings": self.get_params(),
            },
        )
        self.dropped_ = dropped
        self.features_ = self.model_.feature_names
        self.coef_ = np.array([f.coefficient for f in features])
        self.intercept_ = intercept
        return self

    def get_params(self) -> dict[str, Any]:
        """The settings of this estimator (as scikit-learn reports them)."""
        return {
            "monotonic_trend": self.monotonic_trend,
            "max_n_bins": self.max_n_bins,
            "min_bin_size": self.min_bin_size,
            "min_iv": self.min_iv,
            "max_correlation": self.max_correlation,
            "max_features": self.max_features,
            "C": self.C,
            "categorical": list(self.categorical),
        }

    def _check_parameters(self) -> None:
        if self.monotonic_trend is not None and self.monotonic_trend not in MONOTONIC_TRENDS:
            raise ValidationFailed(
                "monotonic trend must be one of {trends}",
                field="monotonic_trend",
                trends=", ".join(MONOTONIC_TRENDS),
            )
        if not 0 < self.min_bin_size < 0.5:
            raise ValidationFailed(
                "the smallest bin must be a share between 0 and 0.5", field="min_bin_size"
            )
        if self.max_n_bins < 2:
            raise ValidationFailed("at least two bins are needed", field="max_n_bins")
        if not 0 < self.max_correlation <= 1:
            raise ValidationFailed(
                "the correlation limit must be in (0, 1]", field="max_correlation"
            )

    def _kind_of(self, column: pd.Series, name: str) -> str:
        import pandas as pd

        if name in self.categorical:
            return CATEGORICAL
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        return NUMERIC if numeric else CATEGORICAL

    def _bin(self, name: str, kind: str, values: np.ndarray, y: np.ndarray) -> _Binned | None:
        from optbinning import OptimalBinning

        trend = self.monotonic.get(name, self.monotonic_trend)
        options: dict[str, Any] = {
            "name": name,
            "max_n_bins": self.max_n_bins,
            "min_bin_size": self.min_bin_size,
            # pre-bins no larger than the smallest bin, or a rare signal (1-3% of rows,
            # like court enforcement) could never get a bin of its own
            "min_prebin_size": min(0.05, self.min_bin_size),
            "time_limit": self.time_limit,
        }
        if kind == NUMERIC:
            x: np.ndarray = as_numbers(values)
            options["dtype"] = "numerical"
            if trend is not None:
                options["monotonic_trend"] = trend
        else:
            keys = [category_key(v) for v in values.tolist()]
            x = np.array([np.nan if k is None else k for k in keys], dtype=object)
            options["dtype"] = "categorical"
        binning = OptimalBinning(**options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binning.fit(x, y)
        if kind == NUMERIC:
            splits = [float(s) for s in np.asarray(binning.splits, dtype=float)]
            groups = _numeric_groups(x, splits)
            present_values = x[~np.isnan(x)]
            integer = bool(np.all(np.mod(present_values, 1) == 0))
            # counts start at their smallest value: "0", "1–2", ">= 3" rather than "<= 0"
            smallest = float(present_values.min()) if integer else None
            if smallest is not None and smallest < 0:
                smallest = None
            bins = [
                _bin_of_numbers(lower, upper, integer, y[group], smallest)
                for (lower, upper), group in zip(_intervals(splits), groups, strict=True)
            ]
            missing = np.isnan(x)
            other = None
        else:
            categories = [tuple(str(c) for c in group) for group in binning.splits]
            if not categories:
                return None
            seen = {c for group in categories for c in group}
            present = np.array([k is not None for k in keys])
            # optbinning may leave out categories too rare to bin; they score as unseen
            bins = []
            for group in categories:
                mask = np.isin(x, list(group)) & present
                bins.append(_bin_of_categories(group, y[mask]))
            missing = ~present
            other_mask = present & ~np.isin(x, list(seen))
            other = Bin(
                label=OTHER,
                points=0.0,
                woe=0.0,
                count=int(other_mask.sum()),
                bads=int(y[other_mask].sum()),
                special=OTHER,
            )
        missing_bin = Bin(
            label=MISSING,
            points=0.0,
            woe=0.0,
            count=int(missing.sum()),
            bads=int(y[missing].sum()),
            special=MISSING,
        )
        goods_total = float(len(y) - y.sum())
        bads_total = float(y.sum())
        weighed = [_with_woe(b, goods_total, bads_total) for b in (*bins, missing_bin)]
        if other is not None and other.count:
            other = _with_woe(other, goods_total, bads_total)
        iv = sum(((b.count - b.bads) / goods_total - b.bads / bads_total) * b.woe for b in weighed)
        if other is not None and other.count:
            iv += ((other.count - other.bads) / goods_total - other.bads / bads_total) * other.woe
        feature = Feature(
            name=name,
            kind=kind,
            coefficient=0.0,
            iv=float(iv),
            bins=tuple(weighed[:-1]),
            missing=weighed[-1],
            other=other,
            reason=self.reasons.get(name),
            special_labels=self.special_labels.get(name, {}),
        )
        return _Binned(feature=feature, iv=float(iv))

    def _decorrelate(
        self, kept: list[_Binned], woe: dict[str, np.ndarray], dropped: dict[str, str]
    ) -> list[_Binned]:
        """Keep features strongest first, dropping one too correlated with a kept one."""
        chosen: list[_Binned] = []
        for candidate in kept:
            name = candidate.feature.name
            worst: tuple[float, str] | None = None
            for other in chosen:
                r = _correlation(woe[name], woe[other.feature.name])
                if abs(r) > self.max_correlation and (worst is None or abs(r) > abs(worst[0])):
                    worst = (r, other.feature.name)
            if worst is None:
                chosen.append(candidate)
            else:
                dropped[name] = f"correlated with {worst[1]} (r = {worst[0]:.2f})"
        return chosen

    def _regress(
        self,
        kept: list[_Binned],
        woe: dict[str, np.ndarray],
        y: np.ndarray,
        dropped: dict[str, str],
    ) -> tuple[dict[str, float], float]:
        """Fit the regression; drop a feature whose coefficient has the wrong sign, refit."""
        from sklearn.linear_model import LogisticRegression

        while kept:
            matrix = np.column_stack([woe[c.feature.name] for c in kept])
            regression = LogisticRegression(C=self.C, max_iter=2000)
            regression.fit(matrix, y)
            coefficients = regression.coef_[0]
            wrong = int(np.argmax(coefficients))
            if coefficients[wrong] <= 0:
                return (
                    {c.feature.name: float(b) for c, b in zip(kept, coefficients, strict=True)},
                    float(regression.intercept_[0]),
                )
            name = kept[wrong].feature.name
            dropped[name] = "its coefficient turned against its bins next to correlated features"
            kept.pop(wrong)
        return {}, 0.0

    def _points(
        self, kept: list[_Binned], coefficients: dict[str, float], intercept: float
    ) -> list[Feature]:
        """Scale the regression into points per bin; the intercept is shared evenly."""
        factor, offset = self.scaling.factor, self.scaling.offset
        share = (offset - factor * intercept) / len(kept)

        def points(woe: float, coefficient: float) -> float:
            value = share - factor * coefficient * woe
            return float(round(value)) if self.rounded else value

        features = []
        for candidate in kept:
            feature = candidate.feature
            b = coefficients[feature.name]
            features.append(
                Feature(
                    name=feature.name,
                    kind=feature.kind,
                    coefficient=b,
                    iv=feature.iv,
                    bins=tuple(_with_points(x, points(x.woe, b)) for x in feature.bins),
                    missing=_with_points(feature.missing, points(feature.missing.woe, b)),
                    other=None
                    if feature.other is None
                    else _with_points(feature.other, points(feature.other.woe, b)),
                    reason=feature.reason,
                    special_labels=feature.special_labels,
                )
            )
        return features

    # ------------------------------------------------------------------ using the fit
    def _fitted(self) -> ScorecardModel:
        model: ScorecardModel | None = getattr(self, "model_", None)
        if model is None:
            raise ValidationFailed("the scorecard is not fitted yet", field="model")
        return model

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """The weight of evidence of every value, one column per scorecard feature."""
        import pandas as pd

        model = self._fitted()
        return pd.DataFrame({f.name: _woe_of(f, X[f.name]) for f in model.features}, index=X.index)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Probabilities of 0 (good) and 1 (bad), from each row's score."""
        p = self._fitted().apply(X).probability
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def score(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The score of every row (the sum of its points)."""
        return self._fitted().apply(X).score

    def explain(
        self,
        X: pd.DataFrame,  # noqa: N803
        max_reasons: int | None = None,
    ) -> list[list[dict[str, Any]]]:
        """The top negative factors of every row, as reason codes with their texts."""
        scored = self._fitted().apply(X)
        return [[r.as_dict() for r in row] for row in scored.reasons(max_reasons)]

    def table(self) -> pd.DataFrame:
        """Every bin of every feature with its counts, WoE and points (one row per bin)."""
        import pandas as pd

        rows = []
        for feature in self._fitted().features:
            for index, item in enumerate(feature.all_bins):
                rows.append(
                    {
                        "feature": feature.name,
                        "bin": feature.label(index, "en"),
                        "count": item.count,
                        "bads": item.bads,
                        "bad_rate": item.bad_rate,
                        "woe": item.woe,
                        "points": item.points,
                    }
                )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A text report: features with IV and coefficient, bins with points, dropped columns."""
        return summary_of(self._fitted())


def summary_of(model: ScorecardModel) -> str:
    """The human summary of a fitted scorecard."""
    scaling = model.scaling
    lines = [
        f"Scorecard {model.version}",
        f"  {len(model.features)} features; score = sum of points; "
        f"{scaling.base_score:g} points at odds {scaling.base_odds:g}:1, "
        f"{scaling.pdo:g} points to double the odds",
        "  grades: "
        + ", ".join(
            f"{name} >= {cut:g}" if cut is not None else name for name, cut in model.grades.bands
        ),
    ]
    if model.training.get("rows"):
        lines.append(
            f"  trained on {model.training['rows']} rows, "
            f"{model.training.get('bads', 0)} bad ({100 * model.training.get('bad_rate', 0):.2f}%)"
        )
    lines.append("")
    lines.append(f"  {'feature':<28} {'kind':<12} {'IV':>8} {'coef':>9} {'bins':>5}")
    for feature in model.features:
        lines.append(
            f"  {feature.name:<28} {feature.kind:<12} {feature.iv:>8.4f} "
            f"{feature.coefficient:>9.4f} {len(feature.bins):>5}"
        )
    for feature in model.features:
        lines.append("")
        lines.append(f"  {feature.name}")
        for index, item in enumerate(feature.all_bins):
            rate = "" if item.bad_rate is None else f"{100 * item.bad_rate:6.2f}%"
            lines.append(
                f"    {feature.label(index, 'en'):<32} {item.count:>8} {rate:>8} "
                f"woe {item.woe:>7.3f}  points {item.points:>7.1f}"
            )
    if model.dropped:
        lines.append("")
        lines.append("  not used:")
        for name, reason in model.dropped.items():
            lines.append(f"    {name}: {reason}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- helpers
def _unusable(values: np.ndarray, kind: str, max_categories: int) -> str | None:
    """Why a column cannot be a feature (all missing, constant, an identifier), or None."""
    if kind == NUMERIC:
        numbers = as_numbers(values)
        present = numbers[~np.isnan(numbers)]
        if present.size == 0:
            return "all values are missing"
        if np.all(present == present[0]):
            return "constant"
        return None
    keys = {category_key(v) for v in values.tolist()}
    keys.discard(None)
    if not keys:
        return "all values are missing"
    if len(keys) == 1:
        return "constant"
    if len(keys) > max(max_categories, 0):
        return f"{len(keys)} distinct values (an identifier or free text?)"
    return None


def _intervals(splits: list[float]) -> list[tuple[float | None, float | None]]:
    edges: list[float | None] = [None, *splits, None]
    return list(itertools.pairwise(edges))


def _numeric_groups(x: np.ndarray, splits: list[float]) -> list[np.ndarray]:
    index = np.searchsorted(np.array(splits, dtype=float), x, side="right")
    present = ~np.isnan(x)
    return [present & (index == i) for i in range(len(splits) + 1)]


def _number(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _numeric_label(
    lower: float | None, upper: float | None, integer: bool, smallest: float | None = None
) -> str:
    if integer:
        low = None if lower is None else math.ceil(lower)
        if low is None and smallest is not None:
            low = math.ceil(smallest)
        high = None if upper is None else math.ceil(upper) - 1
        if low is None and high is None:
            return "all"
        if low is None:
            return f"<= {_number(high)}" if high is not None else "all"
        if high is None:
            return f">= {_number(low)}"
        return _number(low) if low == high else f"{_number(low)}–{_number(high)}"
    if lower is None and upper is None:
        return "all"
    if lower is None:
        return f"< {_number(upper)}" if upper is not None else "all"
    if upper is None:
        return f">= {_number(lower)}"
    return f"[{_number(lower)}, {_number(upper)})"


def _bin_of_numbers(
    lower: float | None,
    upper: float | None,
    integer: bool,
    y: np.ndarray,
    smallest: float | None,
) -> Bin:
    return Bin(
        label=_numeric_label(lower, upper, integer, smallest),
        points=0.0,
        woe=0.0,
        count=int(y.size),
        bads=int(y.sum()),
        lower=lower,
        upper=upper,
    )


def _bin_of_categories(group: tuple[str, ...], y: np.ndarray) -> Bin:
    return Bin(
        label=", ".join(group),
        points=0.0,
        woe=0.0,
        count=int(y.size),
        bads=int(y.sum()),
        categories=group,
    )


def _with_woe(item: Bin, goods_total: float, bads_total: float) -> Bin:
    if item.count == 0:
        return item
    goods = float(item.count - item.bads)
    bads = float(item.bads)
    if goods == 0 or bads == 0:
        goods, bads = goods + SMOOTHING, bads + SMOOTHING
    return replace(item, woe=math.log((goods / goods_total) / (bads / bads_total)))


def _with_points(item: Bin, points: float) -> Bin:
    return replace(item, points=points)


def _woe_of(feature: Feature, values: Any) -> np.ndarray:
    table = np.array([b.woe for b in feature.all_bins], dtype=float)
    woe: np.ndarray = table[feature.locate(values)]
    return woe


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
