"""Joint modelling's alignment: the private set intersection at the size of the issue.

    .venv/bin/python bench/joint.py [--customers 5000] [--enterprises 5000] [--overlap 0.8]
    .venv/bin/python bench/joint.py --full      # 25,000 and 25,000, 20,000 in common

Both parties' steps of ``xinyidai.joint.psi`` run in this one process, one after the other
(each party is single-threaded in the service too): the institution blinds its customers,
the center answers them and blinds its enterprises, the institution raises the center's
points and matches. Printed: each step's time and rate, the bytes the two HTTP round trips
carry (points as base64 in JSON, the positions back), the rounds, and a check that the
intersection found is the one planted.

``--costs`` adds what decides how vertical training can be done: the time of one
centralized logistic regression on 20,000 rows and 30 features (scikit-learn, balanced
class weights, on Gaussian features; not the region) and so the 20-times budget, next to
the cost of one Paillier encryption's modular exponentiation with a 2,048-bit key
(Python's ``pow``; gmpy2 is faster by about ten times) and of one round that encrypts every
row once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the standard library's http for this script's imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))


def say(message: str) -> None:
    print(message, flush=True)


def codes(start: int, count: int) -> list[str]:
    from xinyidai.registry import creditcode

    return [creditcode.make(f"9145{i:013d}") for i in range(start, start + count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--enterprises", type=int, default=5_000)
    parser.add_argument("--overlap", type=float, default=0.8)
    parser.add_argument("--full", action="store_true", help="25,000 each, 20,000 in common")
    parser.add_argument("--costs", action="store_true", help="the training budget and Paillier")
    args = parser.parse_args()
    if args.full:
        args.customers, args.enterprises, args.overlap = 25_000, 25_000, 0.8

    from xinyidai.joint import psi
    from xinyidai.joint.service import encode_points

    common = int(min(args.customers, args.enterprises) * args.overlap)
    center = codes(0, args.enterprises)
    institution = center[:common] + codes(10_000_000, args.customers - common)
    say(
        f"institution {len(institution):,} customers, center {len(center):,} enterprises "
        f"with letters, {common:,} in common"
    )

    a, c = psi.new_secret(), psi.new_secret()
    started = time.perf_counter()
    sent = psi.shuffled(institution)
    request = psi.blind_identifiers(a, sent)
    t1 = time.perf_counter()
    answer = psi.blind_points(c, request)
    order = psi.shuffled(center)
    offered = psi.blind_identifiers(c, order)
    t2 = time.perf_counter()
    matches = psi.intersect(a, sent, answer, offered)
    t3 = time.perf_counter()
    found = sorted(m.identifier for m in matches)
    assert found == sorted(center[:common]), "the intersection is not the one planted"
    assert [order[m.position] for m in matches] == [m.identifier for m in matches]

    up = len(json.dumps({"points": encode_points(request)}))
    down = len(
        json.dumps({"answer": encode_points(answer), "center_points": encode_points(offered)})
    )
    back = len(json.dumps({"positions": [m.position for m in matches]}))

    def line(label: str, count: int, seconds: float) -> None:
        say(f"  {label:<44} {seconds:7.2f} s  {count / seconds:8,.0f} points/s")

    line("institution: hash and blind its customers", len(sent), t1 - started)
    line("center: answer them, hash and blind its own", len(request) + len(order), t2 - t1)
    line("institution: raise the center's points, match", len(offered), t3 - t2)
    say(f"  {'total':<44} {t3 - started:7.2f} s")
    say(f"intersection {len(matches):,}; 2 HTTP round trips (offer, matches)")
    say(
        f"bytes: {up:,} up, {down:,} down, {back:,} positions back; "
        f"{up + down + back:,} in all ({(up + down + back) / 1e6:.1f} MB)"
    )
    if args.costs:
        costs(rows=20_000, features=30)


def costs(*, rows: int, features: int) -> None:
    import secrets

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(20261207)
    x = rng.normal(size=(rows, features))
    y = (x @ rng.normal(size=features) + rng.logistic(size=rows) > 2).astype(int)
    started = time.perf_counter()
    LogisticRegression(max_iter=1000, class_weight="balanced").fit(x, y)
    fit = time.perf_counter() - started
    n = secrets.randbits(2048) | (1 << 2047) | 1
    square = n * n
    started = time.perf_counter()
    tries = 20
    for _ in range(tries):
        pow(secrets.randbelow(n), n, square)
    one = (time.perf_counter() - started) / tries
    say(f"centralized fit, {rows:,} x {features}: {fit:.2f} s; 20 times: {20 * fit:.1f} s")
    say(
        f"Paillier (2,048 bits) r^n mod n^2: {one * 1e3:.1f} ms; one round encrypting every "
        f"row: {rows * one:.0f} s ({rows * one / (20 * fit):.0f} times the whole budget)"
    )


if __name__ == "__main__":
    main()
