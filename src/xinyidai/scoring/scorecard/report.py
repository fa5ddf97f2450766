"""Fit with a held-out part and report: metrics, calibration, charts, the challenger.

``evaluate`` splits a table (stratified, seeded), fits the scorecard on one part and the
LightGBM challenger on the same part, and measures both on the other. ``write_report``
puts the model and the report in a folder: ``scorecard.json`` (the model), ``report.json``,
``report.html`` (self-contained: charts embedded, no network), ``roc.png``,
``score_distribution.png`` and ``bins.csv``. Charts use matplotlib's Agg backend, so they
render without a display.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from xinyidai.core import exports
from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard import metrics
from xinyidai.scoring.scorecard.challenger import Challenger, fit_challenger
from xinyidai.scoring.scorecard.fitting import Scorecard
from xinyidai.scoring.scorecard.model import MODEL_FILE, ScorecardModel
from xinyidai.scoring.scorecard.table import Table

REPORT_FILE = "report.json"
HTML_FILE = "report.html"
ROC_FILE = "roc.png"
DISTRIBUTION_FILE = "score_distribution.png"
BINS_FILE = "bins.csv"


def split(y: np.ndarray, *, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row positions, stratified by class, the same for the same seed."""
    if not 0 < test_size < 1:
        raise ValidationFailed("the held-out share must be between 0 and 1", field="test_size")
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        rng.shuffle(rows)
        cut = round(len(rows) * test_size)
        if cut == 0 or cut == len(rows):
            raise ValidationFailed(
                "too few rows of class {label} to hold some out", field="target", label=label
            )
        test.append(rows[:cut])
        train.append(rows[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@dataclass
class Evaluation:
    """A scorecard fitted on one part of a table and measured on the other."""

    card: Scorecard
    table: Table
    train_rows: np.ndarray
    test_rows: np.ndarray
    test_size: float
    seed: int
    metrics: dict[str, dict[str, dict[str, float]]]
    calibration: list[dict[str, Any]]
    grades: list[dict[str, Any]]
    test_scores: np.ndarray
    test_probability: np.ndarray
    test_y: np.ndarray
    challenger_probability: np.ndarray | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> ScorecardModel:
        model: ScorecardModel = self.card.model_
        return model

    def comparison(self) -> list[dict[str, Any]]:
        """The scorecard and the challenger side by side on the held-out part."""
        rows = []
        for name, parts in self.metrics.items():
            rows.append({"model": name, **{f"test_{k}": v for k, v in parts["test"].items()}})
        return rows


def evaluate(
    table: Table,
    card: Scorecard,
    *,
    test_size: float = 0.3,
    seed: int = 0,
    challenger: bool = True,
    source: str | None = None,
) -> Evaluation:
    """Split, fit the scorecard (and the challenger) on the train part, measure on both."""
    y = table.y
    train, test = split(y, test_size=test_size, seed=seed)
    X = table.X  # noqa: N806
    card.fit(X.iloc[train].reset_index(drop=True), y[train])
    model: ScorecardModel = card.model_
    scored_train = model.apply(X.iloc[train])
    scored_test = model.apply(X.iloc[test])
    results: dict[str, dict[str, dict[str, float]]] = {
        "scorecard": {
            "train": metrics.summary(y[train], scored_train.probability),
            "test": metrics.summary(y[test], scored_test.probability),
        }
    }
    challenger_p = None
    if challenger:
        fitted: Challenger = fit_challenger(
            X.iloc[train].reset_index(drop=True), y[train], table.kinds, seed=seed
        )
        challenger_p = fitted.predict_proba(X.iloc[test])
        results["challenger"] = {
            "train": metrics.summary(y[train], fitted.predict_proba(X.iloc[train])),
            "test": metrics.summary(y[test], challenger_p),
        }
    card.model_ = replace(model, target=table.target, id_column=table.id_column).with_training(
        source=source,
        target=table.target,
        test_size=test_size,
        seed=seed,
        train_rows=len(train),
        test_rows=len(test),
        metrics={name: parts["test"] for name, parts in results.items()},
    )
    return Evaluation(
        card=card,
        table=table,
        train_rows=train,
        test_rows=test,
        test_size=test_size,
        seed=seed,
        metrics=results,
        calibration=[
            row.as_dict() for row in metrics.calibration(y[test], scored_test.probability)
        ],
        grades=metrics.grade_table(y[test], scored_test.grade, model.grades.names),
        test_scores=scored_test.score,
        test_probability=scored_test.probability,
        test_y=y[test],
        challenger_probability=challenger_p,
        source=source,
    )


def report_dict(evaluation: Evaluation) -> dict[str, Any]:
    """Everything the report says, as JSON-ready data."""
    model = evaluation.model
    y = evaluation.table.y
    return {
        "model_version": model.version,
        "data": {
            "source": evaluation.source,
            "rows": len(y),
            "bads": int(y.sum()),
            "bad_rate": round(float(y.mean()), 6),
            "target": evaluation.table.target,
            "id_column": evaluation.table.id_column,
        },
        "split": {
            "test_size": evaluation.test_size,
            "seed": evaluation.seed,
            "train_rows": len(evaluation.train_rows),
            "test_rows": len(evaluation.test_rows),
        },
        "metrics": evaluation.metrics,
        "features": [
            {
                "name": f.name,
                "kind": f.kind,
                "iv": round(f.iv, 6),
                "coefficient": round(f.coefficient, 6),
                "bins": len(f.bins),
            }
            for f in model.features
        ],
        "information_value": {
            name: round(value, 6)
            for name, value in sorted(evaluation.card.iv_.items(), key=lambda kv: -kv[1])
        },
        "dropped": dict(model.dropped),
        "calibration": evaluation.calibration,
        "grades": evaluation.grades,
        "charts": {"roc": ROC_FILE, "score_distribution": DISTRIBUTION_FILE},
        **evaluation.extra,
    }


def write_report(evaluation: Evaluation, folder: Path) -> list[Path]:
    """Write the model and its report into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    model = evaluation.model
    written = [model.save(folder / MODEL_FILE)]
    data = report_dict(evaluation)
    report = folder / REPORT_FILE
    report.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written.append(report)
    written.append(_bins_csv(model, folder / BINS_FILE))
    roc = _roc_chart(evaluation, folder / ROC_FILE)
    distribution = _distribution_chart(evaluation, folder / DISTRIBUTION_FILE)
    written += [roc, distribution]
    page = folder / HTML_FILE
    page.write_text(_html(evaluation, data, roc, distribution), encoding="utf-8")
    written.append(page)
    return written


def _bins_csv(model: ScorecardModel, path: Path) -> Path:
    rows = (
        [
            feature.name,
            feature.label(index, "en"),
            item.count,
            item.bads,
            "" if item.bad_rate is None else round(item.bad_rate, 6),
            round(item.woe, 6),
            item.points,
        ]
        for feature in model.features
        for index, item in enumerate(feature.all_bins)
    )
    header = ["feature", "bin", "count", "bads", "bad_rate", "woe", "points"]
    return exports.write_csv(path, header, rows)


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(6, 4.5), dpi=100)


def _roc_chart(evaluation: Evaluation, path: Path) -> Path:
    figure = _figure()
    axes = figure.subplots()
    curves = [("scorecard", evaluation.test_probability)]
    if evaluation.challenger_probability is not None:
        curves.append(("LightGBM challenger", evaluation.challenger_probability))
    for label, predicted in curves:
        fpr, tpr = metrics.roc_curve(evaluation.test_y, predicted)
        value = metrics.auc(evaluation.test_y, predicted)
        axes.plot(fpr, tpr, label=f"{label} (AUC {value:.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set_xlabel("false positive rate (goods flagged)")
    axes.set_ylabel("true positive rate (bads caught)")
    axes.set_title("ROC on the held-out part")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def _distribution_chart(evaluation: Evaluation, path: Path) -> Path:
    figure = _figure()
    axes = figure.subplots()
    scores = evaluation.test_scores
    edges = np.histogram_bin_edges(scores, bins=30)
    for label, value, colour in (("good (0)", 0, "tab:blue"), ("bad (1)", 1, "tab:red")):
        part = scores[evaluation.test_y == value]
        axes.hist(part, bins=edges, alpha=0.55, density=True, label=label, color=colour)
    axes.set_xlabel("score")
    axes.set_ylabel("share of the class")
    axes.set_title("Score distribution by class (held-out part)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def _image(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{encoded}">'


def _rows(rows: list[list[Any]]) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_rows(rows)}</tbody></table>"


def _html(evaluation: Evaluation, data: dict[str, Any], roc: Path, distribution: Path) -> str:
    model = evaluation.model
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Scorecard report {html.escape(model.version)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
        "th{background:#f3f3f3}td:first-child{text-align:left}</style></head><body>",
        f"<h1>Scorecard report</h1><p>Model <code>{html.escape(model.version)}</code>, "
        f"{data['data']['rows']} rows ({data['data']['bads']} bad, "
        f"{100 * data['data']['bad_rate']:.2f}%), {data['split']['test_rows']} held out "
        f"(seed {data['split']['seed']}).</p>",
        "<h2>Ranking on the held-out part</h2>",
        _table(
            ["model", "AUC", "Gini", "KS"],
            [
                [name, parts["test"]["auc"], parts["test"]["gini"], parts["test"]["ks"]]
                for name, parts in evaluation.metrics.items()
            ],
        ),
        _image(roc),
        _image(distribution),
        "<h2>Features (information value)</h2>",
        _table(
            ["feature", "kind", "IV", "coefficient", "bins"],
            [
                [f.name, f.kind, f"{f.iv:.4f}", f"{f.coefficient:.4f}", len(f.bins)]
                for f in model.features
            ],
        ),
    ]
    if model.dropped:
        parts.append("<h2>Columns not used</h2>")
        parts.append(_table(["column", "why"], [[k, v] for k, v in model.dropped.items()]))
    parts.append("<h2>Bins and points</h2>")
    for feature in model.features:
        parts.append(f"<h3>{html.escape(feature.name)}</h3>")
        parts.append(
            _table(
                ["bin", "rows", "bad rate", "WoE", "points"],
                [
                    [
                        feature.label(i, "en"),
                        b.count,
                        "" if b.bad_rate is None else f"{100 * b.bad_rate:.2f}%",
                        f"{b.woe:.3f}",
                        f"{b.points:g}",
                    ]
                    for i, b in enumerate(feature.all_bins)
                ],
            )
        )
    parts.append("<h2>Calibration (held-out part, by predicted probability)</h2>")
    parts.append(
        _table(
            ["band", "rows", "predicted bad rate", "observed bad rate"],
            [
                [
                    r["band"],
                    r["rows"],
                    f"{100 * r['predicted']:.2f}%",
                    f"{100 * r['observed']:.2f}%",
                ]
                for r in evaluation.calibration
            ],
        )
    )
    parts.append("<h2>Grades (held-out part)</h2>")
    parts.append(
        _table(
            ["grade", "rows", "bad rate"],
            [
                [
                    g["grade"],
                    g["rows"],
                    "" if g["bad_rate"] is None else f"{100 * g['bad_rate']:.2f}%",
                ]
                for g in evaluation.grades
            ],
        )
    )
    parts.append("</body></html>\n")
    return "".join(parts)
