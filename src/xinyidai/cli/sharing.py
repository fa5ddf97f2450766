"""``xyd sharing``: risk-sharing schemes, compensation pools, claims and statements, for
the operator at the console."""

from __future__ import annotations

import getpass
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer

from xinyidai.cli.common import console, fail, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.sharing.schemas import PoolIn, SchemeIn
from xinyidai.sharing.service import claims, pools, schemes

app = typer.Typer(
    help="Risk sharing: schemes, compensation pools, claims and statements.",
    no_args_is_help=True,
)


def _money(text: str, *, name: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        fail(f"{name}: not an amount: {text}")


@app.command("schemes")
def list_schemes(
    state: str | None = typer.Option(None, help="draft, active or closed"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Every scheme version, newest first."""
    with session_scope() as session:
        found = page_of(
            session, schemes.statement(state=state), PageRequest(size=limit), schemes.out
        )
        items = [item.model_dump(mode="json") for item in found.items]
    if as_json:
        print_json({"total": found.total, "items": items})
        return
    console.print(f"{found.total} schemes")
    for item in items:
        shares = ":".join(format(Decimal(p["share"]).normalize(), "f") for p in item["parties"])
        console.print(
            f"{item['id']} v{item['version']} {item['state']:<6} {item['region_code']} "
            f"{shares} {item['name']}"
        )


@app.command("scheme-create")
def create_scheme(
    path: Path = typer.Argument(..., help="the scheme as JSON (the API's SchemeIn)", exists=True),
    activate: bool = typer.Option(False, help="activate it at once"),
) -> None:
    """Draft a scheme from a JSON file (and activate it)."""
    try:
        data = SchemeIn.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        fail(f"{path}: {exc}")
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            scheme = schemes.create(session, principal=principal, data=data)
            if activate:
                schemes.move(
                    session,
                    principal=principal,
                    scheme_id=scheme.public_id,
                    transition="activate",
                    reason=None,
                )
            console.print(f"{scheme.public_id} {scheme.state}")
    except XydError as exc:
        fail_on(exc)


@app.command("pools")
def list_pools(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """The regions' pools: balance, reserved, paid out, loans covered, leverage."""
    with session_scope() as session:
        items = [
            pools.out(session, pool).model_dump(mode="json")
            for pool in session.scalars(pools.statement())
        ]
    if as_json:
        print_json(items)
        return
    for item in items:
        console.print(
            f"{item['id']} {item['region_code']} balance {item['balance']} "
            f"reserved {item['reserved']} paid {item['paid_out']} covered {item['covered']} "
            f"leverage {item['leverage']} {item['name']}"
        )


@app.command("pool-create")
def create_pool(
    region: str = typer.Argument(..., help="GB/T 2260 region code"),
    name: str = typer.Argument(...),
    floor: str = typer.Option("0.00", help="free money below which no loan is enrolled"),
) -> None:
    """A region's compensation pool, empty."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            pool = pools.create(
                session,
                principal=principal,
                data=PoolIn(region_code=region, name=name, floor=_money(floor, name="floor")),
            )
            console.print(pool.public_id)
    except XydError as exc:
        fail_on(exc)


@app.command("top-up")
def top_up(
    pool_id: str = typer.Argument(...),
    amount: str = typer.Argument(..., help="yuan, to the fen"),
    note: str | None = typer.Option(None, help="what the money is"),
) -> None:
    """Put money into a pool (a ledger leaf)."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            pool = pools.top_up(
                session,
                principal=principal,
                pool_id=pool_id,
                amount=_money(amount, name="amount"),
                note=note,
            )
            console.print(f"{pool.public_id} balance {pool.balance}")
    except XydError as exc:
        fail_on(exc)


@app.command("claims")
def list_claims(
    state: str | None = typer.Option(None, help="filed, under_review, approved, …"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Claims, newest first, with their deadlines."""
    with session_scope() as session:
        principal = consent_service.console_principal(session, name=getpass.getuser())
        found = page_of(
            session, claims.statement(principal, state=state), PageRequest(size=limit), claims.out
        )
        items = [item.model_dump(mode="json") for item in found.items]
    if as_json:
        print_json({"total": found.total, "items": items})
        return
    console.print(f"{found.total} claims")
    for item in items:
        console.print(
            f"{item['id']} {item['state']:<15} {item['claimed_loss']:>14} by {item['deadline_on']} "
            f"{item['contract_number']} {item['enterprise_name']}"
        )


@app.command("claim")
def move_claim(
    claim_id: str = typer.Argument(...),
    transition: str = typer.Argument(..., help=", ".join(claims.MOVES)),
    reason: str | None = typer.Option(None, help="the reason (reject, approve_part, …)"),
    amount: str | None = typer.Option(None, help="approve_part: the loss approved"),
) -> None:
    """One move of a claim by the operator (review, approve, approve_part, reject, pay, close)."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            claim = claims.move(
                session,
                principal=principal,
                claim_id=claim_id,
                transition=transition,
                reason=reason,
                amount=None if amount is None else _money(amount, name="amount"),
            )
            console.print(f"{claim.public_id} {claim.state}")
    except XydError as exc:
        fail_on(exc)


@app.command("statement")
def statement(
    pool_id: str = typer.Argument(...),
    start: str = typer.Option(..., help="first day, YYYY-MM-DD (China)"),
    end: str = typer.Option(..., help="last day, YYYY-MM-DD (China)"),
    out: Path = typer.Option(..., "--out", help="the file to write (.csv or .xlsx)"),
) -> None:
    """A pool's statement for a period as CSV or Excel (formulas neutralized)."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        fail(f"not a day: {exc}")
    try:
        with session_scope() as session:
            pool = pools.get_or_raise(session, pool_id=pool_id)
            if out.suffix.lower() == ".xlsx":
                out.write_bytes(pools.statement_xlsx(session, pool, start=first, end=last))
            else:
                out.write_text(
                    pools.statement_csv(session, pool, start=first, end=last), encoding="utf-8"
                )
    except XydError as exc:
        fail_on(exc)
    console.print(f"wrote {out}")


@app.command("expire")
def expire() -> None:
    """Close the schemes whose validity has ended (the nightly task does it too)."""
    from xinyidai.sharing.jobs import expire_schemes

    console.print(f"{expire_schemes()} schemes closed")
