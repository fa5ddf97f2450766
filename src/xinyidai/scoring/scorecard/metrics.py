"""How well a score ranks: AUC, KS, the ROC curve, calibration and grade tables (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def _checked(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    target = np.asarray(y, dtype=np.int64)
    risk = np.asarray(p, dtype=float)
    if target.shape != risk.shape:
        raise ValueError("outcomes and predictions differ in length")
    return target, risk


def auc(y: Any, p: Any) -> float:
    """Area under the ROC curve of ``p`` (higher = riskier) for outcomes ``y`` (1 = bad).

    The Mann-Whitney statistic with ties counted half; NaN when one class is absent.
    """
    target, risk = _checked(y, p)
    bads = int(target.sum())
    goods = target.size - bads
    if bads == 0 or goods == 0:
        return float("nan")
    _, inverse, counts = np.unique(risk, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0  # 1-based rank, ties averaged
    ranks = average_rank[inverse]
    u = ranks[target == 1].sum() - bads * (bads + 1) / 2.0
    return float(u / (bads * goods))


def roc_curve(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, riskiest first."""
    target, risk = _checked(y, p)
    order = np.argsort(-risk, kind="stable")
    sorted_risk, sorted_target = risk[order], target[order]
    distinct = np.r_[np.flatnonzero(np.diff(sorted_risk)), target.size - 1]
    true_positives = np.cumsum(sorted_target)[distinct]
    false_positives = (distinct + 1) - true_positives
    bads = max(int(target.sum()), 1)
    goods = max(target.size - int(target.sum()), 1)
    return (
        np.r_[0.0, false_positives / goods],
        np.r_[0.0, true_positives / bads],
    )


def ks(y: Any, p: Any) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the bads' and goods' curves."""
    fpr, tpr = roc_curve(y, p)
    return float(np.max(tpr - fpr)) if fpr.size else float("nan")


@dataclass(frozen=True)
class CalibrationRow:
    """One band of predicted probability: how many rows, predicted and observed bad rates."""

    band: int
    rows: int
    predicted: float
    observed: float
    low: float
    high: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "rows": self.rows,
            "predicted": round(self.predicted, 6),
            "observed": round(self.observed, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
        }


def calibration(y: Any, p: Any, bands: int = 10) -> list[CalibrationRow]:
    """Rows cut into ``bands`` equal-count bands of predicted probability, lowest first."""
    target, risk = _checked(y, p)
    if target.size == 0:
        return []
    order = np.argsort(risk, kind="stable")
    rows = []
    for number, part in enumerate(np.array_split(order, min(bands, target.size)), start=1):
        if part.size == 0:
            continue
        rows.append(
            CalibrationRow(
                band=number,
                rows=int(part.size),
                predicted=float(risk[part].mean()),
                observed=float(target[part].mean()),
                low=float(risk[part].min()),
                high=float(risk[part].max()),
            )
        )
    return rows


def grade_table(y: Any, grades: Any, names: list[str]) -> list[dict[str, Any]]:
    """Rows and observed bad rate per grade, best grade first."""
    target = np.asarray(y, dtype=np.int64)
    labels = np.asarray(grades, dtype=object)
    table = []
    for name in names:
        mask = labels == name
        count = int(mask.sum())
        table.append(
            {
                "grade": name,
                "rows": count,
                "bads": int(target[mask].sum()),
                "bad_rate": round(float(target[mask].mean()), 6) if count else None,
            }
        )
    return table


def summary(y: Any, p: Any) -> dict[str, float]:
    """AUC, Gini and KS of one prediction."""
    value = auc(y, p)
    return {"auc": round(value, 6), "gini": round(2 * value - 1, 6), "ks": round(ks(y, p), 6)}
