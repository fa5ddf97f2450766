"""Every domain's queue tasks, imported so that a worker knows them all."""

from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = (
    "xinyidai.consent.jobs",
    "xinyidai.graph.jobs",
    "xinyidai.ingest.jobs",
    "xinyidai.ledger.jobs",
    "xinyidai.market.jobs",
    "xinyidai.scoring.jobs",
)


def load_all_tasks() -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)
