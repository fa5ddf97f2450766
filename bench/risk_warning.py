"""Early warning and 以贷促信: how well loan behaviour ranks outcomes, on a region never seen.

    .venv/bin/python bench/risk_warning.py [--train-size 20000 --train-seed 101]
        [--test-size 20000 --test-seed 202] [--workdir DIR] [--write-model PATH]

A training region and a test region are generated with ``xyd synth`` (each with its loan
book, ``loans/loans.csv``, and the outcomes ``truth/loan_outcomes.csv`` and
``truth/defaults.csv``) and ingested through the ingestion service into scratch SQLite
databases (a ``--workdir`` keeps them for the next run); each is analysed as of its day (the
bad-neighbour counts). Then, for both regions, the rating's indicators are computed as the
rating computes them, the loan book standing in for the platform's loans.

1. Early warning. The model (``risk.warning_model``) is fitted on the training region's
   live loans (30% held out) and applied to every live loan of the test region: AUC and KS
   against ``truth/loan_outcomes.csv``, next to the rating alone (the shipped rating model's
   probability of default of the borrower).
2. 以贷促信. The rating model is fitted on the training region twice, exactly as ``xyd rate
   train`` does: from the records alone, and with the loan indicators (the loan book as the
   platform's loans); both are measured on the test region's defaults (``truth/defaults.csv``),
   all enterprises and the borrowers alone.

``--write-model`` writes the early-warning model fitted here (the shipped one is
``src/xinyidai/risk/data/warning_model.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# this folder holds http.py, which would shadow the standard library's http package
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def say(message: str) -> None:
    print(message, flush=True)


def note(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def prepare_region(folder: Path, size: int, seed: int) -> str:
    """Generate (when missing) and ingest (when its database is missing) a region."""
    from sqlalchemy.orm import Session

    from xinyidai import bootstrap
    from xinyidai.cli.rating import load_region
    from xinyidai.core.db import build_engine
    from xinyidai.synth import generate

    if not (folder / "loans" / "loans.csv").exists():
        started = time.perf_counter()
        generate(folder, enterprises=size, seed=seed)
        note(f"synth {size:,} enterprises, seed {seed}: {time.perf_counter() - started:.1f} s")
    database = folder.with_suffix(".db")
    if not database.exists():
        partial = database.with_suffix(".db.part")
        url = f"sqlite:///{partial}"
        started = time.perf_counter()
        bootstrap.initialize(url)
        engine = build_engine(url)
        try:
            with Session(engine, expire_on_commit=False) as session:
                load_region(folder, session)
        finally:
            engine.dispose()
        partial.rename(database)
        note(f"ingested {folder.name}: {time.perf_counter() - started:.1f} s")
    return f"sqlite:///{database}"


def region_frames(url: str, folder: Path) -> dict[str, Any]:
    """The region's indicators (loan book standing in for the platform's loans), the
    early-warning table of its live loans with their outcomes, and its outcomes."""
    import polars as pl
    from sqlalchemy.orm import Session

    from xinyidai.core.db import build_engine
    from xinyidai.risk import warning_model
    from xinyidai.scoring import features, platform_model, training

    outcomes = training.outcomes_of(folder)
    book = training.loan_book_of(folder)
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            training.analyse_associations(session, outcomes)
            session.commit()
            indicators = features.compute(session, on=outcomes.as_of, loans=book)
    finally:
        engine.dispose()
    rating = platform_model.current()
    scored = rating.apply({n: indicators[n].to_numpy() for n in rating.feature_names})
    borrowers = indicators.select("credit_code", "bad_associates_1").with_columns(
        rating_score=pl.Series(scored.score),
        rating_probability=pl.Series(scored.probability),
    )
    loan_outcomes = pl.read_csv(
        folder / "truth" / "loan_outcomes.csv",
        schema_overrides={"credit_code": pl.String, "loan_id": pl.String},
    )
    table = (
        warning_model.table(book, borrowers)
        .join(loan_outcomes.select("loan_id", "bad"), on="loan_id", how="inner")
        .join(borrowers.select("credit_code", "rating_probability"), on="credit_code")
        .sort("loan_id")
    )
    return {"outcomes": outcomes, "book": book, "table": table}


def warning_part(train: dict[str, Any], test: dict[str, Any], args: argparse.Namespace) -> None:
    import pandas as pd

    from xinyidai.risk import warning_model
    from xinyidai.scoring.scorecard import metrics

    table = train["table"]
    train_frame = pd.DataFrame({name: table[name].to_numpy() for name in table.columns})
    started = time.perf_counter()
    evaluation = warning_model.fit(
        train_frame.drop(columns=["rating_probability"]),
        source=f"synthetic region seed {args.train_seed}, {len(train_frame)} live loans",
    )
    note(f"fitted the early-warning model: {time.perf_counter() - started:.1f} s")
    model = evaluation.model
    say(
        f"early-warning model {model.version}: {len(model.features)} features "
        f"({', '.join(model.feature_names)}); held-out AUC "
        f"{evaluation.metrics['scorecard']['test']['auc']:.4f}"
    )
    for name in warning_model.NAMES:
        state = "kept" if name in model.feature_names else evaluation.card.dropped_.get(name, "")
        say(f"  {name}: IV {evaluation.card.iv_.get(name, 0.0):.4f} {state}")
    frame = test["table"]
    y = frame["bad"].to_numpy()
    scored = model.apply({n: frame[n].to_numpy() for n in model.feature_names})
    warning = metrics.summary(y, scored.probability)
    rating = metrics.summary(y, frame["rating_probability"].to_numpy())
    say(f"test region (seed {args.test_seed}): {len(y):,} live loans, {int(y.sum()):,} bad")
    say("| | AUC | KS |")
    say("|---|---|---|")
    say(f"| early warning ({model.version}) | **{warning['auc']:.3f}** | {warning['ks']:.3f} |")
    say(f"| rating alone (shipped rating model) | {rating['auc']:.3f} | {rating['ks']:.3f} |")
    bands = metrics.grade_table(y, scored.grade, model.grades.names)
    say("bands: " + json.dumps(bands, ensure_ascii=False))
    if args.write_model:
        model.save(args.write_model)
        say(f"wrote {args.write_model}")


def rating_part(
    train: dict[str, Any], test: dict[str, Any], args: argparse.Namespace, urls: dict[str, str]
) -> None:
    from sqlalchemy.orm import Session

    from xinyidai.core.db import build_engine
    from xinyidai.scoring import loan_behaviour, platform_model, training
    from xinyidai.scoring.scorecard import metrics

    fitted = {}
    engine = build_engine(urls["train"])
    try:
        with Session(engine) as session:
            for label, loans in (("records alone", None), ("with loan indicators", train["book"])):
                started = time.perf_counter()
                evaluation = training.train(session, train["outcomes"], loans=loans)
                session.rollback()
                note(f"fitted the rating {label}: {time.perf_counter() - started:.1f} s")
                fitted[label] = evaluation
    finally:
        engine.dispose()
    shipped = platform_model.current()
    say(
        "refit from the records alone "
        + (
            "is the shipped model, byte for byte"
            if fitted["records alone"].model.version == shipped.version
            else f"differs from the shipped model ({fitted['records alone'].model.version})"
        )
    )
    with_loans = fitted["with loan indicators"].model
    kept = [n for n in with_loans.feature_names if n in loan_behaviour.LOAN_INDICATORS]
    say(f"loan indicators kept: {', '.join(kept) or 'none'}")
    for name in loan_behaviour.LOAN_INDICATORS:
        iv = fitted["with loan indicators"].card.iv_.get(name, 0.0)
        say(f"  {name}: IV {iv:.4f}")
    engine = build_engine(urls["test"])
    borrowers = set(test["book"]["credit_code"].to_list())
    say("| rating model | indicators | AUC, all enterprises | KS | AUC, borrowers | KS |")
    say("|---|---|---|---|---|---|")
    try:
        with Session(engine) as session:
            frame = training.labelled_features(session, test["outcomes"], loans=test["book"])
            for label, evaluation in fitted.items():
                model = evaluation.model
                scored = model.apply({n: frame[n].to_numpy() for n in model.feature_names})
                y = frame[training.TARGET].to_numpy()
                everyone = metrics.summary(y, scored.probability)
                mask = np.array([code in borrowers for code in frame["credit_code"]])
                some = metrics.summary(y[mask], scored.probability[mask])
                say(
                    f"| {label} ({model.version}) | {len(model.features)} | "
                    f"{everyone['auc']:.3f} | {everyone['ks']:.3f} | "
                    f"{some['auc']:.3f} | {some['ks']:.3f} |"
                )
            say(
                f"test region: {len(frame):,} enterprises, {int(mask.sum()):,} borrowers, "
                f"{int(y.sum()):,} defaults ({int(y[mask].sum()):,} among borrowers)"
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-size", type=int, default=20_000)
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--test-size", type=int, default=20_000)
    parser.add_argument("--test-seed", type=int, default=202)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--write-model", type=Path, default=None)
    parser.add_argument("--skip-rating", action="store_true", help="leave out 以贷促信")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xyd-bench-warning-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["XYD_DATA_DIR"] = str(workdir)  # the shipped models are the ones in force
    folders = {
        "train": workdir / f"train-{args.train_size}-{args.train_seed}",
        "test": workdir / f"test-{args.test_size}-{args.test_seed}",
    }
    urls = {
        "train": prepare_region(folders["train"], args.train_size, args.train_seed),
        "test": prepare_region(folders["test"], args.test_size, args.test_seed),
    }
    frames = {name: region_frames(urls[name], folders[name]) for name in folders}
    warning_part(frames["train"], frames["test"], args)
    if not args.skip_rating:
        rating_part(frames["train"], frames["test"], args, urls)


if __name__ == "__main__":
    main()
