"""How fast the command line answers: ``xyd --help``, ``xyd --version`` and each group's
``--help``, as an operator types them (a new process each time), with the modules that cost
most to import.

    .venv/bin/python bench/cli.py [--runs 5] [--groups]

Prints the median and the slowest wall time of each command, then the ten most expensive
imports of ``xyd --help`` (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "XYD_LOG_FORMAT": "text"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "xinyidai", *args],
            env=env,
            capture_output=True,
            check=True,
            timeout=300,
        )
        times.append(time.perf_counter() - started)
    return times


def heaviest_imports(args: list[str], top: int = 10) -> list[tuple[float, str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "xinyidai", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        if not name.startswith(" "):  # top-level imports only (their children are inside)
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command")
    parser.add_argument("--groups", action="store_true", help="also each group's --help")
    args = parser.parse_args()
    commands = [["--help"], ["--version"]]
    if args.groups:
        from xinyidai.cli import GROUPS

        commands += [[group, "--help"] for group in GROUPS]
    print(f"{'command':<28} {'median':>8} {'slowest':>8}   ({args.runs} runs, a new process each)")
    for command in commands:
        times = timed(command, args.runs)
        name = "xyd " + " ".join(command)
        print(f"{name:<28} {statistics.median(times):7.2f}s {max(times):7.2f}s")
    print("\nheaviest imports of `xyd --help` (cumulative seconds):")
    for seconds, module in heaviest_imports(["--help"]):
        print(f"  {seconds:6.3f}  {module}")


if __name__ == "__main__":
    main()
