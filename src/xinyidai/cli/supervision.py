"""``xyd supervision``: the institutions that read credit data — their levels and expiries,
the assessment queue and decisions, findings, the agreement, and the daily round."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.supervision.schemas import AssessmentOut, DecisionIn, FindingMoveIn, FindingOut
from xinyidai.supervision.service import agreements, assessments, cycle, findings, standing

app = typer.Typer(
    help="Supervision of institutions: assessments, agreements, findings.",
    no_args_is_help=True,
)


@app.command("institutions")
def list_institutions(
    limit: int = typer.Option(100, help="at most this many, by name"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Every institution with its level, expiry, agreement, hold and open findings."""
    with session_scope() as session:
        found = standing.page(session, PageRequest(size=limit))
    if as_json:
        print_json(
            {"total": found.total, "items": [i.model_dump(mode="json") for i in found.items]}
        )
        return
    console.print(f"{found.total} institutions")
    for row in found.items:
        console.print(
            f"{row.organization_id} {row.organization_state:<9} level {row.level or '-'} "
            f"until {row.expires_on or '-'} agreement v{row.agreement_version or '-'} "
            f"hold {row.hold or '-'} findings {row.open_findings} {row.organization_name}"
        )


@app.command("queue")
def queue(
    limit: int = typer.Option(50, help="at most this many, oldest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Submitted assessments waiting for the operator."""
    with session_scope() as session:
        found = page_of(
            session,
            assessments.queue_statement(),
            PageRequest(size=limit),
            AssessmentOut.model_validate,
        )
    if as_json:
        print_json(
            {"total": found.total, "items": [i.model_dump(mode="json") for i in found.items]}
        )
        return
    console.print(f"{found.total} assessments waiting")
    for row in found.items:
        console.print(f"{row.public_id} {row.submitted_at} {row.organization_name}")


@app.command("decide")
def decide(
    assessment_id: str = typer.Argument(..., help="asm_…"),
    outcome: str = typer.Option(..., help="pass, fail or return"),
    level: str | None = typer.Option(None, help="A, B or C (pass)"),
    conditions: str | None = typer.Option(None, help="conditions of a pass"),
    valid_days: int | None = typer.Option(None, help="days it lasts (default: the setting)"),
    reason: str | None = typer.Option(None, help="why (fail, return)"),
) -> None:
    """Decide a reviewed assessment, as the operator at the console."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            row = assessments.get_or_raise(session, assessment_id=assessment_id, lock=True)
            data = DecisionIn(
                outcome=outcome,
                level=level,
                conditions=conditions,
                valid_days=valid_days,
                reason=reason,
            )
            assessments.decide(session, principal=principal, assessment=row, data=data)
            console.print(
                f"{row.public_id} {row.state} level {row.level or '-'} "
                f"until {row.expires_on or '-'}"
            )
    except XydError as exc:
        fail_on(exc)


@app.command("findings")
def list_findings(
    state: str | None = typer.Option(None, help="open, explained, remedied or sanctioned"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Findings against institutions."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            found = page_of(
                session,
                findings.statement(principal, state=state),
                PageRequest(size=limit),
                FindingOut.model_validate,
            )
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(
            {"total": found.total, "items": [i.model_dump(mode="json") for i in found.items]}
        )
        return
    console.print(f"{found.total} findings")
    for row in found.items:
        console.print(
            f"{row.public_id} {row.state:<10} {row.flag} {row.organization_name}: {row.summary}"
        )


@app.command("finding-move")
def move_finding(
    finding_id: str = typer.Argument(..., help="fnd_…"),
    transition: str = typer.Option(..., help="remedy or sanction"),
    reason: str = typer.Option(..., help="why"),
    sanction: str | None = typer.Option(None, help="warning, lower_level or suspend"),
) -> None:
    """Remedy or sanction a finding, as the operator at the console."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            row = findings.get_or_raise(session, finding_id=finding_id)
            findings.move(
                session,
                principal=principal,
                finding=row,
                data=FindingMoveIn(transition=transition, reason=reason, sanction=sanction),
            )
            console.print(f"{row.public_id} {row.state} {row.sanction or ''}")
    except XydError as exc:
        fail_on(exc)


@app.command("agreement-publish")
def publish_agreement(
    path: Path = typer.Argument(..., help="the agreement's text (UTF-8)", exists=True),
    title: str = typer.Option(..., help="its title"),
) -> None:
    """Publish a new version of the confidentiality agreement."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            row = agreements.publish(
                session, principal=principal, title=title, body=path.read_text(encoding="utf-8")
            )
            console.print(f"version {row.version} in force; sign by {row.sign_by}")
    except XydError as exc:
        fail_on(exc)


@app.command("round")
def daily_round() -> None:
    """Run the daily round now: reminders, lapses, findings from the access log's flags."""
    with session_scope() as session:
        done = cycle.daily_round(session, today=clock.today())
    console.print(f"{done.reminded} reminded, {done.lapsed} lapsed, {done.opened} findings opened")
