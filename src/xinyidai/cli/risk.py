"""``xyd risk``: post-loan monitoring, early warning, fraud rules and the blacklist."""

from __future__ import annotations

import getpass
from datetime import datetime

import typer

from xinyidai.cli.common import console, fail_on, print_json, setup_logging
from xinyidai.consent import service as consent_service
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.risk.schemas_blacklist import ListingOut
from xinyidai.risk.service import blacklist, fraud

app = typer.Typer(
    help="Post-loan monitoring, early warning, fraud rules and the financial blacklist.",
    no_args_is_help=True,
)
blacklist_app = typer.Typer(
    help="The financial blacklist: list, review, decide, remove, expire.", no_args_is_help=True
)
app.add_typer(blacklist_app, name="blacklist")


@app.command("fraud-scan")
def fraud_scan(
    application: str | None = typer.Option(None, "--application", help="only this application"),
    rescan: bool = typer.Option(False, help="scan again the applications scanned before"),
    since: datetime | None = typer.Option(None, help="only applications submitted since (UTC)"),
    limit: int = typer.Option(10_000, help="at most this many applications"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Run the anti-fraud rules over applications not scanned yet (or one, or all again);
    hits open fraud cases."""
    try:
        with session_scope() as session:
            if application:
                results = [fraud.scan(session, application_id=application)]
            else:
                results = fraud.scan_pending(
                    session,
                    rescan=rescan,
                    since=None if since is None else since.astimezone(),
                    limit=limit,
                )
            rows = [
                {
                    "application_id": r.application_id,
                    "hits": r.hits,
                    "case_id": r.case_id,
                    "skipped": r.skipped,
                    "marked": r.marked,
                }
                for r in results
            ]
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(rows)
        return
    flagged = [row for row in rows if row["hits"]]
    console.print(f"{len(rows)} applications scanned, {len(flagged)} hit")
    for row in flagged:
        console.print(f"{row['application_id']} {row['case_id']} {', '.join(row['hits'])}")


@blacklist_app.command("list")
def list_listings(
    state: str | None = typer.Option(None, help="proposed, notice, objected, listed, …"),
    code: str | None = typer.Option(None, "--code", help="only this enterprise"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Listings (the console sees every one)."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            stmt = blacklist.listings_statement(principal, state=state, credit_code=code)
            found = page_of(session, stmt, PageRequest(size=limit), ListingOut.model_validate)
            items = [item.model_dump(mode="json") for item in found.items]
            total = found.total
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json({"total": total, "items": items})
        return
    console.print(f"{total} listings")
    for item in items:
        until = (item["listed_until"] or item["objection_until"] or "")[:10]
        console.print(
            f"{item['id']} {item['state']:<9} {item['credit_code']} {item['enterprise_name']} "
            f"← {item['institution_name']} ({item['basis']}) {until}"
        )


def _step(listing_id: str, action: str, outcome: str | None, reason: str | None) -> None:
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            listing = blacklist.get_or_raise(session, listing_id=listing_id, lock=True)
            if action == "review":
                blacklist.review(
                    session,
                    principal=principal,
                    listing=listing,
                    outcome=outcome or "",
                    reason=reason,
                )
            elif action == "decide":
                blacklist.decide(
                    session,
                    principal=principal,
                    listing=listing,
                    outcome=outcome or "",
                    reason=reason,
                )
            else:
                blacklist.remove(session, principal=principal, listing=listing, reason=reason)
            state = listing.state
    except XydError as exc:
        fail_on(exc)
    console.print(f"{listing_id} {state}")


@blacklist_app.command("review")
def review(
    listing_id: str,
    outcome: str = typer.Argument(..., help="notice or reject"),
    reason: str | None = typer.Option(None, help="why (required to reject)"),
) -> None:
    """Review a proposal: accept it for notice (the objection window opens) or reject it."""
    _step(listing_id, "review", outcome, reason)


@blacklist_app.command("decide")
def decide(
    listing_id: str,
    outcome: str = typer.Argument(..., help="list or reject"),
    reason: str | None = typer.Option(None, help="why (required to reject)"),
) -> None:
    """Decide after the objection window or on the objection: list or reject."""
    _step(listing_id, "decide", outcome, reason)


@blacklist_app.command("remove")
def remove(
    listing_id: str, reason: str = typer.Option(..., help="why: the credit repaired")
) -> None:
    """Take a listing in force off the list early (credit repaired)."""
    _step(listing_id, "remove", None, reason)


@blacklist_app.command("expire")
def expire() -> None:
    """Move listings whose term has ended to expired (the worker does it every night)."""
    with session_scope() as session:
        moved = blacklist.expire_due(session)
    console.print(f"{moved} listings expired")


@app.command()
def sweep(
    associates: bool = typer.Option(
        False, "--associates", help="look every live loan's associates up again first"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Bring the watch list in line with the live loans and scan every watched enterprise
    now (what the worker does every fifteen minutes, and with ``--associates`` every
    night): alerts not raised yet are raised and sent."""
    from xinyidai.risk import jobs

    setup_logging()
    result = jobs.sweep(associates_too=associates)
    figures = {
        "scanned": result.scanned,
        "raised": len(result.raised),
        "deliveries": result.deliveries,
    }
    if as_json:
        print_json(figures)
        return
    console.print(
        f"{figures['scanned']:,} watched enterprises scanned: {figures['raised']:,} alerts "
        f"raised, {figures['deliveries']:,} webhook deliveries queued"
    )


from xinyidai.cli import risk_warning  # noqa: E402

risk_warning.register(app)  # xyd risk warn
