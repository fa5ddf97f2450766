"""Writes ``loans.csv``, the toolkit's test table with a known answer (run it to rebuild).

1,500 loans from a fixed seed. The bad outcome (1) rises with ``late_payments`` and falls
with ``income``; ``region`` "west" is riskier than the others; ``noise`` carries nothing;
``branch_code`` is constant and ``collateral_value`` always empty. ``income`` is missing in
about 5% of rows and ``region`` in a few.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ROWS = 1500
SEED = 20261123


def main() -> None:
    rng = np.random.default_rng(SEED)
    late = rng.poisson(0.8, ROWS).clip(0, 6)
    income = np.round(rng.lognormal(np.log(6000), 0.5, ROWS), -1)
    region = rng.choice(["north", "south", "east", "west"], ROWS, p=[0.3, 0.3, 0.25, 0.15])
    noise = np.round(rng.normal(0, 1, ROWS), 3)
    logit = -2.6 + 0.75 * late - 1.2 * np.log(income / 6000) + 0.9 * (region == "west")
    bad = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    income_missing = rng.random(ROWS) < 0.05
    region_missing = rng.random(ROWS) < 0.02
    path = Path(__file__).with_name("loans.csv")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "loan_id",
                "late_payments",
                "income",
                "region",
                "noise",
                "branch_code",
                "collateral_value",
                "bad",
            ]
        )
        for i in range(ROWS):
            writer.writerow(
                [
                    f"L{i + 1:05d}",
                    int(late[i]),
                    "" if income_missing[i] else f"{income[i]:.0f}",
                    "" if region_missing[i] else region[i],
                    f"{noise[i]:.3f}",
                    "B01",
                    "",
                    int(bad[i]),
                ]
            )


if __name__ == "__main__":
    main()
