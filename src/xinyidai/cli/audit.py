"""``xyd audit``: the access log — search and export, counts, anomaly flags."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from xinyidai.audit import flags as audit_flags
from xinyidai.audit import service
from xinyidai.audit.schemas import AccessEventOut, EventFilter
from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of

app = typer.Typer(
    help="The access log: who read which enterprise's data, and why.", no_args_is_help=True
)


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("a day is written YYYY-MM-DD", param_hint=option) from exc


@app.command("events")
def events(
    organization: str | None = typer.Option(None, help="the asking organization (org_…)"),
    enterprise: str | None = typer.Option(None, help="the enterprise's credit code"),
    date_from: str | None = typer.Option(None, "--from", help="first day, YYYY-MM-DD (China)"),
    date_to: str | None = typer.Option(None, "--to", help="last day, YYYY-MM-DD (China)"),
    purpose: str | None = typer.Option(None),
    outcome: str | None = typer.Option(None, help="allow or deny"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    csv_file: Path | None = typer.Option(
        None, "--csv", help="write every match to this CSV file ('-': standard output)"
    ),
) -> None:
    """Search access events; print the newest as JSON lines, or export every match as CSV."""
    flt = EventFilter(
        organization=organization,
        subject=enterprise,
        date_from=_day(date_from, "--from"),
        date_to=_day(date_to, "--to"),
        purpose=purpose,
        outcome=outcome,
    )
    try:
        with session_scope() as session:
            if csv_file is not None:
                lines = service.csv_lines(session, flt=flt)
                if str(csv_file) == "-":
                    sys.stdout.writelines(lines)
                else:
                    with csv_file.open("w", encoding="utf-8", newline="") as handle:
                        handle.writelines(lines)
                return
            found = page_of(
                session,
                service.events_statement(flt=flt),
                PageRequest(size=limit),
                AccessEventOut.model_validate,
            )
            for event in found.items:
                print_json(event.model_dump(mode="json"))
            console.print(f"{len(found.items)} of {found.total} events")
    except XydError as exc:
        fail_on(exc)


@app.command("counts")
def counts() -> None:
    """Decisions by outcome, basis, purpose and kind of asker, as JSON."""
    with session_scope() as session:
        print_json(service.counts(session).model_dump(mode="json"))


@app.command("flags")
def flags(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Anomalies in the access log over the last XYD_AUDIT_WINDOW_DAYS days."""
    with session_scope() as session:
        found = audit_flags.compute(session)
    if as_json:
        print_json([flag.model_dump(mode="json") for flag in found])
        return
    if not found:
        console.print("no flags")
    for flag in found:
        where = flag.subject or (flag.day.isoformat() if flag.day else "")
        console.print(
            f"{flag.kind:<17} {flag.organization_name} ({flag.organization_id}) {where} "
            f"count {flag.count} (threshold {flag.threshold:g})"
        )
