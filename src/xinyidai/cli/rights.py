"""``xyd rights``: objections past their deadline, reminders, the operator's decisions."""

from __future__ import annotations

import getpass
from datetime import date

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.rights.service import objections

app = typer.Typer(
    help="Subject rights: objections past their deadline, reminders, decisions.",
    no_args_is_help=True,
)


@app.command("overdue")
def overdue(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Open objections past their deadline (20 calendar days from receipt by default), the
    oldest deadline first, with their handler."""
    today = clock.today()
    with session_scope() as session:
        rows = [
            objections.out(row, today=today).model_dump(mode="json")
            for row in objections.overdue(session, today=today)
        ]
    if as_json:
        print_json({"today": today.isoformat(), "total": len(rows), "items": rows})
        return
    console.print(f"{len(rows)} objections overdue on {today.isoformat()}")
    for row in rows:
        late = (today - date.fromisoformat(row["due_on"])).days
        console.print(
            f"{row['id']} {row['state']:<10} {row['credit_code']} "
            f"{row['department'] or 'operator'} due {row['due_on']} ({late} days late)"
        )


@app.command("remind")
def remind() -> None:
    """Remind the handlers of objections whose deadline is near (the worker does it every
    morning); each objection once."""
    with session_scope() as session:
        sent = objections.remind_due(session)
    console.print(f"{sent} reminders sent")


@app.command("figures")
def figures(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Objections received, answered, on time, open and overdue, per handler."""
    with session_scope() as session:
        found = objections.figures(session)
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    rate = "—" if found.on_time_rate is None else f"{found.on_time_rate:.1%}"
    console.print(
        f"{found.received} received, {found.answered} answered ({rate} on time), "
        f"{found.open} open, {found.overdue} overdue"
    )
    for f in found.by_handler:
        share = "—" if f.on_time_rate is None else f"{f.on_time_rate:.1%}"
        console.print(f"{f.handler:<14} {f.received:>4} {f.answered:>4} {share:>7} {f.overdue:>3}")


@app.command("decide")
def decide(
    objection_id: str,
    move: str = typer.Argument(..., help="accept, decline, verify, correct, uphold, close"),
    reason: str | None = typer.Option(None, help="required to decline or uphold"),
) -> None:
    """The operator's step on an objection routed to it (the rating, the platform's data) or
    escalated to it; ``correct`` re-rates the enterprise."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            row = objections.visible_or_raise(
                session, principal=principal, objection_id=objection_id, lock=True
            )
            objections.move(session, principal=principal, objection=row, name=move, reason=reason)
            state = row.state
    except XydError as exc:
        fail_on(exc)
    console.print(f"{objection_id} {state}")
