"""``xyd stats``: keep the figures (refresh, rebuild), read them (show, export, targets)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import gettext
from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import figures, labels, refresh, targets

app = typer.Typer(
    help="Figures per day and dimension: refresh, rebuild, show, export, targets.",
    no_args_is_help=True,
)


def _done(result: refresh.RefreshResult, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "kind": str(result.kind),
                "since": result.since.isoformat() if result.since else None,
                "days": result.days,
                "rows": result.rows,
            }
        )
    else:
        console.print(f"{result.kind}: {result.rows} rows over {result.days} days")


@app.command("refresh")
def refresh_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Recompute the days touched since the last refresh (all of them the first time)."""
    with session_scope() as session:
        result = refresh.refresh(session)
    _done(result, as_json)


@app.command("rebuild")
def rebuild_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Recompute every figure of every day from the rows."""
    with session_scope() as session:
        result = refresh.rebuild(session)
    _done(result, as_json)


def _read(
    figure: list[str],
    grain: Grain,
    dimension: Dimension,
    start: datetime | None,
    end: datetime | None,
) -> tuple[list[figures.Value], dict[str, str]]:
    with session_scope() as session:
        values = figures.table(
            session,
            figures=figure,
            grain=grain,
            start=start.date() if start else date(clock.today().year, 1, 1),
            end=end.date() if end else clock.today(),
            dimension=dimension,
        )
        names = labels.key_labels(session, dimension, {v.key for v in values})
    return values, names


FIGURE = typer.Option(..., "--figure", "-f", help="a figure's name (repeat for several)")
GRAIN = typer.Option(Grain.MONTH, help="day, month, quarter or year")
DIMENSION = typer.Option(Dimension.ALL, help="all, province, city, county, industry, …")
START = typer.Option(None, formats=["%Y-%m-%d"], help="first day (default: 1 January)")
END = typer.Option(None, formats=["%Y-%m-%d"], help="last day (default: today)")


@app.command("show")
def show(
    figure: list[str] = FIGURE,
    grain: Grain = GRAIN,
    dimension: Dimension = DIMENSION,
    start: datetime | None = START,
    end: datetime | None = END,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Figures per period and cell, as the operator sees them."""
    try:
        values, names = _read(figure, grain, dimension, start, end)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(
            [
                {
                    "period": v.period,
                    "key": v.key,
                    "name": names.get(v.key, v.key),
                    "figure": v.figure,
                    "value": None if v.value is None else str(v.value),
                }
                for v in values
            ]
        )
        return
    for v in values:
        shown = "-" if v.value is None else f"{v.value:,}"
        cell = f" {names.get(v.key, v.key)}" if v.key else ""
        console.print(f"{v.period}{cell}  {gettext(figures.FIGURES[v.figure].label)}: {shown}")


@app.command("export")
def export(
    out: Path = typer.Argument(..., help="the file to write (.csv or .xlsx)"),
    figure: list[str] = FIGURE,
    grain: Grain = GRAIN,
    dimension: Dimension = DIMENSION,
    start: datetime | None = START,
    end: datetime | None = END,
) -> None:
    """Write figures to a CSV or Excel file."""
    try:
        values, names = _read(figure, grain, dimension, start, end)
    except XydError as exc:
        fail_on(exc)
    rows = figures.export_rows(values, dimension, names)
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(figures.export_xlsx(rows))
    else:
        out.write_text(figures.export_csv(rows), encoding="utf-8")
    console.print(f"{len(rows)} rows written to {out}")


@app.command("targets")
def show_targets(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """The platform's targets and how far along it is."""
    try:
        with session_scope() as session:
            found = targets.progress(session)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(
            [
                {
                    "name": p.target.name,
                    "figure": p.target.figure,
                    "amount": str(p.target.amount),
                    "reached": str(p.reached),
                    "share": str(p.share),
                    "elapsed": str(p.elapsed),
                }
                for p in found
            ]
        )
        return
    for p in found:
        console.print(
            f"{gettext(p.target.label)}: {p.reached:,} / {p.target.amount:,} "
            f"({p.share}% reached, {p.elapsed}% of the time gone)"
        )


@app.command("evaluate")
def evaluate(
    year: int = typer.Option(..., help="the method's year"),
    quarter: int = typer.Option(..., min=1, max=4, help="1 to 4"),
    subject: str = typer.Option("institution", help="institution or region"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Score every institution (or region) of a quarter by the year's method."""
    from xinyidai.stats.service import evaluation

    try:
        with session_scope() as session:
            ranking = evaluation.rank(session, year=year, quarter=quarter, subject=subject)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(
            [
                {
                    "rank": s.rank,
                    "key": s.key,
                    "name": s.name,
                    "score": str(s.score),
                    "marks": {m.figure: str(m.points) for m in s.marks},
                }
                for s in ranking.scores
            ]
        )
        return
    for s in ranking.scores:
        console.print(f"{s.rank:>3}  {s.score:>6}  {s.name}")


@app.command("bulletin")
def bulletin(
    month: str = typer.Option(None, help="YYYY-MM (default: the month before this one)"),
    pdf: Path | None = typer.Option(None, "--pdf", help="also write the PDF here"),
) -> None:
    """Generate a month's bulletin (again, if it was generated before) and archive it."""
    from xinyidai.stats.service import bulletins

    chosen = month or bulletins.previous_month(clock.today())
    try:
        with session_scope() as session:
            done = bulletins.generate(session, month=chosen, actor="system:cli")
            body = done.pdf
    except XydError as exc:
        fail_on(exc)
    if pdf is not None:
        pdf.write_bytes(body)
    console.print(f"bulletin {chosen} generated ({len(body):,} bytes of PDF)")
