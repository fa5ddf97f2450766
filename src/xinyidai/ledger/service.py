"""The ledger: append events, sequence them into the tree, publish checkpoints, prove, verify.

Appends are cheap and concurrent: ``append`` inserts a pending entry (no index) in the
caller's transaction. The sequencer (``integrate``) takes the head row lock, gives
pending entries the next indexes in id order, stores the tree nodes they complete and
moves the head; ``refresh`` does that and signs a checkpoint at most every
``XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS``. See docs/ledger.md for why.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import bulk_insert, copy_bytes, copy_lines, is_postgres
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.ledger import explain, keys, note, tree
from xinyidai.ledger.models import (
    HEAD_ID,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerWitness,
)
from xinyidai.ledger.schemas import (
    BODY_DIFFERS,
    BODY_MATCHES,
    BODY_MISSING,
    BODY_UNCHECKED,
    CheckpointView,
    EventCheck,
    LedgerEvent,
    ProofStep,
    WitnessCosignature,
    WitnessStatus,
)

log = logging.getLogger(__name__)

EVENT_FIELDS = ("actor", "digest", "kind", "ref", "subject", "time")
MAX_FIELD = 200
MAX_KIND = 60
FUTURE_SKEW = timedelta(minutes=5)

SourceFetch = Callable[[Session], Iterable[tuple[str, str]]]
_sources: dict[str, SourceFetch] = {}
BodyFetch = Callable[[Session, str], Iterable[str]]
_bodies: dict[str, BodyFetch] = {}


# --- events and leaves -------------------------------------------------------------------


_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only what Python's compact sorted JSON spells as RFC 8785 does.

    That is strings, booleans, null, integers a double holds exactly, lists, and objects
    whose keys are in the Basic Multilingual Plane (so code point order is UTF-16 order).
    Floats are left to the ``rfc8785`` package (their ES6 spelling differs from Python's).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, (str, bool)):
            continue
        if isinstance(item, int):
            if -_SAFE_INT <= item <= _SAFE_INT:
                continue
            return False
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not (key.isascii() or max(key) <= "\uffff"):
                    return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON: sorted keys, no spaces, one spelling per value."""
    if _plain(value):
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    return bytes(rfc8785.dumps(value))


def digest_of(body: bytes | Mapping[str, Any]) -> str:
    """The hex SHA-256 of a body: raw bytes as given, a mapping as canonical JSON."""
    if isinstance(body, bytes):
        return hashlib.sha256(body).hexdigest()
    try:
        data = canonical_json(dict(body))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ValidationFailed(
            "the body is not canonical JSON: {reason}", field="body", reason=str(exc)
        ) from exc
    return hashlib.sha256(data).hexdigest()


def _check_text(value: str, *, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("{name} must be a non-empty string", field=field, name=field)
    if len(value) > limit:
        raise ValidationFailed(
            "{name} is longer than {limit} characters", field=field, name=field, limit=limit
        )
    return value


def _time_text(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


# Printable ASCII without '"' and '\\', not starting with a space: such a string is its own
# JSON spelling, so an event made only of them is written directly, byte for byte what
# ``canonical_json`` gives (the tests hold the two paths to that).
_VERBATIM_FIELD = rf"[!#-\[\]-~][ -!#-\[\]-~]{{0,{MAX_FIELD - 1}}}"
_VERBATIM = re.compile(_VERBATIM_FIELD)
# A chunk's subjects, refs and digests joined by newlines (which none may hold): one match
# says each is its own JSON spelling and each digest is 64 lowercase hex digits.
_VERBATIM_ITEMS = re.compile(rf"(?:{_VERBATIM_FIELD}\n{_VERBATIM_FIELD}\n[0-9a-f]{{64}}\n)*")


def build_leaf(*, kind: str, actor: str, subject: str, ref: str, digest: str, time: str) -> bytes:
    """The exact leaf bytes: the canonical JSON of the event."""
    verbatim = _VERBATIM.fullmatch
    if (
        len(kind) <= MAX_KIND
        and verbatim(kind)
        and verbatim(actor)
        and verbatim(subject)
        and verbatim(ref)
        and verbatim(digest)
        and verbatim(time)
    ):
        return (
            f'{{"actor":"{actor}","digest":"{digest}","kind":"{kind}",'
            f'"ref":"{ref}","subject":"{subject}","time":"{time}"}}'
        ).encode()
    event = {
        "kind": _check_text(kind, field="kind", limit=MAX_KIND),
        "actor": _check_text(actor, field="actor", limit=MAX_FIELD),
        "subject": _check_text(subject, field="subject", limit=MAX_FIELD),
        "ref": _check_text(ref, field="ref", limit=MAX_FIELD),
        "digest": digest,
        "time": time,
    }
    return canonical_json(event)


def decode_leaf(leaf: bytes) -> dict[str, Any]:
    """The event in a leaf; ``ValueError`` unless it is a canonical event."""
    event = json.loads(leaf)
    if not isinstance(event, dict) or tuple(sorted(event)) != EVENT_FIELDS:
        raise ValueError("not a ledger event")
    if canonical_json(event) != leaf:
        raise ValueError("not canonical JSON")
    return event


def _entry_row(event: LedgerEvent, moment: datetime, time: str) -> dict[str, Any]:
    digest = event.digest or digest_of(event.body)
    leaf = build_leaf(
        kind=event.kind,
        actor=event.actor,
        subject=event.subject,
        ref=event.ref,
        digest=digest,
        time=time,
    )
    return {
        "digest": bytes.fromhex(digest),
        "leaf": leaf,
        "leaf_hash": tree.leaf_hash(leaf),
        "created_at": moment,
    }


def append(
    session: Session, *, kind: str, actor: str, subject: str, ref: str, body: bytes | dict[str, Any]
) -> LedgerEntry:
    """Append one event (pending until sequenced); the caller commits."""
    moment = clock.now()
    row = _entry_row(LedgerEvent(kind, actor, subject, ref, body), moment, _time_text(moment))
    entry = LedgerEntry(**row)
    session.add(entry)
    session.flush()
    return entry


def append_many(session: Session, *, events: Iterable[LedgerEvent], sequence: bool = False) -> int:
    """Append many events in one statement (COPY on PostgreSQL); returns how many.

    With ``sequence=True`` (bulk jobs) the batch takes the head lock and its indexes at
    once, its nodes computed in memory: no pending round trip, but the lock is held until
    the caller commits, so keep such transactions short.
    """
    moment = clock.now()
    time = _time_text(moment)
    rows = [_entry_row(event, moment, time) for event in events]
    if not rows:
        return 0
    session.flush()
    locked = lock_head(session) if sequence else None
    if locked is not None:
        size = locked.size
        old = read_nodes(session, tree.frontier(size))
        created, root = tree.append_nodes(size, old, [row["leaf_hash"] for row in rows])
        for i, row in enumerate(rows):
            row["idx"] = size + i
    bulk_insert(session, LedgerEntry.__table__, rows)
    if locked is not None:
        _store_nodes(session, created)
        locked.size = size + len(rows)
        locked.root_hash = root
        locked.updated_at = clock.now()
        session.flush()
    return len(rows)


_ENTRY_COLUMNS = ("digest", "leaf", "leaf_hash", "created_at")


def append_digests(
    session: Session, *, kind: str, actor: str, items: Sequence[tuple[str, str, str]]
) -> int:
    """Append one event of ``kind`` by ``actor`` per ``(subject, ref, digest)``; how many.

    The bulk path of a domain that hashed its bodies itself (one leaf per stored record
    version): the leaves are byte for byte those ``append_many`` writes, but the fields
    common to every event are checked and spelled once, and on PostgreSQL the entries go
    in as one COPY of lines built here.
    """
    if not items:
        return 0
    moment = clock.now()
    time = _time_text(moment)
    verbatim = _VERBATIM.fullmatch
    if not (len(kind) <= MAX_KIND and verbatim(kind) and verbatim(actor) and verbatim(time)):
        events = [LedgerEvent(kind, actor, s, r, b"", d) for s, r, d in items]
        return append_many(session, events=events)
    # Sorted keys: actor, digest, kind, ref, subject, time.
    start = f'{{"actor":"{actor}","digest":"'
    middle = f'","kind":"{kind}","ref":"'
    end = f'","time":"{time}"}}'
    # (digest as lowercase hex, leaf): the leaf as text where it is spelled directly.
    leaves: list[tuple[str, str | bytes]]
    if _verbatim_items(items):
        leaves = [
            (digest, f'{start}{digest}{middle}{ref}","subject":"{subject}{end}')
            for subject, ref, digest in items
        ]
    else:
        leaves = []
        for subject, ref, digest in items:
            hex_digest = bytes.fromhex(digest).hex()
            if verbatim(subject) and verbatim(ref):
                leaves.append(
                    (hex_digest, f'{start}{digest}{middle}{ref}","subject":"{subject}{end}')
                )
            else:
                leaf = build_leaf(
                    kind=kind, actor=actor, subject=subject, ref=ref, digest=digest, time=time
                )
                leaves.append((hex_digest, leaf))
    session.flush()
    if not is_postgres(session):
        rows = []
        for hex_digest, leaf in leaves:
            data = leaf.encode() if isinstance(leaf, str) else leaf
            rows.append(
                {
                    "digest": bytes.fromhex(hex_digest),
                    "leaf": data,
                    "leaf_hash": tree.leaf_hash(data),
                    "created_at": moment,
                }
            )
        bulk_insert(session, LedgerEntry.__table__, rows)
        return len(rows)
    tail = f"\t{moment.isoformat()}\n"
    leaf_hash = tree.leaf_hash
    lines = []
    for hex_digest, leaf in leaves:
        if isinstance(leaf, str):
            # Printable ASCII without a backslash: bytea's escape format takes it as it is.
            text_leaf = leaf
            leaf_hex = leaf_hash(leaf.encode()).hex()
        else:
            text_leaf = copy_bytes(leaf)
            leaf_hex = leaf_hash(leaf).hex()
        # bytea in hex, its backslash escaped for COPY (``copy_bytes``).
        lines.append(f"\\\\x{hex_digest}\t{text_leaf}\t\\\\x{leaf_hex}{tail}")
    copy_lines(session, LedgerEntry.__table__, _ENTRY_COLUMNS, lines)
    return len(lines)


def _verbatim_items(items: Sequence[tuple[str, str, str]]) -> bool:
    """Whether every ``(subject, ref, digest)`` of a chunk can be spelled directly (one regex
    pass over the chunk instead of three per item)."""
    joined = "".join(f"{subject}\n{ref}\n{digest}\n" for subject, ref, digest in items)
    return _VERBATIM_ITEMS.fullmatch(joined) is not None


# --- the tree ----------------------------------------------------------------------------


def _ensure_head(session: Session) -> None:
    if session.get(LedgerHead, HEAD_ID) is None:
        session.add(LedgerHead(id=HEAD_ID, size=0, root_hash=tree.EMPTY_ROOT))
        session.flush()


def lock_head(session: Session, *, wait: bool = True) -> LedgerHead | None:
    """Lock the head row for this transaction; None if busy and ``wait`` is false."""
    if is_postgres(session):
        stmt = (
            select(LedgerHead)
            .where(LedgerHead.id == HEAD_ID)
            .with_for_update(skip_locked=not wait)
            .execution_options(populate_existing=True)
        )
        head = session.scalar(stmt)
        if head is None and wait:
            _ensure_head(session)
            head = session.scalar(stmt)
        return head
    # SQLite: a write takes the database lock at once (waiting up to busy_timeout).
    touched = session.execute(
        update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(size=LedgerHead.size)
    )
    if not touched.rowcount:  # type: ignore[attr-defined]
        _ensure_head(session)
    return session.scalar(
        select(LedgerHead).where(LedgerHead.id == HEAD_ID).execution_options(populate_existing=True)
    )


def head(session: Session) -> LedgerHead:
    """The head row as last committed (size and root of the sequenced tree)."""
    row = session.get(LedgerHead, HEAD_ID, populate_existing=True)
    if row is None:
        return LedgerHead(id=HEAD_ID, size=0, root_hash=tree.EMPTY_ROOT)
    return row


_NODES_BY_POSITION = text(
    "SELECT n.level, n.idx, n.hash FROM ledger_node n JOIN unnest("
    "CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS q(level, idx) "
    "ON n.level = q.level AND n.idx = q.idx"
)


def read_nodes(session: Session, nodes: Sequence[tree.Node]) -> dict[tree.Node, bytes]:
    """Stored node hashes; ``Conflict`` naming the first one missing."""
    if not nodes:
        return {}
    found: dict[tree.Node, bytes] = {}
    if is_postgres(session):
        # One index probe per node through a join on unnest: about 3x faster than a
        # row-value IN list, which PostgreSQL turns into a BitmapOr.
        params = {"levels": [n[0] for n in nodes], "idxs": [n[1] for n in nodes]}
        for level, idx, value in session.execute(_NODES_BY_POSITION, params):
            found[(level, idx)] = bytes(value)
    else:
        for start in range(0, len(nodes), 500):
            chunk = list(nodes[start : start + 500])
            stmt = select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
                tuple_(LedgerNode.level, LedgerNode.idx).in_(chunk)
            )
            for level, idx, value in session.execute(stmt):
                found[(level, idx)] = bytes(value)
    for node in nodes:
        if node not in found:
            raise Conflict(
                "ledger node {level}/{index} is missing",
                field="ledger",
                level=node[0],
                index=node[1],
            )
    return found


def _reader(session: Session) -> tree.NodeReader:
    return lambda nodes: read_nodes(session, nodes)


def _assign_indexes(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    if is_postgres(session):
        session.execute(
            text(
                "UPDATE ledger_entry SET idx = v.idx FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:idxs AS bigint[])) AS v(id, idx) "
                "WHERE ledger_entry.id = v.id"
            ),
            {"ids": [p[0] for p in pairs], "idxs": [p[1] for p in pairs]},
        )
    else:
        session.execute(update(LedgerEntry), [{"id": i, "idx": x} for i, x in pairs])


def _store_nodes(session: Session, nodes: Mapping[tree.Node, bytes]) -> None:
    rows = [{"level": lv, "idx": ix, "hash": value} for (lv, ix), value in nodes.items()]
    bulk_insert(session, LedgerNode.__table__, rows)


def has_pending(session: Session) -> bool:
    """Whether any appended entry waits for an index."""
    return (
        session.scalar(select(LedgerEntry.id).where(LedgerEntry.idx.is_(None)).limit(1)) is not None
    )


def integrate(session: Session, *, wait: bool = True, limit: int | None = None) -> int:
    """Give pending entries the next indexes and store their nodes; returns how many.

    Holds the head lock until the caller commits, so two sequencers never hand out the
    same index. With ``wait=False`` it returns 0 at once when another sequencer is busy.
    """
    session.flush()
    locked = lock_head(session, wait=wait)
    if locked is None:
        return 0
    batch = limit or keys.ledger_settings().sequence_batch
    done = 0
    while True:
        rows = session.execute(
            select(LedgerEntry.id, LedgerEntry.leaf_hash)
            .where(LedgerEntry.idx.is_(None))
            .order_by(LedgerEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        size = locked.size
        old = read_nodes(session, tree.frontier(size))
        created, root = tree.append_nodes(size, old, [bytes(r.leaf_hash) for r in rows])
        _assign_indexes(session, [(r.id, size + i) for i, r in enumerate(rows)])
        _store_nodes(session, created)
        locked.size = size + len(rows)
        locked.root_hash = root
        locked.updated_at = clock.now()
        session.flush()
        done += len(rows)
        if limit is not None or len(rows) < batch:
            break
    if done:
        for obj in list(session.identity_map.values()):
            if isinstance(obj, LedgerEntry):
                session.expire(obj, ["idx"])
    return done


# --- checkpoints -------------------------------------------------------------------------


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The checkpoint of the largest tree, or None before the first one."""
    return session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))


def latest_checkpoint_or_raise(session: Session) -> LedgerCheckpoint:
    """The latest checkpoint; ``NotFound`` when none was published yet."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound("the ledger has no checkpoint yet", field="checkpoint")
    return checkpoint


def publish_checkpoint(session: Session) -> LedgerCheckpoint:
    """Sign a checkpoint of the current head unless one exists for its size.

    Call it holding the head lock (``integrate`` or ``refresh`` took it).
    """
    current = head(session)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == current.size:
        return latest
    if latest is not None and latest.size > current.size:
        raise Conflict(
            "the ledger head ({size}) is behind its checkpoint ({checkpoint})",
            field="ledger",
            size=current.size,
            checkpoint=latest.size,
        )
    signer = keys.load_key()
    body = note.Checkpoint(keys.origin(), current.size, bytes(current.root_hash)).text
    checkpoint = LedgerCheckpoint(
        size=current.size, root_hash=bytes(current.root_hash), note=note.sign_note(body, signer)
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def refresh(session: Session, *, force: bool = False) -> LedgerCheckpoint:
    """Sequence pending entries and sign a new checkpoint when the tree grew.

    At most one checkpoint per ``checkpoint_interval_seconds`` unless ``force``; when
    another process holds the head lock, the latest checkpoint is returned as is.
    """
    latest = latest_checkpoint(session)
    if latest is not None:
        fresh = clock.now() - latest.created_at < timedelta(
            seconds=keys.ledger_settings().checkpoint_interval_seconds
        )
        grew = has_pending(session) or head(session).size > latest.size
        if not grew or (fresh and not force):
            return latest
    if lock_head(session, wait=force or latest is None) is None:
        return latest_checkpoint_or_raise(session)
    integrate(session)
    return publish_checkpoint(session)


def cosignatures_of(
    session: Session, checkpoint: LedgerCheckpoint
) -> list[tuple[str, LedgerCosignature]]:
    """The witnesses' cosignatures collected for one checkpoint, by witness name."""
    stmt = (
        select(LedgerWitness.name, LedgerCosignature)
        .join(LedgerWitness, LedgerWitness.id == LedgerCosignature.witness_id)
        .where(LedgerCosignature.checkpoint_id == checkpoint.id)
        .order_by(LedgerWitness.name)
    )
    return [(name, cosig) for name, cosig in session.execute(stmt)]


def checkpoint_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """The signed checkpoint with every collected cosignature line appended."""
    lines = [cosig.line for _, cosig in cosignatures_of(session, checkpoint)]
    return note.add_signatures(checkpoint.note, lines)


def verifier_key() -> str:
    """The log's public key in signed-note vkey form."""
    return keys.load_key().verifier.vkey


# --- reading and proving -----------------------------------------------------------------


def get_by_index(session: Session, *, index: int) -> LedgerEntry | None:
    """The entry at a leaf index, or None."""
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idx == index))


def get_by_index_or_raise(session: Session, *, index: int) -> LedgerEntry:
    """The entry at a leaf index; ``NotFound`` naming ``index`` otherwise."""
    entry = get_by_index(session, index=index)
    if entry is None:
        raise NotFound("no ledger entry at index {index}", field="index", index=index)
    return entry


def entries(
    session: Session, *, start: int, end: int | None = None
) -> tuple[list[LedgerEntry], int]:
    """Sequenced entries ``[start, end)`` (capped), and the tree size."""
    size = head(session).size
    if start < 0:
        raise ValidationFailed("start must not be negative", field="start")
    if start >= size:
        raise NotFound("no ledger entry at index {index}", field="start", index=start)
    if end is not None and end <= start:
        raise ValidationFailed("end must be greater than start", field="end")
    cap = keys.ledger_settings().max_entries
    stop = min(end if end is not None else size, size, start + cap)
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.idx >= start, LedgerEntry.idx < stop)
        .order_by(LedgerEntry.idx)
    )
    return list(rows), size


def _check_size(session: Session, value: int, *, field: str) -> None:
    if value < 0:
        raise ValidationFailed("{name} must not be negative", field=field, name=field)
    size = head(session).size
    if value > size:
        raise NotFound(
            "the ledger has only {size} entries, not {value}", field=field, size=size, value=value
        )


def inclusion_proof(session: Session, *, index: int, tree_size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves."""
    _check_size(session, tree_size, field="tree_size")
    if not 0 <= index < tree_size:
        raise ValidationFailed(
            "index must be below tree_size ({tree_size})", field="index", tree_size=tree_size
        )
    return tree.prove_inclusion(index, tree_size, _reader(session))


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""
    _check_size(session, second, field="second")
    if not 0 <= first <= second:
        raise ValidationFailed(
            "first must be between 0 and second ({second})", field="first", second=second
        )
    return tree.prove_consistency(first, second, _reader(session))


def tree_root(session: Session, *, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves, from stored nodes."""
    _check_size(session, size, field="size")
    return tree.tree_root(size, _reader(session))


def _check_digest(digest: str) -> str:
    value = digest.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValidationFailed("digest must be 64 hexadecimal characters", field="digest")
    return value


def lookup(session: Session, *, digest: str) -> tuple[list[int], int]:
    """Indexes of the entries with this event digest, and how many are still pending."""
    value = _check_digest(digest)
    rows = session.execute(
        select(LedgerEntry.idx)
        .where(LedgerEntry.digest == bytes.fromhex(value))
        .order_by(LedgerEntry.idx)
    ).scalars()
    indexes: list[int] = []
    pending = 0
    for idx in rows:
        if idx is None:
            pending += 1
        else:
            indexes.append(idx)
    if not indexes and not pending:
        raise NotFound("no ledger entry with digest {digest}", field="digest", digest=value)
    return indexes, pending


# --- witnesses ---------------------------------------------------------------------------


def get_witness(session: Session, *, name: str) -> LedgerWitness | None:
    """The registered witness with this name, or None."""
    return session.scalar(select(LedgerWitness).where(LedgerWitness.name == name))


def add_witness(session: Session, *, name: str, vkey: str) -> LedgerWitness:
    """Register a witness by its cosigner vkey; ``Conflict`` if the name is taken."""
    try:
        verifier = note.parse_verifier(vkey)
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid witness key: {reason}", field="vkey", reason=str(exc)
        ) from exc
    if verifier.key_type != note.COSIGNATURE_ED25519:
        raise ValidationFailed(
            "a witness key must be a cosignature/v1 key (type 0x04)", field="vkey"
        )
    if verifier.name != name:
        raise ValidationFailed(
            "the key is named {key_name}, not {name}",
            field="name",
            key_name=verifier.name,
            name=name,
        )
    if get_witness(session, name=name) is not None:
        raise Conflict("witness {name} is already registered", field="name", name=name)
    witness = LedgerWitness(name=name, vkey=vkey.strip(), active=True)
    session.add(witness)
    session.flush()
    return witness


def list_witnesses(session: Session) -> list[LedgerWitness]:
    """Every registered witness, by name."""
    return list(session.scalars(select(LedgerWitness).order_by(LedgerWitness.name)))


def add_cosignature(
    session: Session, *, checkpoint: str, cosignature: str
) -> tuple[LedgerWitness, LedgerCheckpoint, int]:
    """Check a witness's cosignature on a published checkpoint and keep it."""
    try:
        body = note.split_note(checkpoint)[0] if "\n\n" in checkpoint else checkpoint
        parsed = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid checkpoint: {reason}", field="checkpoint", reason=str(exc)
        ) from exc
    stored = session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.size == parsed.size))
    if (
        stored is None
        or bytes(stored.root_hash) != parsed.root_hash
        or parsed.origin != keys.origin()
    ):
        raise NotFound("the log published no such checkpoint", field="checkpoint")
    try:
        line = note.parse_signature_line(cosignature.strip("\n"))
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid cosignature: {reason}", field="cosignature", reason=str(exc)
        ) from exc
    witness = get_witness(session, name=line.name)
    if witness is None or not witness.active:
        raise ValidationFailed(
            "{name} is not a registered witness", field="cosignature", name=line.name
        )
    stored_text = note.split_note(stored.note)[0]
    try:
        timestamp = note.verify_cosignature(
            stored_text, cosignature.strip("\n"), note.parse_verifier(witness.vkey)
        )
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid cosignature: {reason}", field="cosignature", reason=str(exc)
        ) from exc
    if timestamp > (clock.now() + FUTURE_SKEW).timestamp():
        raise ValidationFailed("the cosignature is dated in the future", field="cosignature")
    existing = session.scalar(
        select(LedgerCosignature).where(
            LedgerCosignature.checkpoint_id == stored.id, LedgerCosignature.witness_id == witness.id
        )
    )
    if existing is None:
        session.add(
            LedgerCosignature(
                checkpoint_id=stored.id,
                witness_id=witness.id,
                line=line.line,
                timestamp=timestamp,
            )
        )
    elif timestamp > existing.timestamp:
        existing.line, existing.timestamp = line.line, timestamp
    session.flush()
    return witness, stored, timestamp


# --- what the portal shows ---------------------------------------------------------------


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def checkpoint_view(session: Session, checkpoint: LedgerCheckpoint) -> CheckpointView:
    """A checkpoint with the witnesses that cosigned it."""
    cosigned = cosignatures_of(session, checkpoint)
    return CheckpointView(
        origin=note.parse_checkpoint(note.split_note(checkpoint.note)[0]).origin,
        size=checkpoint.size,
        root_hash=b64(bytes(checkpoint.root_hash)),
        created_at=checkpoint.created_at,
        note=note.add_signatures(checkpoint.note, [c.line for _, c in cosigned]),
        witnesses=[
            WitnessCosignature(name=name, signed_at=_from_timestamp(cosig.timestamp))
            for name, cosig in cosigned
        ],
    )


def witness_status(session: Session, *, size: int) -> list[WitnessStatus]:
    """Every registered witness with the latest checkpoint it cosigned and when.

    ``covers_current`` says whether that checkpoint is the one of ``size`` leaves (the
    current one): a witness that stopped cosigning shows the size it last vouched for.
    """
    latest = (
        select(
            LedgerCosignature.witness_id.label("witness_id"),
            func.max(LedgerCheckpoint.size).label("size"),
        )
        .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerCosignature.checkpoint_id)
        .group_by(LedgerCosignature.witness_id)
        .subquery()
    )
    rows = session.execute(
        select(LedgerCosignature.witness_id, LedgerCheckpoint.size, LedgerCosignature.timestamp)
        .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerCosignature.checkpoint_id)
        .join(
            latest,
            (latest.c.witness_id == LedgerCosignature.witness_id)
            & (latest.c.size == LedgerCheckpoint.size),
        )
    )
    signed = {witness_id: (cosigned, timestamp) for witness_id, cosigned, timestamp in rows}
    result: list[WitnessStatus] = []
    for witness in list_witnesses(session):
        cosigned, timestamp = signed.get(witness.id, (None, None))
        result.append(
            WitnessStatus(
                name=witness.name,
                active=witness.active,
                size=cosigned,
                signed_at=None if timestamp is None else _from_timestamp(timestamp),
                covers_current=cosigned == size,
            )
        )
    return result


def _from_timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def current_checkpoint(session: Session) -> CheckpointView:
    """The latest checkpoint (refreshed if the tree grew) with its witnesses."""
    return checkpoint_view(session, refresh(session))


def check_event(
    session: Session, *, digest: str | None = None, index: int | None = None
) -> EventCheck:
    """Check one event by digest or index against the latest checkpoint, with each step."""
    if (digest is None) == (index is None):
        raise ValidationFailed("give either a digest or an index", field="digest")
    checkpoint = refresh(session)
    if index is None:
        indexes, pending = lookup(session, digest=digest or "")
        if not indexes and pending:
            checkpoint = refresh(session, force=True)
            indexes, pending = lookup(session, digest=digest or "")
        if not indexes:
            raise Conflict("the event is not in the tree yet; try again shortly", field="digest")
        index = indexes[0]
    if not 0 <= index < checkpoint.size:
        if index >= 0 and index < head(session).size:
            checkpoint = refresh(session, force=True)
        else:
            raise NotFound("no ledger entry at index {index}", field="index", index=index)
    entry = get_by_index_or_raise(session, index=index)
    leaf = bytes(entry.leaf)
    proof = tree.prove_inclusion(index, checkpoint.size, _reader(session))
    signed = note.parse_checkpoint(note.verify_note(checkpoint.note, keys.load_key().verifier))
    worked = explain.explain_inclusion(index, checkpoint.size, leaf, proof, signed.root_hash)
    event = decode_leaf(leaf)
    return EventCheck(
        index=index,
        event=event,
        leaf=leaf.decode("utf-8"),
        leaf_hash=b64(worked.leaf_hash),
        tree_size=checkpoint.size,
        root_hash=b64(signed.root_hash),
        computed_root=None if worked.computed_root is None else b64(worked.computed_root),
        steps=[
            ProofStep(
                number=step.number,
                side=step.side,
                sibling=b64(step.sibling),
                sibling_leaves=step.sibling_leaves,
                result=b64(step.result),
                covers=step.covers,
            )
            for step in worked.steps
        ],
        verified=worked.matches,
        problem=worked.problem,
        problem_params=dict(worked.params),
        body=check_body(session, kind=event["kind"], ref=event["ref"], digest=event["digest"]),
        checkpoint=checkpoint_view(session, checkpoint),
    )


def find_event(session: Session, *, kind: str, ref: str, digest: str) -> int | None:
    """The index of the leaf of ``kind`` for ``ref`` with this digest, or None if there is none.

    A pending match is sequenced first. None means nothing in the log records that body
    under that ref: it was added or changed outside the ledger.
    """
    value = bytes.fromhex(_check_digest(digest))

    def matching() -> tuple[list[int], int]:
        found: list[int] = []
        pending = 0
        rows = session.execute(
            select(LedgerEntry.idx, LedgerEntry.leaf)
            .where(LedgerEntry.digest == value)
            .order_by(LedgerEntry.idx)
        )
        for idx, leaf in rows:
            try:
                event = decode_leaf(bytes(leaf))
            except ValueError:
                continue
            if event["kind"] != kind or event["ref"] != ref:
                continue
            if idx is None:
                pending += 1
            else:
                found.append(idx)
        return found, pending

    found, pending = matching()
    if not found and pending:
        refresh(session, force=True)
        found, _ = matching()
    return found[0] if found else None


# --- stored bodies -----------------------------------------------------------------------


def register_body(kind: str, fetch: BodyFetch) -> None:
    """Declare how to re-hash the stored body behind a ``ref`` of ``kind``.

    ``fetch(session, ref)`` returns the digest (as ``digest_of`` computes it) of every copy
    of that body the owning domain stores, recomputed from the stored data now; empty when
    it is gone. ``check_event`` then says whether the body still matches its leaf.
    """
    _check_text(kind, field="kind", limit=MAX_KIND)
    _bodies[kind] = fetch


def unregister_body(kind: str) -> None:
    """Forget a body fetcher (tests)."""
    _bodies.pop(kind, None)


def check_body(session: Session, *, kind: str, ref: str, digest: str) -> str:
    """Whether the stored body behind an event still hashes to the digest in its leaf.

    ``matches``, ``differs`` (some stored copy changed after it was logged), ``missing``
    (nothing stored under that ref) or ``unchecked`` (the ledger keeps only digests of this
    kind of event, so there is nothing to re-hash).
    """
    fetch = _bodies.get(kind)
    if fetch is None:
        return BODY_UNCHECKED
    found = list(fetch(session, ref))
    if not found:
        return BODY_MISSING
    return BODY_MATCHES if all(value == digest for value in found) else BODY_DIFFERS


# --- verification ------------------------------------------------------------------------


def register_source(kind: str, fetch: SourceFetch) -> None:
    """Declare that every ``(ref, digest)`` ``fetch`` yields must have a leaf of ``kind``."""
    _check_text(kind, field="kind", limit=MAX_KIND)
    _sources[kind] = fetch


def unregister_source(kind: str) -> None:
    """Forget a source (tests)."""
    _sources.pop(kind, None)


def sources() -> dict[str, SourceFetch]:
    """The registered sources by kind."""
    return dict(_sources)
