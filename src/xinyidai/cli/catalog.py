"""``xyd catalog``: the public credit information catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from xinyidai.catalog import service
from xinyidai.catalog.schemas import CategoryOut
from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError

app = typer.Typer(help="The information catalogue: categories, field schemas, sharing rules.")


@app.command("list")
def list_(
    provider: str = typer.Option(None, help="only this source department"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per category"),
    as_markdown: bool = typer.Option(
        False, "--markdown", help="the shipped default catalogue as a Markdown page"
    ),
) -> None:
    """List the categories in force."""
    if as_markdown:
        typer.echo(service.markdown(service.default_specs()), nl=False)
        return
    with session_scope() as session:
        for category in service.list_categories(session, provider=provider):
            if as_json:
                print_json(CategoryOut.model_validate(category).model_dump(mode="json"))
            else:
                typer.echo(
                    f"{category.code:<22} v{category.version:<3} {category.provider:<12} "
                    f"{category.sharing_type:<13} {category.sensitivity:<12} {category.name_zh}"
                )


@app.command()
def show(code: str) -> None:
    """Print one category with its field schema as JSON."""
    try:
        with session_scope() as session:
            category = service.get_by_code_or_raise(session, code=code)
            print_json(CategoryOut.model_validate(category).model_dump(mode="json"))
    except XydError as exc:
        fail_on(exc)


@app.command("load-defaults")
def load_defaults() -> None:
    """Add the shipped default categories that are missing (edited ones are kept)."""
    with session_scope() as session:
        added = service.load_defaults(session, actor="cli")
    console.print(f"added {added} categories")


@app.command()
def put(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a category spec as JSON"),
    note: str = typer.Option(None, help="why the change is made"),
) -> None:
    """Create a category, or update it as a new version, from a JSON spec file."""
    try:
        spec = service.parse_spec(json.loads(path.read_text(encoding="utf-8")))
        with session_scope() as session:
            if service.get_by_code(session, code=spec.code) is None:
                category = service.create(session, spec=spec, actor="cli", note=note)
            else:
                category = service.update(
                    session, code=spec.code, spec=spec, actor="cli", note=note
                )
            console.print(f"{category.code} at version {category.version}")
    except XydError as exc:
        fail_on(exc)


@app.command()
def assign(
    code: str = typer.Argument(..., help="the category's code"),
    provider: str = typer.Argument(..., help="the department code that becomes its source"),
    note: str = typer.Option(None, help="why the change is made"),
) -> None:
    """Make a department the source of a category (a new version): only its data of the
    category is accepted from then on, and only it reads the category as its own."""
    try:
        with session_scope() as session:
            category = service.assign(session, code=code, provider=provider, actor="cli", note=note)
            console.print(
                f"{category.code} at version {category.version}: source {category.provider}"
            )
    except XydError as exc:
        fail_on(exc)
