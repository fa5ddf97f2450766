"""Every domain's queue tasks, imported so that a process knows them all: the worker runs
them, and the app and the command line queue them by name (``core.queue``)."""

from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = (
    "xinyidai.consent.jobs",
    "xinyidai.graph.jobs",
    "xinyidai.ingest.jobs",
    "xinyidai.joint.service",  # no tasks yet: its ledger source (alignments) for verify
    "xinyidai.ledger.jobs",
    "xinyidai.market.jobs",
    "xinyidai.observability",
    "xinyidai.risk.jobs",
    "xinyidai.federation.jobs",
    "xinyidai.rights.jobs",
    "xinyidai.scoring.jobs",
    "xinyidai.sharing.jobs",
    "xinyidai.stats.jobs",
    "xinyidai.supervision.jobs",
)


def load_all_tasks() -> None:
    """Import every task module (once; importing again does nothing)."""
    for name in TASK_MODULES:
        importlib.import_module(name)
