"""``xyd consent``: the credit commitment text, authorization letters, the expiry sweep."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.consent import service
from xinyidai.consent.schemas import CommitmentTextOut, LetterOut
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of

app = typer.Typer(help="The credit commitment and authorization letters.", no_args_is_help=True)


@app.command("commitment")
def commitment(
    publish: Path | None = typer.Option(
        None, help="publish this UTF-8 text file as a new version (its first line is the title)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Print the commitment text in force, or publish a new version of it."""
    try:
        with session_scope() as session:
            if publish is not None:
                title, _, body = publish.read_text(encoding="utf-8").partition("\n")
                text = service.publish_text(
                    session, title=title, body=body, actor=f"console.{getpass.getuser()}"
                )
            else:
                text = service.latest_text_or_raise(session)
            out = CommitmentTextOut.model_validate(text)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(f"[bold]{out.title}[/bold] (version {out.version}, sha256 {out.digest})")
    typer.echo(out.body)


@app.command("letters")
def letters(
    code: str | None = typer.Option(None, "--code", help="only this enterprise's letters"),
    state: str | None = typer.Option(None, help="pending, active, paused, expired, …"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List authorization letters (every enterprise's; the console sees them all)."""
    try:
        with session_scope() as session:
            principal = service.console_principal(session, name=getpass.getuser())
            stmt = service.letters_statement(principal=principal, state=state, credit_code=code)
            found = page_of(session, stmt, PageRequest(size=limit), LetterOut.model_validate)
            total = found.total
            items = [letter.model_dump(mode="json") for letter in found.items]
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json({"total": total, "items": items})
        return
    console.print(f"{total} letters")
    for item in items:
        grantee = item["grantee_name"] or "any institution"
        console.print(
            f"{item['id']} {item['state']:<8} {item['credit_code']} → {grantee} "
            f"{item['purpose']} until {item['valid_until'][:10]} "
            f"used {item['queries_used']}/{item['max_queries'] or '∞'}"
        )


@app.command("expire")
def expire() -> None:
    """Move every letter past its validity to expired (the worker does it every hour)."""
    with session_scope() as session:
        moved = service.expire_due(session)
    console.print(f"{moved} letters expired")
