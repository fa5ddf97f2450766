"""``xyd records``: what the data center holds about a subject, read under the operator's duty.

The console reads through the same access decision as everyone else: each ``show`` is an
access event (actor ``user:console.<login name>``) in the audit trail and the ledger.
"""

from __future__ import annotations

import getpass

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core.db import commit_refusal, session_scope
from xinyidai.core.errors import XydError
from xinyidai.records import service
from xinyidai.records.schemas import CategoryRecords
from xinyidai.registry import service as registry

app = typer.Typer(help="Credit records held by the data center, with their history.")


@app.command()
def show(
    code: str = typer.Argument(..., help="unified social credit code"),
    category: list[str] = typer.Option(None, help="only these categories (repeatable)"),
    history: bool = typer.Option(False, help="include every earlier version"),
    purpose: str = typer.Option(
        "supervision", help="the operator's duty: supervision, objection_handling, data_maintenance"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List a subject's current records by category (logged as an access event)."""
    try:
        with session_scope() as session:
            subject = registry.get_by_code_or_raise(session, credit_code=code)
            decision = consent_service.decide(
                session,
                actor=consent_service.console_principal(session, name=getpass.getuser()),
                subject=subject.credit_code,
                categories=category or None,
                purpose=purpose,
                channel="cli:records",
            )
            if not decision.allowed:
                raise commit_refusal(session, consent_service.refusal(decision))
            groups = consent_service.records_for(session, decision, with_history=history)
            _print(
                subject.credit_code,
                subject.name,
                subject.status,
                decision.event_id,
                groups,
                as_json=as_json,
            )
    except XydError as exc:
        fail_on(exc)


def _print(
    code: str,
    name: str,
    status: str,
    event_id: str,
    groups: list[CategoryRecords],
    *,
    as_json: bool,
) -> None:
    if as_json:
        print_json(
            {
                "credit_code": code,
                "name": name,
                "access_event": event_id,
                "categories": [g.model_dump(mode="json") for g in groups],
            }
        )
        return
    console.print(f"[bold]{name}[/bold] {code} ({status})")
    for group in groups:
        hidden = f", {group.hidden_expired} past disclosure" if group.hidden_expired else ""
        console.print(f"\n[bold]{group.name_zh}[/bold] ({group.category}{hidden})")
        for record in group.records:
            fields = ", ".join(
                f"{k}={v}"
                for k, v in record.data.items()
                if k not in ("credit_code", "enterprise_name")
            )
            console.print(f"  v{record.version} [{record.provider}] {fields}")
    console.print(f"\naccess event {event_id}")


@app.command()
def partitions(
    add: str = typer.Option(None, "--add", help="give this category its own partition"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the partitions of the records table (PostgreSQL), or add one for a category."""
    try:
        with session_scope() as session:
            if add:
                service.add_partition(session, category=add)
            found = service.partitions(session)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json([{"name": p.name, "category": p.category, "rows": p.rows} for p in found])
        return
    if not found:
        console.print("this database does not partition records (SQLite)")
    for part in found:
        console.print(f"{part.name}  {part.category or 'DEFAULT'}  ~{part.rows:,} rows")


@app.command()
def check() -> None:
    """Check that every stored version still has its record (exit 1 if not)."""
    with session_scope() as session:
        orphans = service.orphan_versions(session)
    if orphans:
        console.print(f"[red]{orphans} versions have no record[/red]")
        raise typer.Exit(1)
    console.print("every version has its record")
