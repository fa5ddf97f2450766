"""The real server over HTTP under many concurrent clients: throughput, latency, statuses.

    .venv/bin/python bench/http.py --database postgres        # a scratch PostgreSQL database
    .venv/bin/python bench/http.py --database sqlite          # the embedded default
    .venv/bin/python bench/http.py --levels 1,10,50 --seconds 10 --scenarios report_one

Sets up a demo region (``xyd demo``'s set-up) in a scratch database and data folder, has
``--letters`` enterprises grant the demo bank a letter and ``--applicants`` enterprises get an
account, then starts ``xyd serve`` (``--workers`` processes) and drives it from this process
with ``asyncio`` clients on loopback, each client sending its next request as soon as the
last one answers, for ``--seconds`` at each level of concurrency. Scenarios:

- ``report_one``: the bank reads one enterprise's credit report, always on one letter;
- ``report_many``: the bank reads reports of many enterprises, each on its own letter;
- ``profile``: the bank reads panoramic profiles (JSON) under those letters;
- ``products``: the public product supermarket, first page;
- ``apply``: enterprises apply to the product with automatic rules (a letter granted, the
  rating read, the decision taken and recorded), each enterprise once per product.

For each scenario and level it prints requests/s, p50/p95/p99 latency, and the count of each
status (``timeout`` for a client that gave up after ``--timeout`` seconds, ``error`` for a
refused or broken connection). The client shares the machine with the server: on a 2-core
machine it takes a share of the CPU, as a real load balancer would not.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is first on the path, and this file would stand in for the
# standard library's ``http`` (which httpx and uvicorn import): take the folder off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import dataclasses
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

SCENARIOS = ("report_one", "report_many", "profile", "products", "apply")


@dataclasses.dataclass
class World:
    """What the scenarios need: tokens and ids made at set-up."""

    bank_token: str
    demo_code: str
    lettered: list[str]
    applicant_tokens: list[str]
    auto_product: str


@dataclasses.dataclass
class Result:
    scenario: str
    clients: int
    seconds: float
    latencies: list[float]
    statuses: Counter[str]

    def row(self) -> str:
        done = len(self.latencies)
        ordered = sorted(self.latencies) or [0.0]

        def pct(share: float) -> float:
            return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

        statuses = ", ".join(f"{k} × {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"| {self.scenario} | {self.clients} | {done / self.seconds:,.1f} | "
            f"{pct(0.50):,.0f} ms | {pct(0.95):,.0f} ms | {pct(0.99):,.0f} ms | {statuses} |"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def set_up(args: argparse.Namespace) -> World:
    """The demo region, letters to the bank, applicant accounts, and their tokens."""
    from sqlalchemy import select

    from xinyidai import demo
    from xinyidai.consent import service as consent
    from xinyidai.consent.schemas import LetterIn
    from xinyidai.core import clock
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service
    from xinyidai.market.models import Product
    from xinyidai.market.service import demo as market_demo
    from xinyidai.registry import service as registry_service

    started = time.perf_counter()
    result = demo.run(enterprises=args.enterprises, seed=args.seed, report=lambda _m: None)
    print(
        f"demo set up: {result.enterprises:,} enterprises in {time.perf_counter() - started:.0f} s"
    )
    with session_scope() as session:
        codes: list[str] = []
        page = 1
        while True:  # the registry's search pages by at most 200
            subjects, total = registry_service.search(session, page=page, size=200)
            codes += [s.credit_code for s in subjects if s.credit_code != result.enterprise_code]
            if not subjects or page * 200 >= total:
                break
            page += 1
        if len(codes) < args.letters + args.applicants:
            raise SystemExit(
                f"--letters {args.letters} and --applicants {args.applicants} need more than "
                f"the region's {len(codes):,} enterprises besides the demo one"
            )
        bank = iam_service.get_user_or_raise(session, username="bank")
        bank_principal = iam_service.principal_for_user(bank)
        enterprise = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="enterprise")
        )
        version = consent.latest_text_or_raise(session).version
        lettered = codes[: args.letters]
        for code in lettered:
            granting = dataclasses.replace(enterprise, credit_code=code)
            if not consent.has_signed(session, credit_code=code):
                consent.sign(session, principal=granting, version=version)
            consent.grant(
                session,
                principal=granting,
                data=LetterIn(
                    grantee_id=bank_principal.organization_public_id,
                    categories=["tax_payment", "social_insurance", "tax_rating"],
                    purpose="loan_application",
                    valid_until=clock.now() + timedelta(days=90),
                    fetch_mode="on_demand",
                ),
            )
        bank_token = iam_service.issue_tokens(session, user=bank).access_token
        applicants = codes[args.letters : args.letters + args.applicants]
        tokens = []
        for number, code in enumerate(applicants, start=1000):
            principal = market_demo._enterprise(session, number, code)
            user = iam_service.get_user_or_raise(session, username=principal.username or "")
            tokens.append(iam_service.issue_tokens(session, user=user).access_token)
        auto = session.scalar(select(Product.public_id).where(Product.name == "信易贷·纯信用快贷"))
    return World(
        bank_token=bank_token,
        demo_code=result.enterprise_code,
        lettered=lettered,
        applicant_tokens=tokens,
        auto_product=auto or "",
    )


Request = tuple[str, str, dict[str, str], dict[str, Any] | None]


def requests_of(scenario: str, world: World) -> Iterator[Request]:
    """The endless (or, for ``apply``, finite) stream of requests of one scenario."""
    bank = {"Authorization": f"Bearer {world.bank_token}"}
    if scenario == "report_one":
        while True:
            yield "GET", f"/api/v1/enterprises/{world.lettered[0]}/report", bank, None
    elif scenario == "report_many":
        for code in itertools.cycle(world.lettered):
            yield "GET", f"/api/v1/enterprises/{code}/report", bank, None
    elif scenario == "profile":
        for code in itertools.cycle(world.lettered):
            yield "GET", f"/api/v1/enterprises/{code}/profile", bank, None
    elif scenario == "products":
        while True:
            yield "GET", "/api/v1/products?page=1&size=20", {}, None
    elif scenario == "apply":
        for token in world.applicant_tokens:
            body = {
                "product_id": world.auto_product,
                "amount": "200000",
                "term_months": 12,
                "repayment_method": "equal_instalment",
                "purpose": "补充流动资金",
                "authorize": True,
            }
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            yield "POST", "/api/v1/applications", headers, body
    else:
        raise SystemExit(f"unknown scenario {scenario}")


async def drive(
    base: str, stream: Iterator[Request], *, clients: int, seconds: float, timeout: float
) -> tuple[list[float], Counter[str], float]:
    """``clients`` loops sending the stream's requests for ``seconds``; latencies, statuses."""
    import httpx

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:

        async def loop() -> None:
            while time.perf_counter() < deadline:
                try:
                    method, path, headers, body = next(stream)
                except StopIteration:
                    return
                started = time.perf_counter()
                try:
                    answer = await client.request(method, path, headers=headers, json=body)
                    statuses[str(answer.status_code)] += 1
                    latencies.append(time.perf_counter() - started)
                except httpx.TimeoutException:
                    statuses["timeout"] += 1
                except httpx.TransportError:
                    statuses["error"] += 1

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return latencies, statuses, elapsed


def start_server(
    args: argparse.Namespace, env: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    xyd = Path(sys.executable).parent / "xyd"
    log = open(Path(env["XYD_DATA_DIR"]) / "serve.log", "wb")  # noqa: SIM115 - lives with the server
    command = [str(xyd), "serve", "--port", str(port), "--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server did not start: see serve.log")


def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    world = set_up(args)
    from xinyidai.core.db import get_engine

    get_engine().dispose()
    port = free_port()
    server = start_server(args, env, port)
    base = f"http://127.0.0.1:{port}"
    levels = [int(v) for v in args.levels.split(",")]
    scenarios: list[str] = args.scenarios.split(",")
    print(
        f"\nserver: {args.workers} process(es), {args.database}; {args.seconds:.0f} s per level; "
        f"load average before: {os.getloadavg()[0]:.2f}\n"
    )
    print("| scenario | clients | requests/s | p50 | p95 | p99 | statuses |")
    print("|---|---|---|---|---|---|---|")
    try:
        for scenario in scenarios:
            stream = requests_of(scenario, world)
            for clients in levels:
                latencies, statuses, elapsed = asyncio.run(
                    drive(base, stream, clients=clients, seconds=args.seconds, timeout=args.timeout)
                )
                print(Result(scenario, clients, elapsed, latencies, statuses).row(), flush=True)
                time.sleep(args.pause)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--letters", type=int, default=300, help="enterprises with a letter")
    parser.add_argument("--applicants", type=int, default=600, help="enterprises that apply")
    parser.add_argument("--levels", default="1,10,50,100,200")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between levels")
    parser.add_argument("--timeout", type=float, default=60.0, help="client time-out")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-http-"))
    # The server's capacity is measured, not the API's rate limit per credential.
    env = dict(
        os.environ,
        XYD_DATA_DIR=str(workdir),
        XYD_ENV="dev",
        XYD_WEB_API_RATE_LIMIT="",
        XYD_WEB_API_RATE_LIMIT_ANONYMOUS="",
    )
    admin: Callable[[str], None] | None = None
    if args.database == "postgres":
        from sqlalchemy import create_engine, text

        from xinyidai.core.settings import normalize_database_url

        admin_url = normalize_database_url(args.postgres)
        name = f"xyd_bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")

        def admin(statement: str) -> None:
            with engine.connect() as conn:
                conn.execute(text(statement))

        admin(f'CREATE DATABASE "{name}"')
        env["XYD_DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ.update(env)
    try:
        run(args, env)
    finally:
        if admin is not None:
            from xinyidai.core.db import get_engine

            get_engine().dispose()
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
