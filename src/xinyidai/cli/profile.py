"""``xyd profile CODE``: an enterprise's panoramic profile under the operator's duty, on
screen, as JSON, or written as the PDF credit report.

Like ``xyd records show``, each call is one access decision (actor
``user:console.<login name>``) in the audit trail and the ledger.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core.db import commit_refusal, session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import normalize_locale
from xinyidai.core.settings import get_settings
from xinyidai.profile import service
from xinyidai.profile.schemas import ProfileOut
from xinyidai.registry import service as registry


def profile(
    code: str = typer.Argument(..., help="unified social credit code"),
    purpose: str = typer.Option(
        "supervision", help="the operator's duty: supervision, objection_handling, data_maintenance"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the profile as JSON"),
    out: Path = typer.Option(None, "--pdf", help="write the credit report as a PDF here"),
    lang: str = typer.Option(None, "--lang", help="zh_CN (default) or en"),
) -> None:
    """An enterprise's panoramic profile (logged as an access event)."""
    locale = normalize_locale(lang or get_settings().locale)
    found: ProfileOut | None = None
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            subject = registry.get_by_code_or_raise(session, credit_code=code)
            decision = consent_service.decide(
                session,
                actor=principal,
                subject=subject.credit_code,
                purpose=purpose,
                channel="cli:profile.pdf" if out else "cli:profile",
            )
            if not decision.allowed:
                raise commit_refusal(session, consent_service.refusal(decision))
            found = service.build(session, decision, principal=principal, locale=locale)
            if out is not None:
                out.write_bytes(service.pdf_of(session, found, locale=locale))
    except XydError as exc:
        fail_on(exc)
    assert found is not None
    if as_json:
        print_json(found.model_dump(mode="json"))
    elif out is not None:
        console.print(f"wrote {found.report_number} to {out}")
    else:
        _print(found)


def _print(p: ProfileOut) -> None:
    i = p.identity
    console.print(f"[bold]{i.name}[/bold] {i.credit_code} ({i.status})")
    console.print(f"{i.region_name or '—'} · {i.industry_name or '—'} · est. {i.established_on}")
    if p.rating is not None:
        trend = " → ".join(f"{round(t.score)} {t.grade}" for t in p.rating_trend)
        console.print(f"rating {p.rating.grade} {round(p.rating.score)} ({trend})")
        for reason in p.rating.reasons:
            console.print(f"  {reason.code} {reason.impact:+.0f} {reason.text}")
    for entry in p.lists:
        state = "ON" if entry.on_list else "not on"
        console.print(f"{entry.name_zh} ({entry.category}): {state}")
    if p.financing is not None:
        f = p.financing
        console.print(
            f"financing: {len(f.applications)} applications, {len(f.loans)} loans, "
            f"outstanding {f.outstanding}, in default {f.in_default}"
        )
    if p.associations is not None:
        bad = sum(1 for n in p.associations.nodes if n.bad and n.distance)
        linked = sum(1 for n in p.associations.nodes if n.distance)
        console.print(f"associations: {linked} linked, {bad} bad now")
    for section in p.report.sections:
        console.print(f"{section.name_zh} ({section.category}): {len(section.records)} records")
    console.print(f"report {p.report_number}, access event {p.access_event}")


def prepare_fonts() -> None:
    """Cut the report fonts once into the font cache, so that PDF reports read them fast."""
    from xinyidai.profile import fonts

    try:
        for path in fonts.prepare():
            console.print(f"report font ready: {path}")
    except XydError as exc:
        fail_on(exc)


def register(app: typer.Typer) -> None:
    app.command(name="profile")(profile)
    app.command(name="profile-fonts")(prepare_fonts)
