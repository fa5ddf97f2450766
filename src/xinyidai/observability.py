"""What the operations team watches: the database's gauges for ``/metrics``, readiness for
``/readyz``, and the queue worker's heartbeat.

Gauges come from tables of several domains (jobs, the ledger, ingest, webhooks), so they
live here, on the top layer, rather than in ``core``. Each is one aggregate statement over
an indexed column; a scrape every 15 seconds costs the database a few milliseconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from huey import crontab
from huey.constants import EmptyData
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock, queue
from xinyidai.core.db import database_status
from xinyidai.core.errors import XydError
from xinyidai.core.jobs import Job, JobState
from xinyidai.core.metrics import read_from_database
from xinyidai.ingest.models import Batch as IngestBatch
from xinyidai.ledger import keys as ledger_keys
from xinyidai.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead
from xinyidai.market.models import WebhookDelivery

log = logging.getLogger(__name__)

# The worker's heartbeat: a periodic task writes the time into the queue's own storage, so
# a web process (any backend: Redis or the SQLite file) can tell a worker is running.
HEARTBEAT_KEY = "xyd:worker-heartbeat"
HEARTBEAT_STALE_SECONDS = 180.0


@read_from_database("jobs")
def _jobs(session: Session) -> Iterable[Metric]:
    by_state = GaugeMetricFamily("xyd_jobs", "Jobs by kind and state", labels=["kind", "state"])
    for kind, state, count in session.execute(
        select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)
    ):
        by_state.add_metric([kind, state], count)
    yield by_state
    durations = session.execute(
        select(Job.kind, Job.started_at, Job.finished_at).where(
            Job.state.in_((JobState.SUCCEEDED, JobState.FAILED)),
            Job.started_at.is_not(None),
            Job.finished_at.is_not(None),
        )
    )
    seconds: dict[str, list[float]] = {}
    for kind, started, finished in durations:
        taken = (clock.as_utc(finished) - clock.as_utc(started)).total_seconds()
        seconds.setdefault(kind, []).append(max(taken, 0.0))
    total = CounterMetricFamily(
        "xyd_job_duration_seconds", "Seconds finished jobs took, by kind", labels=["kind"]
    )
    count = CounterMetricFamily("xyd_jobs_finished", "Jobs finished, by kind", labels=["kind"])
    for kind, taken in sorted(seconds.items()):
        total.add_metric([kind], sum(taken))
        count.add_metric([kind], len(taken))
    yield total
    yield count
    yield GaugeMetricFamily(
        "xyd_queue_pending", "Tasks waiting in the queue", value=_pending_tasks()
    )


def _pending_tasks() -> float:
    try:
        return float(queue.huey.pending_count())
    except Exception:  # the queue's storage unreachable: readiness says so
        return float("nan")


@read_from_database("ledger")
def _ledger(session: Session) -> Iterable[Metric]:
    head = session.scalar(select(LedgerHead.size))
    yield GaugeMetricFamily(
        "xyd_ledger_size", "Leaves in the ledger's tree (its signed head)", value=head or 0
    )
    checkpoint = session.scalar(select(func.max(LedgerCheckpoint.size)))
    yield GaugeMetricFamily(
        "xyd_ledger_checkpoint_size", "Tree size of the latest checkpoint", value=checkpoint or 0
    )
    waiting, oldest = session.execute(
        select(func.count(), func.min(LedgerEntry.created_at)).where(LedgerEntry.idx.is_(None))
    ).one()
    yield GaugeMetricFamily(
        "xyd_ledger_unsequenced",
        "Entries appended but not yet given their place in the tree",
        value=waiting,
    )
    lag = (clock.now() - clock.as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "xyd_ledger_sequencer_lag_seconds",
        "Age of the oldest entry waiting for its place in the tree",
        value=max(lag, 0.0),
    )


@read_from_database("ingest")
def _ingest(session: Session) -> Iterable[Metric]:
    rows = CounterMetricFamily(
        "xyd_ingest_rows", "Rows of ingest batches, by result", labels=["result"]
    )
    accepted, updated, duplicates, rejected = session.execute(
        select(
            func.coalesce(func.sum(IngestBatch.accepted), 0),
            func.coalesce(func.sum(IngestBatch.updated), 0),
            func.coalesce(func.sum(IngestBatch.duplicates), 0),
            func.coalesce(func.sum(IngestBatch.rejected), 0),
        )
    ).one()
    for result, value in (
        ("accepted", accepted),
        ("updated", updated),
        ("duplicate", duplicates),
        ("rejected", rejected),
    ):
        rows.add_metric([result], value)
    yield rows
    batches = GaugeMetricFamily("xyd_ingest_batches", "Ingest batches by state", labels=["state"])
    for state, count in session.execute(
        select(IngestBatch.state, func.count()).group_by(IngestBatch.state)
    ):
        batches.add_metric([state], count)
    yield batches


@read_from_database("webhooks")
def _webhooks(session: Session) -> Iterable[Metric]:
    deliveries = GaugeMetricFamily(
        "xyd_webhook_deliveries",
        "Webhook deliveries by event type and state",
        labels=["event_type", "state"],
    )
    for event_type, state, count in session.execute(
        select(WebhookDelivery.event_type, WebhookDelivery.state, func.count()).group_by(
            WebhookDelivery.event_type, WebhookDelivery.state
        )
    ):
        deliveries.add_metric([event_type, state], count)
    yield deliveries


# --------------------------------------------------------------------------- heartbeat


@queue.huey.periodic_task(crontab(minute="*"), name="ops.heartbeat")
def heartbeat() -> None:
    """Every minute, the worker says it is alive (its scheduler and a worker thread both)."""
    beat()


def beat() -> None:
    queue.huey.storage.put_data(HEARTBEAT_KEY, repr(time.time()).encode())


def last_beat() -> float | None:
    """Seconds since a queue worker last said it was alive; ``None`` if none ever did."""
    raw = queue.huey.storage.peek_data(HEARTBEAT_KEY)
    if raw is None or raw is EmptyData:
        return None
    try:
        return max(time.time() - float(raw.decode() if isinstance(raw, bytes) else raw), 0.0)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- readiness


def readiness() -> tuple[bool, dict[str, Any]]:
    """Whether this node can do its work, check by check: the database answers, the queue
    answers, a worker beat within three minutes, the ledger's signing key is there."""
    checks: dict[str, Any] = {"database": database_status()}
    try:
        queue.huey.pending_count()
        checks["queue"] = {"status": "ok", "backend": queue.backend_name()}
    except Exception as exc:
        checks["queue"] = {"status": "error", "backend": queue.backend_name(), "error": str(exc)}
    if checks["queue"]["status"] == "ok":
        age = last_beat()
        if age is None:
            checks["worker"] = {"status": "error", "error": "no queue worker has been seen"}
        elif age > HEARTBEAT_STALE_SECONDS:
            checks["worker"] = {
                "status": "error",
                "error": f"the queue worker was last seen {age:.0f} s ago",
                "seconds_since": round(age),
            }
        else:
            checks["worker"] = {"status": "ok", "seconds_since": round(age)}
    else:
        checks["worker"] = {"status": "error", "error": "the queue cannot be reached"}
    try:
        ledger_keys.load_key()
        checks["ledger_key"] = {"status": "ok"}
    except XydError as exc:
        checks["ledger_key"] = {"status": "error", "error": exc.translated("en")}
    except (OSError, ValueError) as exc:  # unreadable, or not a key
        checks["ledger_key"] = {"status": "error", "error": f"the ledger key is unusable: {exc}"}
    ready = all(check["status"] == "ok" for check in checks.values())
    return ready, checks
