"""``xyd joint``: the institution's side of joint modelling, run at the institution against
the center's API (``align``: the private set intersection of its customers)."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import typer

from xinyidai.cli.common import console, fail, fail_on, print_json
from xinyidai.core.errors import XydError

app = typer.Typer(
    help="Joint modelling at an institution: align its customers with the center.",
    no_args_is_help=True,
)


@app.callback()
def joint() -> None:
    """Joint modelling at an institution: align its customers with the center."""


def _customers(path: Path) -> list[str]:
    """The credit codes of a customer file: a CSV with a ``credit_code`` column, or one code
    a line."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and "credit_code" in lines[0].split(","):
        return [row.get("credit_code") or "" for row in csv.DictReader(lines)]
    return [line.strip() for line in lines]


@app.command("align")
def align(
    customers: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV with credit_code, or one code a line"
    ),
    center: str = typer.Option(..., "--center", help="the center's base URL"),
    user: str = typer.Option(..., "--user", help="the institution's user at the center"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, help="asked for when not given"
    ),
    out: Path | None = typer.Option(None, "--out", help="write the intersection here"),
) -> None:
    """Align the institution's customers with the center's enterprises whose letters allow
    joint modelling to it: only blinded points cross; prints the sizes and writes the
    customers in common (in the center's order) to ``--out``."""
    from xinyidai.joint import client as joint_client
    from xinyidai.joint.service import customers_or_raise

    try:  # checked here first: a bad row is named before the center is even asked
        codes = customers_or_raise(_customers(customers))
    except XydError as exc:
        fail_on(exc)
    with httpx.Client(base_url=center.rstrip("/"), timeout=300) as http:
        signed = http.post("/api/v1/auth/token", data={"username": user, "password": password})
        if signed.status_code != 200:
            fail(f"the center refused the sign-in ({signed.status_code})")
        http.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
        try:
            aligned = joint_client.align(http, codes)
        except XydError as exc:
            fail_on(exc)
    if out is not None:
        out.write_text("".join(f"{code}\n" for code in aligned.codes), encoding="utf-8")
        console.print(f"{len(aligned.codes)} customers in common written to {out}")
    print_json(
        {
            "alignment": aligned.alignment_id,
            "sent": aligned.sent,
            "offered": aligned.offered,
            "matched": len(aligned.codes),
            "bytes": aligned.exchanged_bytes,
        }
    )
