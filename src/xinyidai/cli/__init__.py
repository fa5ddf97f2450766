"""The ``xyd`` command: one sub-command group per domain (see ``xyd --help``)."""

from __future__ import annotations

import typer

from xinyidai.cli import (
    audit,
    backup,
    catalog,
    consent,
    db,
    graph,
    iam,
    ingest,
    ledger,
    platform,
    privacy,
    profile,
    rating,
    records,
    registry,
    risk,
    scorecard,
    synth,
)
from xinyidai.jobs import load_all_tasks

app = typer.Typer(
    name="xyd",
    help="XYD 信易贷 — credit-information sharing and SME financing platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(registry.app, name="registry")
app.add_typer(iam.app, name="iam")
app.add_typer(catalog.app, name="catalog")
app.add_typer(records.app, name="records")
app.add_typer(ledger.app, name="ledger")
app.add_typer(consent.app, name="consent")
app.add_typer(audit.app, name="audit")
app.add_typer(privacy.app, name="privacy")
app.add_typer(graph.app, name="graph")
app.add_typer(scorecard.app, name="scorecard")
app.add_typer(rating.app, name="rate")
app.add_typer(risk.app, name="risk")
ledger.register(app)
platform.register(app)
ingest.register(app)
synth.register(app)
profile.register(app)
backup.register(app)


def main() -> None:
    load_all_tasks()  # commands queue tasks by name, as the app does
    app()
