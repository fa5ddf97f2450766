"""``xyd risk warn``: refresh the early warnings by hand and print a summary."""

from __future__ import annotations

import getpass
from datetime import date

import typer

from xinyidai.cli.common import console, fail, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import normalize_locale
from xinyidai.core.pagination import PageRequest
from xinyidai.risk.service import warning as warning_service


def warn(
    code: str = typer.Option(None, "--code", help="only this borrower's live loans"),
    as_of: str = typer.Option(None, "--as-of", help="day to compute as of (YYYY-MM-DD)"),
    top: int = typer.Option(10, help="how many of the highest warnings to show (0: none)"),
    lang: str = typer.Option("zh_CN", help="language of the reasons (zh_CN or en)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Warn every live loan (or one borrower's) again now and show the highest warnings."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        fail(f"--as-of: not a day (YYYY-MM-DD): {as_of}")
    if top < 0:
        fail("--top: must be 0 or more")
    locale = normalize_locale(lang)
    try:
        with session_scope() as session:
            codes = None
            if code:
                from xinyidai.registry import service as registry_service

                codes = [
                    registry_service.get_by_code_or_raise(session, credit_code=code).credit_code
                ]
            done = warning_service.refresh(session, credit_codes=codes, on=day)
            session.commit()
            shown = []
            if top:
                principal = consent_service.console_principal(session, name=getpass.getuser())
                page = warning_service.list_warnings(
                    session, principal, PageRequest(page=1, size=top), locale=locale
                )
                shown = [item.model_dump(mode="json") for item in page.items]
    except XydError as exc:
        fail_on(exc)
    summary = done.out().model_dump(mode="json")
    if as_json:
        print_json({**summary, "top": shown})
        return
    console.print(
        f"early warning {summary['model_version']} as of {summary['as_of']}: "
        f"{summary['loans']} live loans — {summary['added']} added, {summary['changed']} "
        f"changed, {summary['unchanged']} unchanged, {summary['removed']} removed"
    )
    console.print("bands: " + ", ".join(f"{k} {v}" for k, v in summary["bands"].items()))
    for item in shown:
        reasons = "; ".join(r["text"] for r in item["reasons"])
        console.print(
            f"{item['probability']:.1%} {item['band']:<7} {item['loan_id']} "
            f"{item['enterprise_name']} ({item['credit_code']}) — {reasons}"
        )


def register(app: typer.Typer) -> None:
    app.command("warn")(warn)
