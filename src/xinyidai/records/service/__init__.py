"""Business logic of the records: store facts with dedup and versions, read them back.

Every function takes the caller's session and only adds and flushes; the caller commits.
Callers use this package (``from xinyidai.records import service``); the modules behind it:
``identity`` (a fact's canonical text and record id), ``writes`` (``store``: dedup, versions,
conflicts flagged, ledger leaves appended), ``listeners`` (who hears of stored facts),
``reads`` (current records, history, bulk current data, change marks), ``frames`` (current
records in bulk as polars frames), ``conflicts`` (the operator's list of conflicts),
``verification`` (yes/no questions about a subject's records), ``leaves`` (record versions
in the ledger: commitments, bodies, proofs), ``partitioning`` (``credit_record``'s
partitions on PostgreSQL).
"""

from __future__ import annotations

from xinyidai.records.service.conflicts import (
    conflict_counts,
    conflicts_by,
    conflicts_statement,
    resolve_conflict,
)
from xinyidai.records.service.feeds import FeedEntry, feed_after, feed_names, register_feed
from xinyidai.records.service.frames import category_frames
from xinyidai.records.service.identity import canonical, data_digest, record_id, record_ids
from xinyidai.records.service.leaves import (
    LEDGER_KIND,
    current_versions,
    leaf_digest,
    ledger_actor,
    ledger_party,
    ledger_proofs,
    shown_commitment,
)
from xinyidai.records.service.listeners import (
    StoredListener,
    listener_modules,
    listeners_paused,
    off_stored,
    on_stored,
)
from xinyidai.records.service.marks import (
    RATING_CATEGORY,
    active_marks,
    add_note,
    clear_marks,
    notes_of,
    pin_mark,
    rating_mark_id,
    rating_marks,
    repaired_ids,
)
from xinyidai.records.service.partitioning import (
    DEFAULT_PARTITION,
    PARTITION_PREFIX,
    Partition,
    add_partition,
    partitions,
)
from xinyidai.records.service.reads import (
    BULK_ROWS,
    changed_after,
    changed_subjects,
    counts_by_category,
    current_data,
    expired,
    get_or_raise,
    last_change_id,
    orphan_versions,
    pending_after,
    records_of,
    versions_of,
)
from xinyidai.records.service.verification import VERIFY_OPS, verify
from xinyidai.records.service.writes import CHANGE_SEQUENCE, store

__all__ = [
    "BULK_ROWS",
    "CHANGE_SEQUENCE",
    "DEFAULT_PARTITION",
    "LEDGER_KIND",
    "PARTITION_PREFIX",
    "RATING_CATEGORY",
    "VERIFY_OPS",
    "FeedEntry",
    "Partition",
    "StoredListener",
    "active_marks",
    "add_note",
    "add_partition",
    "canonical",
    "category_frames",
    "changed_after",
    "changed_subjects",
    "clear_marks",
    "conflict_counts",
    "conflicts_by",
    "conflicts_statement",
    "counts_by_category",
    "current_data",
    "current_versions",
    "data_digest",
    "expired",
    "feed_after",
    "feed_names",
    "get_or_raise",
    "last_change_id",
    "leaf_digest",
    "ledger_actor",
    "ledger_party",
    "ledger_proofs",
    "listener_modules",
    "listeners_paused",
    "notes_of",
    "off_stored",
    "on_stored",
    "orphan_versions",
    "partitions",
    "pending_after",
    "pin_mark",
    "rating_mark_id",
    "rating_marks",
    "record_id",
    "record_ids",
    "records_of",
    "register_feed",
    "repaired_ids",
    "resolve_conflict",
    "shown_commitment",
    "store",
    "verify",
    "versions_of",
]
