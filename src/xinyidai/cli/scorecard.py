"""``xyd scorecard``: fit, apply and compare a credit scorecard on any CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from xinyidai.cli.common import Steps, console, fail_on, print_json, setup_logging
from xinyidai.core.errors import ValidationFailed, XydError

if TYPE_CHECKING:
    from xinyidai.scoring.scorecard import Scorecard
    from xinyidai.scoring.scorecard.table import ReasonTexts

app = typer.Typer(
    help="Credit scorecards on any table: fit (bins, points, report), score, compare.",
    no_args_is_help=True,
)


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _estimator(
    *,
    name: str,
    categorical: list[str],
    monotonic: str,
    max_bins: int,
    min_bin_size: float,
    min_iv: float,
    max_correlation: float,
    base_score: float,
    base_odds: float,
    pdo: float,
    grades: str | None,
    texts: ReasonTexts | None = None,
) -> Scorecard:
    from xinyidai.scoring.scorecard import Grades, Scaling, Scorecard

    return Scorecard(
        reasons=texts.reasons if texts else None,
        special_labels=texts.missing if texts else None,
        name=name,
        categorical=categorical,
        monotonic_trend=None if monotonic == "none" else monotonic,
        max_n_bins=max_bins,
        min_bin_size=min_bin_size,
        min_iv=min_iv,
        max_correlation=max_correlation,
        scaling=Scaling(base_score=base_score, base_odds=base_odds, pdo=pdo),
        grades=Grades.parse(grades) if grades else Grades(),
    )


@app.command()
def fit(
    data: Path = typer.Option(..., "--data", help="a CSV with a 0/1 target column (1 = bad)"),
    target: str = typer.Option(..., "--target", help="the target column"),
    out: Path = typer.Option(..., "--out", help="folder for the model and its report"),
    id_column: str = typer.Option(None, "--id", help="an id column (kept out of the features)"),
    exclude: str = typer.Option(None, "--exclude", help="columns to leave out, comma-separated"),
    categorical: str = typer.Option(
        None, "--categorical", help="numeric-looking columns to treat as categories"
    ),
    name: str = typer.Option("scorecard", help="model name (the version adds a digest)"),
    test_size: float = typer.Option(0.3, help="share of rows held out to measure the model"),
    seed: int = typer.Option(0, help="seed of the held-out split and the challenger"),
    base_score: float = typer.Option(600.0, help="score at the base odds"),
    base_odds: float = typer.Option(50.0, help="good:bad odds at the base score"),
    pdo: float = typer.Option(20.0, help="points to double the odds"),
    grades: str = typer.Option(
        None, help='grade cut-offs, best first: "AAA:660,AA:640,A:620,BBB:600,...,C"'
    ),
    monotonic: str = typer.Option(
        "auto_asc_desc", help="monotonic trend of numeric bins (auto_asc_desc, auto, none, ...)"
    ),
    max_bins: int = typer.Option(6, help="most bins per feature"),
    min_bin_size: float = typer.Option(0.05, help="smallest bin, as a share of rows"),
    min_iv: float = typer.Option(0.02, help="least information value a feature needs"),
    max_correlation: float = typer.Option(0.7, help="largest correlation between two features"),
    challenger: bool = typer.Option(True, help="also fit the LightGBM challenger"),
    reasons: Path = typer.Option(
        None,
        "--reasons",
        help='reason texts, JSON: {"column": {"code", "zh", "en", "missing": {"zh", "en"}}}',
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Fit a scorecard; write the model (JSON) and its report (JSON, HTML, PNG charts)."""
    setup_logging()
    from xinyidai.scoring.scorecard.report import evaluate, report_dict, write_report
    from xinyidai.scoring.scorecard.table import read_reasons, read_table

    step = Steps()
    try:
        step(f"reading {data.name}")
        table = read_table(
            data,
            target=target,
            id_column=id_column,
            exclude=_names(exclude),
            categorical=_names(categorical),
        )
        texts = read_reasons(reasons, table.features) if reasons else None
        card = _estimator(
            name=name,
            categorical=_names(categorical),
            monotonic=monotonic,
            max_bins=max_bins,
            min_bin_size=min_bin_size,
            min_iv=min_iv,
            max_correlation=max_correlation,
            base_score=base_score,
            base_odds=base_odds,
            pdo=pdo,
            grades=grades,
            texts=texts,
        )
        step(
            f"binning {len(table.features)} features of {len(table.frame):,} rows, fitting the "
            "scorecard" + (" and the LightGBM challenger" if challenger else "")
        )
        evaluation = evaluate(
            table,
            card,
            test_size=test_size,
            seed=seed,
            challenger=challenger,
            source=data.name,
        )
        step(f"writing the model and its report to {out}")
        written = write_report(evaluation, out)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(report_dict(evaluation) | {"files": [str(p) for p in written]})
        return
    from xinyidai.scoring.scorecard import summary_of

    typer.echo(summary_of(evaluation.model))
    for model_name, parts in evaluation.metrics.items():
        test = parts["test"]
        typer.echo(f"{model_name}: held-out AUC {test['auc']:.4f}, KS {test['ks']:.4f}")
    console.print(f"wrote {', '.join(p.name for p in written)} to {out}")


@app.command()
def score(
    model: Path = typer.Option(..., "--model", help="a model folder (or its scorecard.json)"),
    data: Path = typer.Option(..., "--data", help="a CSV with the model's feature columns"),
    out: Path = typer.Option(..., "--out", help="the CSV to write"),
    id_column: str = typer.Option(None, "--id", help="the id column to copy into the output"),
    max_reasons: int = typer.Option(None, help="most reasons per row (default: the model's)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON summary"),
) -> None:
    """Score rows: id, score, probability (of bad), grade and reasons (codes, zh and en)."""
    setup_logging()
    from xinyidai.scoring.scorecard.apply import score_file
    from xinyidai.scoring.scorecard.model import ScorecardModel

    try:
        if max_reasons is not None and max_reasons < 1:
            raise ValidationFailed("at least one reason per row", field="max_reasons")
        loaded = ScorecardModel.load(model)
        result = score_file(loaded, data, out, id_column=id_column, max_reasons=max_reasons)
    except XydError as exc:
        fail_on(exc)
    summary = {
        "rows": result.rows,
        "out": str(result.out),
        "model_version": result.model_version,
        "grades": result.grades,
    }
    if as_json:
        print_json(summary)
    else:
        console.print(f"scored {result.rows} rows with {result.model_version} into {result.out}")
        console.print(
            "grades: " + ", ".join(f"{k} {v}" for k, v in result.grades.items()), highlight=False
        )


@app.command()
def compare(
    data: Path = typer.Option(..., "--data", help="a CSV with a 0/1 target column (1 = bad)"),
    target: str = typer.Option(..., "--target", help="the target column"),
    id_column: str = typer.Option(None, "--id", help="an id column (kept out of the features)"),
    exclude: str = typer.Option(None, "--exclude", help="columns to leave out, comma-separated"),
    categorical: str = typer.Option(None, "--categorical", help="columns to treat as categories"),
    test_size: float = typer.Option(0.3, help="share of rows held out"),
    seed: int = typer.Option(0, help="seed of the split and the challenger"),
    min_iv: float = typer.Option(0.02, help="least information value a feature needs"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The scorecard against the LightGBM challenger on the same held-out split."""
    setup_logging()
    from xinyidai.scoring.scorecard.report import evaluate
    from xinyidai.scoring.scorecard.table import read_table

    try:
        table = read_table(
            data,
            target=target,
            id_column=id_column,
            exclude=_names(exclude),
            categorical=_names(categorical),
        )
        card = _estimator(
            name="scorecard",
            categorical=_names(categorical),
            monotonic="auto_asc_desc",
            max_bins=6,
            min_bin_size=0.05,
            min_iv=min_iv,
            max_correlation=0.7,
            base_score=600.0,
            base_odds=50.0,
            pdo=20.0,
            grades=None,
        )
        evaluation = evaluate(table, card, test_size=test_size, seed=seed)
    except XydError as exc:
        fail_on(exc)
    rows = [
        {"model": name, **{k: parts[part][k] for k in ("auc", "gini", "ks")}, "part": part}
        for name, parts in evaluation.metrics.items()
        for part in ("train", "test")
    ]
    if as_json:
        print_json(
            {
                "split": {
                    "test_size": test_size,
                    "seed": seed,
                    "train_rows": len(evaluation.train_rows),
                    "test_rows": len(evaluation.test_rows),
                },
                "results": rows,
                "features": evaluation.model.feature_names,
            }
        )
        return
    from rich.table import Table

    table_out = Table(title=f"held out {len(evaluation.test_rows)} of {len(table.frame)} rows")
    for column in ("model", "part", "AUC", "Gini", "KS"):
        table_out.add_column(column)
    for row in rows:
        table_out.add_row(
            row["model"], row["part"], f"{row['auc']:.4f}", f"{row['gini']:.4f}", f"{row['ks']:.4f}"
        )
    console.print(table_out)


@app.command()
def show(
    model: Path = typer.Option(..., "--model", help="a model folder (or its scorecard.json)"),
) -> None:
    """Print a saved model's summary: features, bins and points."""
    from xinyidai.scoring.scorecard import ScorecardModel, summary_of

    try:
        loaded = ScorecardModel.load(model)
    except XydError as exc:
        fail_on(exc)
    typer.echo(summary_of(loaded))
