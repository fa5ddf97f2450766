"""Benchmark ``xyd synth``: generate N enterprises into a temporary folder and report.

Usage: ``.venv/bin/python bench/synth.py [N] [--seed S] [--workers W] [--keep DIR]``
(N defaults to 1,000,000). Prints wall and CPU seconds, feed rows per second, peak RSS of
this process and of the worker process, and the size of what was written.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from xinyidai.synth import generate


def _size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("enterprises", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="1 or 2 (default: automatic)")
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the files")
    args = parser.parse_args()

    out = args.keep or Path(tempfile.mkdtemp(prefix="xyd-synth-bench-"))
    last = [-1]

    def progress(done: int, total: int) -> None:
        percent = done * 100 // total
        if percent >= last[0] + 10:
            last[0] = percent
            print(f"  {percent:3d}%  {time.perf_counter() - started:7.1f} s", file=sys.stderr)

    try:
        started = time.perf_counter()
        manifest = generate(
            out,
            enterprises=args.enterprises,
            seed=args.seed,
            progress=progress,
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
        rows = manifest["counts"]["feed_rows"]
        size = _size(out)
        own_usage = resource.getrusage(resource.RUSAGE_SELF)
        child_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = own_usage.ru_maxrss / 1024
        children = child_usage.ru_maxrss / 1024
        cpu = sum(u.ru_utime + u.ru_stime for u in (own_usage, child_usage))
        print(f"enterprises      {args.enterprises:,}")
        print(f"feed rows        {rows:,} ({manifest['counts']['bad_rows']:,} planted bad)")
        print(f"seconds          {seconds:.1f}")
        print(f"CPU seconds      {cpu:.1f} (both processes; wall time depends on other load)")
        print(f"enterprises/s    {args.enterprises / seconds:,.0f}")
        print(f"rows/s           {rows / seconds:,.0f}")
        print(f"peak RSS         {own:,.0f} MiB (main), {children:,.0f} MiB (worker)")
        print(f"output size      {size / 2**20:,.1f} MiB")
        for feed in manifest["feeds"]:
            print(f"  {feed['path']:42s} {feed['rows']:>12,}")
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
