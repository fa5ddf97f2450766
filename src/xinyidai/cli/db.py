"""``xyd db``: the database schema."""

from __future__ import annotations

import typer

from xinyidai import bootstrap
from xinyidai.cli.common import console, setup_logging
from xinyidai.core import migrate
from xinyidai.core.settings import get_settings

app = typer.Typer(help="Database schema: apply migrations, show the current revision.")


@app.command()
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply every migration up to REVISION (default: the latest) and load reference data."""
    setup_logging()
    url = get_settings().effective_database_url
    if revision == "head":
        loaded = bootstrap.initialize(url)
        console.print(f"reference data: {loaded}")
    else:
        migrate.upgrade(url, revision)
    console.print(f"database at revision [bold]{migrate.current_revision(url)}[/bold]")


@app.command()
def current() -> None:
    """Print the revision the database is at."""
    typer.echo(migrate.current_revision() or "(empty database)")


@app.command()
def revision(message: str = typer.Option(..., "-m", help="what the change is")) -> None:
    """Autogenerate a migration from the models (developers; review it by hand)."""
    migrate.revision(message)
