"""``generate``: write a synthetic region's feeds, manifest and truth files to a folder.

The feeds are split in two lanes of about equal work. Each lane walks the blocks of
enterprises, rebuilds each block from the seed and appends its feeds' rows, so memory
holds one block at a time. Large runs give the second lane its own process; the files
are the same either way because every draw is keyed by (seed, purpose, block).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import queue
import shutil
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from xinyidai.synth import fraud
from xinyidai.synth.enterprises import (
    AS_OF,
    BLOCK,
    KIND_DIGITS,
    blocks_of,
    build_block,
    check_size,
    geography,
)
from xinyidai.synth.faults import FaultState, plant
from xinyidai.synth.feeds import FEEDS, FeedSpec
from xinyidai.synth.loans import BOOK, OUTCOMES, LoanBook
from xinyidai.synth.randomness import stream
from xinyidai.synth.truth import CIRCLE_HEADERS, circle_rows
from xinyidai.synth.writers import open_writer

Progress = Callable[[int, int], None]
PARALLEL_FROM = 50_000  # below this a second process costs more than it saves
MANIFEST_VERSION = 1
LANES = (0, 1)
GUARANTEE = "guarantee"


def _feeds_of(lane: int) -> list[FeedSpec]:
    return [spec for spec in FEEDS if spec.lane == lane]


def _truth_part(out_dir: Path, spec: FeedSpec) -> Path:
    """Where a lane keeps one feed's bad rows until ``_finish`` joins them in feed order."""
    return out_dir / "truth" / f".bad_rows.{spec.provider}.{spec.category}.part"


def _run_lane(
    out_dir: Path, enterprises: int, seed: int, lane: int, tick: Callable[[], None]
) -> dict[str, Any]:
    """Write one lane's feeds, their bad rows and, in lane 0, the defaults; return counts."""
    specs = _feeds_of(lane)
    states = [FaultState() for _ in specs]
    bad = dict.fromkeys((spec.path for spec in specs), 0)
    kinds = dict.fromkeys(KIND_DIGITS.values(), 0)
    defaulted = application_count = fraudulent = 0
    with ExitStack() as stack:
        writers = []
        for spec in specs:
            writers.append(open_writer(spec, out_dir))
            stack.callback(writers[-1].close)
        parts = [
            csv.writer(
                stack.enter_context(
                    _truth_part(out_dir, spec).open("w", encoding="utf-8", newline="")
                ),
                lineterminator="\n",
            )
            for spec in specs
        ]
        circles = None
        if any(spec.category == GUARANTEE for spec in specs):
            handle = stack.enter_context(
                (out_dir / "truth" / "guarantee_circles.csv").open(
                    "w", encoding="utf-8", newline=""
                )
            )
            circles = csv.writer(handle, lineterminator="\n")
            circles.writerow(CIRCLE_HEADERS)
        circle_count = 0
        defaults = None
        fraud_out = None
        if lane == 0:
            handle = stack.enter_context(
                (out_dir / "truth" / "defaults.csv").open("w", encoding="utf-8", newline="")
            )
            defaults = csv.writer(handle, lineterminator="\n")
            defaults.writerow(["credit_code", "defaulted"])
            fraud_out = _fraud_writers(out_dir, stack)
        book = stack.enter_context(LoanBook(out_dir, seed)) if lane == 0 else None
        for number, start, stop in blocks_of(enterprises):
            block = build_block(seed, number, start, stop)
            for spec, writer, state, part in zip(specs, writers, states, parts, strict=True):
                built = spec.build(block, seed, spec.date_style)
                rng = stream(seed, "faults", spec.category, number)
                columns, planted = plant(spec, built, rng, state)
                if circles is not None and spec.category == GUARANTEE:
                    found = circle_rows(block, built, columns, planted, circle_count + 1)
                    circles.writerows(found)
                    circle_count += len(found)
                located = writer.append(columns, planted)
                part.writerows(located)
                bad[spec.path] += len(located)
            if defaults is not None:
                defaults.writerows(
                    zip(block.credit_code, block.defaulted.astype(int).tolist(), strict=True)
                )
                defaulted += int(block.defaulted.sum())
            if fraud_out is not None:
                applications, changes, truth = fraud.plant(block, seed)
                for writer, rows in zip(fraud_out, (applications, changes, truth), strict=True):
                    writer.writerows(rows)
                application_count += len(applications)
                fraudulent += sum(int(row[1]) for row in truth)
                for digit, kind in KIND_DIGITS.items():
                    kinds[kind] += int((block.kind == digit).sum())
            if book is not None:
                book.add(block)
            tick()
    return {
        "rows": {spec.path: writer.rows for spec, writer in zip(specs, writers, strict=True)},
        "bad": bad,
        "kinds": kinds,
        "defaulted": defaulted,
        "guarantee_circles": circle_count,
        "applications": application_count,
        "fraudulent": fraudulent,
        "loans": (book.loans, book.bad) if book is not None else None,
    }


def _fraud_writers(out_dir: Path, stack: ExitStack) -> list[Any]:
    """Writers of the platform's applications, the registration changes and the fraud
    truth (``synth.fraud``), headers written."""
    (out_dir / "platform").mkdir(parents=True, exist_ok=True)
    writers = []
    for path, headers in (
        ("platform/applications.csv", fraud.APPLICATION_HEADERS),
        ("platform/registration_changes.csv", fraud.CHANGE_HEADERS),
        ("truth/fraud.csv", fraud.TRUTH_HEADERS),
    ):
        handle = stack.enter_context((out_dir / path).open("w", encoding="utf-8", newline=""))
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        writers.append(writer)
    return writers


def _lane_process(out_dir: str, enterprises: int, seed: int, lane: int, channel: Any) -> None:
    try:
        result = _run_lane(
            Path(out_dir), enterprises, seed, lane, lambda: channel.put(("tick", lane))
        )
        channel.put(("done", result))
    except BaseException:  # report anything to the parent, which raises it
        channel.put(("error", traceback.format_exc()))


def _workers(enterprises: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, min(workers, len(LANES)))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if enterprises >= PARALLEL_FROM and (cpus or 1) >= 2 else 1


def generate(
    out_dir: Path,
    *,
    enterprises: int,
    seed: int,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write feeds, truth and manifest for ``enterprises`` subjects; return the manifest."""
    check_size(enterprises, minimum=1)
    out_dir = Path(out_dir)
    geography()  # fail early when the region or industry codes are missing
    for stale in ("feeds", "truth", "platform", "loans"):
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    total_ticks = len(blocks_of(enterprises)) * len(LANES)
    done = 0

    def tick(steps: int = 1) -> None:
        nonlocal done
        done += steps
        if progress is not None:
            progress(min(enterprises, done * enterprises // total_ticks), enterprises)

    results: dict[int, dict[str, Any]] = {}
    if _workers(enterprises, workers) == 1:
        for lane in LANES:
            results[lane] = _run_lane(out_dir, enterprises, seed, lane, tick)
    else:
        context = multiprocessing.get_context("spawn")
        channel = context.Queue()
        helper = context.Process(
            target=_lane_process, args=(str(out_dir), enterprises, seed, 1, channel), daemon=True
        )
        helper.start()
        try:

            def drain(wait: bool) -> None:
                while 1 not in results:
                    try:
                        message, payload = channel.get(timeout=1.0 if wait else 0)
                    except queue.Empty:
                        if not wait:
                            return
                        if not helper.is_alive() and channel.empty():
                            raise RuntimeError("synth worker process died") from None
                        continue
                    if message == "tick":
                        tick()
                    elif message == "done":
                        results[1] = payload
                    else:
                        raise RuntimeError(f"synth worker failed:\n{payload}")

            def lane0_tick() -> None:
                tick()
                drain(wait=False)

            results[0] = _run_lane(out_dir, enterprises, seed, 0, lane0_tick)
            drain(wait=True)
        finally:
            helper.join(timeout=30)
            if helper.is_alive():
                helper.terminate()
    return _finish(out_dir, enterprises, seed, results)


def _finish(
    out_dir: Path, enterprises: int, seed: int, results: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    rows: dict[str, int] = {}
    bad = 0
    for result in results.values():
        rows.update(result["rows"])
        bad += sum(result["bad"].values())
    with (out_dir / "truth" / "bad_rows.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            ["path", "line", "index", "column", "reason"]
        )
        for spec in FEEDS:
            part = _truth_part(out_dir, spec)
            with part.open(encoding="utf-8", newline="") as source:
                shutil.copyfileobj(source, handle, 1 << 20)
            part.unlink()
    geo = geography()
    manifest: dict[str, Any] = {
        "generator": "xyd synth",
        "version": MANIFEST_VERSION,
        "region": {"code": geo.province_code, "name": geo.province_name},
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "block_size": BLOCK,
        "counts": {
            "enterprises": enterprises,
            "by_kind": results[0]["kinds"],
            "feed_rows": sum(rows.values()),
            "bad_rows": bad,
            "defaulted": results[0]["defaulted"],
            "guarantee_circles": sum(r["guarantee_circles"] for r in results.values()),
            "applications": results[0]["applications"],
            "fraudulent": results[0]["fraudulent"],
            "loans": results[0]["loans"][0],
            "loans_bad": results[0]["loans"][1],
        },
        "loan_book": BOOK,
        "feeds": [
            {
                "path": spec.path,
                "provider": spec.provider,
                "category": spec.category,
                "format": spec.format,
                "encoding": spec.encoding if spec.format == "csv" else "utf-8",
                "department": spec.department,
                "title": spec.title,
                "rows": rows[spec.path],
            }
            for spec in FEEDS
        ],
        "truth": {
            "bad_rows": "truth/bad_rows.csv",
            "defaults": "truth/defaults.csv",
            "guarantee_circles": "truth/guarantee_circles.csv",
            "fraud": "truth/fraud.csv",
            "loan_outcomes": OUTCOMES,
        },
        "platform": {
            "applications": "platform/applications.csv",
            "registration_changes": "platform/registration_changes.csv",
        },
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest
