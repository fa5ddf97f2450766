"""``xyd privacy``: the desensitization rules and the grading of the catalogue."""

from __future__ import annotations

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.privacy import service

app = typer.Typer(help="Grading, classification and desensitization rules.", no_args_is_help=True)


@app.command("rules")
def rules() -> None:
    """Print the desensitization rules in force (JSON) and where they are read from."""
    try:
        document = service.rules_document()
    except XydError as exc:
        fail_on(exc)
    console.print(f"rules from {service.rules_path()}")
    print_json(document)


@app.command("grades")
def grades(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Every category's grade (sensitivity) and classification (sharing), field by field."""
    with session_scope() as session:
        graded = service.grading(session)
    if as_json:
        print_json([g.model_dump(mode="json") for g in graded])
        return
    for category in graded:
        console.print(
            f"[bold]{category.code}[/bold] {category.name_zh}: {category.level}, "
            f"{category.sharing_type}{' (public)' if category.public else ''}"
        )
        for field in category.fields:
            if field.grade != category.level or field.rule_type:
                rule = f" → {field.method} ({field.rule_type})" if field.rule_type else ""
                when = " when a condition holds" if field.when else ""
                console.print(f"  {field.name}: {field.grade}{rule}{when}")
