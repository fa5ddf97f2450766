"""The network of platforms: record versions shipped per second from the center to a city
platform, and the lag of a steady stream.

    .venv/bin/python bench/federation.py                      # 1,000 enterprises
    .venv/bin/python bench/federation.py --enterprises 20000  # the full size

Two nodes on SQLite, each its own data folder and database: the center (this process,
loaded with ``xyd synth`` and ``xyd ingest``) and a city platform served by ``xyd serve`` on
a loopback port. Measures: the first catch-up of every entitled record version (signed,
posted, applied once with provenance at the city, receipt checked and logged on both
ledgers), in messages of ``--batch`` versions; then a steady stream: ``--rows`` new
penalties stored at the center every ``--every`` seconds for ``--seconds`` seconds, each
tick followed by a sync, the lag being the time from the store to the city's receipt.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is first on the path, and ``bench/http.py`` would stand in
# for the standard library's ``http`` (which httpx imports): take the folder off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import httpx


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def variables(name: str, folder: Path) -> dict[str, str]:
    return {
        "XYD_DATA_DIR": str(folder),
        "XYD_DATABASE_URL": f"sqlite:///{folder / 'xyd.db'}",
        "XYD_NODE_NAME": name,
        "XYD_ENV": "test",
        "XYD_OUTBOUND_ALLOW_LOOPBACK": "true",
        "XYD_QUEUE_IMMEDIATE": "true",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500, help="record versions per message")
    parser.add_argument("--rows", type=int, default=20, help="new records per tick")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between ticks")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the stream")
    parser.add_argument("--port", type=int, default=18771)
    args = parser.parse_args()

    xyd = str(Path(sys.executable).with_name("xyd"))
    root = Path(tempfile.mkdtemp(prefix="xyd-bench-federation-"))
    center_dir, city_dir = root / "center", root / "city"
    center_env = variables("center.bench", center_dir)
    city_env = variables("city.bench", city_dir)
    os.environ.update(center_env)
    os.environ["XYD_FEDERATION_BATCH_RECORDS"] = str(args.batch)

    from sqlalchemy import select

    from xinyidai import bootstrap
    from xinyidai.core import clock
    from xinyidai.core import db as core_db
    from xinyidai.core.db import session_scope
    from xinyidai.core.settings import get_settings
    from xinyidai.federation import keys
    from xinyidai.federation.models import NodeRole
    from xinyidai.federation.schemas import NodeIn
    from xinyidai.federation.service import nodes, sync
    from xinyidai.ingest import service as ingest_service
    from xinyidai.jobs import load_all_tasks
    from xinyidai.registry.models import Enterprise

    load_all_tasks()
    for folder, env in ((center_dir, center_env), (city_dir, city_env)):
        folder.mkdir(parents=True)
        bootstrap.initialize(env["XYD_DATABASE_URL"])
    get_settings.cache_clear()
    core_db.reset_engines()
    center_key = keys.public_text(keys.create_key())
    city_key = keys.public_text(keys.create_key(path=city_dir / "federation" / "node.key"))

    started = time.perf_counter()
    run = {"env": {**os.environ, **center_env}, "check": True, "capture_output": True}
    subprocess.run(
        [xyd, "synth", "--enterprises", str(args.enterprises), "--out", str(root / "synth")], **run
    )  # type: ignore[call-overload]
    subprocess.run([xyd, "ingest", str(root / "synth"), "--no-rate"], **run)  # type: ignore[call-overload]
    print(f"center loaded: {args.enterprises} enterprises in {time.perf_counter() - started:.1f} s")

    url = f"http://127.0.0.1:{args.port}"
    log = (root / "city.log").open("ab")
    city = subprocess.Popen(
        [xyd, "serve", "--port", str(args.port)],
        env={**os.environ, **city_env},
        cwd=city_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with session_scope() as session:
            nodes.register(
                session,
                data=NodeIn(
                    name="city.bench",
                    role=NodeRole.CITY,
                    url=url,
                    public_key=city_key,
                    categories=["*", "tax_rating", "tax_payment", "social_insurance"],
                ),
                actor="bench",
            )
            codes = list(session.scalars(select(Enterprise.credit_code).limit(args.rows)))
        # the city registers the center (its own database, written here directly)
        os.environ.update(city_env)
        get_settings.cache_clear()
        core_db.reset_engines()
        with session_scope() as session:
            nodes.register(
                session,
                data=NodeIn(
                    name="center.bench",
                    role=NodeRole.CENTER,
                    url="http://127.0.0.1:9",
                    public_key=center_key,
                ),
                actor="bench",
            )
        os.environ.update(center_env)
        get_settings.cache_clear()
        core_db.reset_engines()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/api/v1/regions", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the city did not start") from None
                time.sleep(0.2)

        started = time.perf_counter()
        report = sync.sync_node("city.bench")
        took = time.perf_counter() - started
        assert report.failed is None, report.failed
        print(
            f"first catch-up: {report.items} record versions in {report.messages} messages, "
            f"{took:.1f} s, {report.items / took:.0f} versions/s"
        )

        lags: list[float] = []
        shipped = 0
        tick = 0
        end = time.monotonic() + args.seconds
        stream_started = time.perf_counter()
        while time.monotonic() < end:
            tick += 1
            began = time.monotonic()
            with session_scope() as session:
                ingest_service.push_rows(
                    session,
                    provider="credit",
                    category="admin_penalty",
                    rows=[
                        {
                            "credit_code": code,
                            "enterprise_name": "基准测试企业",
                            "decision_number": f"基准罚〔{tick}〕{i}号",
                            "decided_on": clock.today().isoformat(),
                            "penalty_type": "警告",
                            "fine_amount": "0.00",
                            "authority": "银川市市场监督管理局",
                            "region_code": "640104",
                            "violation": "基准测试",
                        }
                        for i, code in enumerate(codes)
                    ],
                    actor="bench",
                )
            stored = time.monotonic()
            report = sync.sync_node("city.bench")
            assert report.failed is None, report.failed
            lags.append(time.monotonic() - stored)
            shipped += report.items
            rest = args.every - (time.monotonic() - began)
            if rest > 0:
                time.sleep(rest)
        elapsed = time.perf_counter() - stream_started
        print(
            f"steady stream: {tick} ticks of {len(codes)} records every {args.every:g} s, "
            f"{shipped} versions shipped ({shipped / elapsed:.0f}/s); lag from store to "
            f"receipt: median {statistics.median(lags) * 1000:.0f} ms, "
            f"p95 {percentile(lags, 0.95) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )
    finally:
        city.terminate()
        city.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
