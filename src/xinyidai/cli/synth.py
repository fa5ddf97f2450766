"""``xyd synth``: generate a synthetic region (feeds, manifest, truth files)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from xinyidai.cli.common import console, fail
from xinyidai.synth import generate


def synth(
    enterprises: int = typer.Option(1000, min=1, help="number of credit subjects to generate"),
    seed: int = typer.Option(1, help="random seed; the same N and seed give identical files"),
    out: Path = typer.Option(..., "--out", help="folder to write manifest.json, feeds/, truth/"),
) -> None:
    """Generate a realistic synthetic region: department feeds with planted bad rows."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("enterprises", total=enterprises)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            manifest = generate(out, enterprises=enterprises, seed=seed, progress=advance)
        except (ValueError, OSError) as exc:
            fail(str(exc))
    counts = manifest["counts"]
    console.print(
        f"wrote {len(manifest['feeds'])} feeds, {counts['feed_rows']} rows "
        f"({counts['bad_rows']} planted bad rows, {counts['defaulted']} defaults) to {out}"
    )


def register(app: typer.Typer) -> None:
    app.command()(synth)
