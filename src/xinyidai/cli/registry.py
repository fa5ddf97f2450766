"""``xyd registry``: credit subjects and codes."""

from __future__ import annotations

import typer

from xinyidai.cli.common import fail, print_json
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.registry import service
from xinyidai.registry.schemas import EnterpriseOut

app = typer.Typer(help="Credit subjects, unified social credit codes, regions, industries.")


@app.command("check")
def check(code: str) -> None:
    """Check a unified social credit code (GB 32100-2015); exit 1 when it is not valid."""
    result = service.check_code(raw=code)
    print_json(result.model_dump())
    if not result.valid:
        raise typer.Exit(1)


@app.command("show")
def show(code: str) -> None:
    """Print the registration facts of one credit subject as JSON."""
    try:
        with session_scope() as session:
            enterprise = service.get_by_code_or_raise(session, credit_code=code)
            print_json(EnterpriseOut.model_validate(enterprise).model_dump(mode="json"))
    except XydError as exc:
        fail(exc.translated("en"))
