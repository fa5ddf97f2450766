"""``xyd risk``: post-loan monitoring, early warning, fraud rules and the blacklist."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Post-loan monitoring, early warning, fraud rules and the financial blacklist.",
    no_args_is_help=True,
)

from xinyidai.cli import risk_warning  # noqa: E402

risk_warning.register(app)  # xyd risk warn
