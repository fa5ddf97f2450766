"""``xyd risk``: post-loan monitoring, early warning, fraud rules and the blacklist."""

from __future__ import annotations

import typer

from xinyidai.cli.common import console, print_json, setup_logging

app = typer.Typer(
    help="Post-loan monitoring, early warning, fraud rules and the financial blacklist.",
    no_args_is_help=True,
)


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
