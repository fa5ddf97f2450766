"""``xyd risk``: post-loan monitoring, early warning, fraud rules and the blacklist."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Post-loan monitoring, early warning, fraud rules and the financial blacklist.",
    no_args_is_help=True,
)
