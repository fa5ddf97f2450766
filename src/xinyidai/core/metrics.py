"""Prometheus metrics: counters a process keeps, and gauges read from the database.

Two kinds of figure, because a node runs several processes (web workers, queue workers):

- **Counted where it happens** (``Counter`` and ``Histogram`` of ``prometheus_client``):
  requests by route and status (the instrumentator in ``app``), access decisions by
  outcome. With several web processes, ``xyd serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at
  a folder of the data directory and each process writes its figures there; a scrape adds
  them up (``prometheus_client``'s multiprocess mode).
- **Read from the database at scrape time** (``read_from_database``): what the database
  already knows for every process alike, such as jobs by kind and state, ledger size and
  sequencer lag, ingest rows accepted and rejected, webhook deliveries by state. A domain
  (or the top layer, for tables of several domains) registers a reader; a scrape runs them
  all in one short read-only session.

``exposition()`` renders everything in Prometheus' text format; ``app`` serves it at
``/metrics`` to whoever presents ``XYD_WEB_METRICS_TOKEN``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

ACCESS_DECISIONS = Counter(
    "xyd_access_decisions",
    "Access decisions taken (consent.decide), by outcome and channel",
    ["outcome", "channel"],
)

Reader = Callable[[Session], Iterable[Metric]]


@dataclass(frozen=True)
class _Registered:
    name: str
    read: Reader


_readers: dict[str, _Registered] = {}


def read_from_database(name: str) -> Callable[[Reader], Reader]:
    """Register ``read(session)`` to yield metric families at every scrape (by ``name``:
    registering the same name again replaces the reader, so re-importing is harmless)."""

    def register(read: Reader) -> Reader:
        _readers[name] = _Registered(name, read)
        return read

    return register


class _DatabaseCollector(Collector):
    """Runs the registered readers in one session; a reader that fails is logged and left
    out of this scrape (the others still answer), and ``xyd_metrics_reader_up`` says so."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(
            "xyd_metrics_reader_up",
            "Whether a database reader of the metrics answered this scrape (1) or failed (0)",
            labels=["reader"],
        )
        with self.sessions() as session:
            for reader in sorted(_readers.values(), key=lambda r: r.name):
                try:
                    families = list(reader.read(session))
                except Exception:  # a broken reader must not take the scrape down
                    log.exception("metrics reader %s failed", reader.name)
                    session.rollback()
                    up.add_metric([reader.name], 0)
                    continue
                up.add_metric([reader.name], 1)
                yield from families
        yield up

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: nothing to check when registered


def exposition(
    sessions: Callable[[], Session], registries: Sequence[CollectorRegistry] = ()
) -> tuple[bytes, str]:
    """Every metric in Prometheus' text format, and its content type: this process's
    counters (the default registry and ``registries``, an app's own), or every process's
    in multiprocess mode, and the database's gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for source in (REGISTRY, *registries):
            registry.register(_Forward(source))
    registry.register(_DatabaseCollector(sessions))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward(Collector):
    """What another registry holds, collected when this one is."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()

    def describe(self) -> list[Metric]:
        return []
