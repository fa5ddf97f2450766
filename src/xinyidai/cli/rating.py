"""``xyd rate``: the platform rating — rate every enterprise or one, train the model."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from xinyidai.cli.common import console, fail, fail_on, print_json, setup_logging
from xinyidai.core import clock, exports, jobs, queue
from xinyidai.core.db import build_engine, new_session, session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import normalize_locale
from xinyidai.scoring import jobs as rating_jobs
from xinyidai.scoring import platform_model
from xinyidai.scoring import service as rating_service

app = typer.Typer(
    help="The platform rating: `xyd rate --all` rates every enterprise; train the model.",
)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of must be a date (YYYY-MM-DD), not {text!r}")


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.callback(invoke_without_command=True)
def rate(
    ctx: typer.Context,
    every: bool = typer.Option(False, "--all", help="rate every active or pending enterprise"),
    code: str = typer.Option(None, "--code", help="rate one enterprise now"),
    as_of: str = typer.Option(None, "--as-of", help="the day rated (default: today)"),
    enqueue: bool = typer.Option(False, help="hand the full run to the workers instead"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Rate every enterprise (a job with a progress bar) or one; see also the sub-commands."""
    if ctx.invoked_subcommand is not None:
        return
    setup_logging()
    day = _day(as_of)
    if code:
        _rate_one(code, day, as_json)
    elif every:
        _rate_all(day, enqueue=enqueue, as_json=as_json)
    else:
        console.print(ctx.get_help())
        raise typer.Exit(2)


def _rate_one(code: str, day: date | None, as_json: bool) -> None:
    try:
        with session_scope() as session:
            rating = rating_service.rate_one(session, credit_code=code.strip().upper(), on=day)
            shown = rating_service.rating_out(session, rating, locale="zh_CN")
    except XydError as exc:
        fail_on(exc)
    _print_rating(shown.model_dump(mode="json"), as_json)


def _print_rating(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]{data['credit_code']}[/bold] score {data['score']:g} grade {data['grade']} "
        f"probability {float(str(data['probability'])):.4f} (as of {data['as_of']}, "
        f"model {data['model_version']})",
        highlight=False,
    )
    for reason in data["reasons"]:  # type: ignore[attr-defined]
        console.print(f"  {reason['code']:<22} {reason['impact']:>7g}  {reason['text']}")


def _rate_all(day: date | None, *, enqueue: bool, as_json: bool) -> None:
    params = {"as_of": day.isoformat() if day else None}
    with session_scope() as session:
        job = jobs.create(session, kind=rating_service.JOB_KIND, params=params, actor="cli")
        job_id = job.id
        if enqueue:
            queue.enqueue_after_commit(
                session, rating_service.RATE_ALL_TASK, job_id, params["as_of"]
            )
    if enqueue:
        if as_json:
            print_json({"job_id": job_id, "state": "queued"})
        else:
            console.print(f"queued rating job {job_id}; `xyd worker` runs it")
        return
    with _bar() as bar:
        task = bar.add_task("rating", total=None)

        def moved(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = rating_jobs.run_rating(job_id, params["as_of"], listener=moved)
        except XydError as exc:
            fail_on(exc)
    if as_json:
        print_json(result)
        return
    console.print(
        f"rated {result['rated']} enterprises as of {result['as_of']} in {result['seconds']:.1f}s "
        f"with {result['model_version']} (run {result['run_id']})"
    )
    console.print(
        "grades: " + ", ".join(f"{k} {v}" for k, v in result["grades"].items()), highlight=False
    )


@app.command()
def show(
    code: str = typer.Argument(..., help="unified social credit code"),
    history: bool = typer.Option(False, help="every rating, newest first"),
    lang: str = typer.Option("zh_CN", help="language of the reasons (zh_CN or en)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """An enterprise's current rating (rated now if it has none), or its history."""
    locale = normalize_locale(lang)
    try:
        with session_scope() as session:
            if history:
                rows, _ = rating_service.history(
                    session, credit_code=code.strip().upper(), page=1, size=200
                )
                shown = [
                    rating_service.rating_out(session, r, locale=locale).model_dump(mode="json")
                    for r in rows
                ]
            else:
                rating = rating_service.current_or_rate(session, credit_code=code.strip().upper())
                shown = [
                    rating_service.rating_out(session, rating, locale=locale).model_dump(
                        mode="json"
                    )
                ]
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(shown if history else shown[0])
        return
    for item in shown:
        _print_rating(item, False)


@app.command()
def model(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """The rating model in force: its version, indicators and points."""
    from xinyidai.scoring.scorecard import summary_of

    try:
        current = platform_model.current()
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(rating_service.model_out(current, locale="en").model_dump(mode="json"))
        return
    typer.echo(f"in force: {platform_model.path_in_force()}")
    typer.echo(summary_of(current))


@app.command()
def features(
    out: Path = typer.Option(..., "--out", help="the CSV to write"),
    as_of: str = typer.Option(None, "--as-of", help="the day (default: today)"),
) -> None:
    """Export the indicators of every enterprise (for the toolkit: join outcomes, fit)."""
    from xinyidai.scoring import features as indicator_features

    setup_logging()
    day = _day(as_of) or clock.today()
    try:
        with session_scope() as session:
            table = indicator_features.compute(session, on=day)
    except XydError as exc:
        fail_on(exc)
    out.parent.mkdir(parents=True, exist_ok=True)
    exports.write_frame_csv(table, out)
    console.print(f"wrote the indicators of {table.height} enterprises as of {day} to {out}")


def load_region(region: Path, session: Session, report: Callable[[str], None] | None = None) -> int:
    """Ingest a ``xyd synth`` folder through the ingestion service; the rows accepted."""
    from xinyidai.ingest import service as ingest_service

    accepted = 0
    feeds = ingest_service.feeds_in(region, provider=None, category=None)
    ingest_service.check_sources(session, feeds)
    with rating_service.arrival_paused():
        for feed in feeds:
            batch = ingest_service.ingest_file(
                session,
                feed=feed,
                actor="system:rating",
                source="file",
                on_chunk=lambda _batch: session.commit(),
            )
            session.commit()
            accepted += batch.accepted
            if report is not None:
                report(f"{feed.provider}/{feed.category}: {batch.accepted} rows")
    return accepted


def scratch_database(folder: Path) -> str:
    """A new, migrated SQLite database in ``folder``; its URL."""
    from xinyidai import bootstrap

    url = f"sqlite:///{folder / 'rating.db'}"
    bootstrap.initialize(url)
    return url


@app.command()
def train(
    region: Path = typer.Option(..., "--region", help="a `xyd synth` folder (feeds and truth)"),
    out: Path = typer.Option(
        None, "--out", help="model file to write (default: the data folder's, which takes over)"
    ),
    report: Path = typer.Option(None, "--report", help="also write the toolkit's report here"),
    loaded: bool = typer.Option(
        False, help="the region is already in the configured database (else: a scratch one)"
    ),
    loan_book: bool = typer.Option(
        False,
        "--loan-book",
        help="read the region's loan book (loans/loans.csv) as the platform's loans, so that "
        "the loan indicators take part",
    ),
) -> None:
    """Fit the rating model on a synthetic region's defaults (reproducible from its seed)."""
    from xinyidai.scoring import training
    from xinyidai.scoring.scorecard import summary_of
    from xinyidai.scoring.scorecard.report import write_report

    setup_logging()
    target = out or platform_model.installed_path()
    try:
        outcomes = training.outcomes_of(region)
        loans = training.loan_book_of(region) if loan_book else None
        if loan_book and loans is None:
            fail(f"--loan-book: {region} has no loans/loans.csv")
        with tempfile.TemporaryDirectory(prefix="xyd-rating-") as scratch:
            if loaded:
                session = new_session()
            else:
                url = scratch_database(Path(scratch))
                engine = build_engine(url)
                session = Session(engine, expire_on_commit=False)
                console.print(f"loading {region} into a scratch database")
                load_region(region, session, report=console.print)
            try:
                evaluation = training.train(session, outcomes, loans=loans)
            finally:
                session.close()
                if not loaded:
                    engine.dispose()
    except XydError as exc:
        fail_on(exc)
    evaluation.model.save(target)
    if report is not None:
        write_report(evaluation, report)
    typer.echo(summary_of(evaluation.model))
    for name, parts in evaluation.metrics.items():
        typer.echo(f"{name}: held-out AUC {parts['test']['auc']:.4f}, KS {parts['test']['ks']:.4f}")
    console.print(f"wrote {evaluation.model.version} to {target}")
