"""The ledger: append events, sequence them into the tree, publish checkpoints, prove, verify.

Appends are cheap and concurrent: ``append`` inserts a pending entry (no index) in the
caller's transaction. The sequencer (``integrate``) takes the head row lock, gives
pending entries the next indexes in id order, stores the tree nodes they complete and
moves the head; ``refresh`` does that and signs a checkpoint at most every
``XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS``. See docs/ledger.md for why.

Callers use this package (``from xinyidai.ledger import service``); the modules behind it:
``leaves`` (canonical JSON, digests, the bytes of a leaf of each format), ``sealing``
(format-2 commitments, salts, party keys and tags), ``appending`` (``append``,
``append_many``, ``append_digests``), ``sequencing`` (the head and its lock, stored nodes,
``integrate``), ``checkpoints`` (signing, ``refresh``, notes with cosignatures),
``witnesses`` (registering witnesses, keeping their cosignatures), ``proofs`` (entries by
index, inclusion and consistency proofs, lookups by digest), ``finders`` (the leaf of a
stored event, a page of digests' indexes, a party's leaves), ``checks`` (what the portal
shows: one event checked step by step, checkpoints and witnesses), ``registry`` (the
bodies and sources the domains declare, read by ``check_event`` and ``verify``).
"""

from __future__ import annotations

from xinyidai.ledger.service.appending import (
    append,
    append_digests,
    append_many,
)
from xinyidai.ledger.service.checkpoints import (
    checkpoint_note,
    cosignatures_of,
    latest_checkpoint,
    latest_checkpoint_or_raise,
    publish_checkpoint,
    refresh,
    verifier_key,
)
from xinyidai.ledger.service.checks import (
    b64,
    check_event,
    checkpoint_view,
    current_checkpoint,
    witness_status,
)
from xinyidai.ledger.service.finders import (
    find_event,
    indexes_of,
    party_leaves,
)
from xinyidai.ledger.service.leaves import (
    EVENT_FIELDS,
    EVENT_FIELDS_V2,
    FORMAT_1,
    FORMAT_2,
    MAX_FIELD,
    MAX_KIND,
    TAG_BYTES,
    build_leaf,
    build_leaf_v1,
    canonical_json,
    decode_leaf,
    digest_of,
    leaf_format,
)
from xinyidai.ledger.service.proofs import (
    consistency_proof,
    entries,
    get_by_index,
    get_by_index_or_raise,
    inclusion_proof,
    lookup,
    tree_root,
)
from xinyidai.ledger.service.registry import (
    BodyFetch,
    SourceFetch,
    check_body,
    register_body,
    register_source,
    register_steps,
    sources,
    unregister_body,
    unregister_source,
)
from xinyidai.ledger.service.sealing import (
    COMMITMENT_DOMAIN,
    ROLES,
    SALT_BYTES,
    Sealed,
    commitment,
    expected_digest,
    new_salt,
    new_salts,
    party_key,
    party_keys,
    seal,
    tag,
    tagged_for,
)
from xinyidai.ledger.service.sequencing import (
    has_pending,
    head,
    integrate,
    lock_head,
    read_nodes,
)
from xinyidai.ledger.service.steps import LedgeredSteps
from xinyidai.ledger.service.witnesses import (
    FUTURE_SKEW,
    add_cosignature,
    add_witness,
    get_witness,
    list_witnesses,
)

__all__ = [
    "COMMITMENT_DOMAIN",
    "EVENT_FIELDS",
    "EVENT_FIELDS_V2",
    "FORMAT_1",
    "FORMAT_2",
    "FUTURE_SKEW",
    "MAX_FIELD",
    "MAX_KIND",
    "ROLES",
    "SALT_BYTES",
    "TAG_BYTES",
    "BodyFetch",
    "LedgeredSteps",
    "Sealed",
    "SourceFetch",
    "add_cosignature",
    "add_witness",
    "append",
    "append_digests",
    "append_many",
    "b64",
    "build_leaf",
    "build_leaf_v1",
    "canonical_json",
    "check_body",
    "check_event",
    "checkpoint_note",
    "checkpoint_view",
    "commitment",
    "consistency_proof",
    "cosignatures_of",
    "current_checkpoint",
    "decode_leaf",
    "digest_of",
    "entries",
    "expected_digest",
    "find_event",
    "get_by_index",
    "get_by_index_or_raise",
    "get_witness",
    "has_pending",
    "head",
    "inclusion_proof",
    "indexes_of",
    "integrate",
    "latest_checkpoint",
    "latest_checkpoint_or_raise",
    "leaf_format",
    "list_witnesses",
    "lock_head",
    "lookup",
    "new_salt",
    "new_salts",
    "party_key",
    "party_keys",
    "party_leaves",
    "publish_checkpoint",
    "read_nodes",
    "refresh",
    "register_body",
    "register_source",
    "register_steps",
    "seal",
    "sources",
    "tag",
    "tagged_for",
    "tree_root",
    "unregister_body",
    "unregister_source",
    "verifier_key",
    "witness_status",
]
