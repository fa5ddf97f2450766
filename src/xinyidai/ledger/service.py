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
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import rfc8785
from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import bulk_insert, copy_lines, copy_text, is_postgres
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.core.settings import get_settings
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
    StoredEvent,
    WitnessCosignature,
    WitnessStatus,
)

log = logging.getLogger(__name__)

FORMAT_1 = 1
FORMAT_2 = 2
# The members of a leaf of each format, sorted (format 1: written before salted commitments).
EVENT_FIELDS = ("actor", "digest", "kind", "ref", "subject", "time")
EVENT_FIELDS_V2 = ("actor", "digest", "kind", "subject", "time", "v")
SALT_BYTES = 16
TAG_BYTES = 16
COMMITMENT_DOMAIN = b"XYD ledger commitment v2\n"
ROLES = ("subject", "actor")
MAX_FIELD = 200
MAX_KIND = 60
FUTURE_SKEW = timedelta(minutes=5)

SourceFetch = Callable[[Session], Iterable[StoredEvent | tuple[str, str]]]
_sources: dict[str, SourceFetch] = {}
BodyFetch = Callable[[Session, str], Iterable[StoredEvent]]
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


def build_leaf_v1(
    *, kind: str, actor: str, subject: str, ref: str, digest: str, time: str
) -> bytes:
    """The exact bytes of a format-1 leaf (written before format 2; kept to read them)."""
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


def build_leaf(*, kind: str, actor_tag: str, subject_tag: str, digest: str, time: str) -> bytes:
    """The exact bytes of a format-2 leaf: the canonical JSON of the sealed event.

    ``digest`` is the event's commitment and the tags are those of its actor and subject
    (``seal`` makes all three); the ref is not in the leaf.
    """
    if len(kind) <= MAX_KIND and _VERBATIM.fullmatch(kind) and _VERBATIM.fullmatch(time):
        return (
            f'{{"actor":"{actor_tag}","digest":"{digest}","kind":"{kind}",'
            f'"subject":"{subject_tag}","time":"{time}","v":2}}'
        ).encode()
    event = {
        "kind": _check_text(kind, field="kind", limit=MAX_KIND),
        "actor": actor_tag,
        "subject": subject_tag,
        "digest": digest,
        "time": time,
        "v": FORMAT_2,
    }
    return canonical_json(event)


_HEX = re.compile(r"[0-9a-f]+")


def decode_leaf(leaf: bytes) -> dict[str, Any]:
    """The event in a leaf of either format; ``ValueError`` unless it is a canonical event.

    A format-2 event has ``"v": 2`` and no ``ref``; a format-1 event has no ``v``.
    """
    event = json.loads(leaf)
    if not isinstance(event, dict):
        raise ValueError("not a ledger event")
    fields = tuple(sorted(event))
    if fields == EVENT_FIELDS_V2:
        if event["v"] != FORMAT_2 or not all(
            isinstance(event[name], str) and _HEX.fullmatch(event[name]) and len(event[name]) == n
            for name, n in (("digest", 64), ("actor", 2 * TAG_BYTES), ("subject", 2 * TAG_BYTES))
        ):
            raise ValueError("not a format-2 ledger event")
    elif fields != EVENT_FIELDS:
        raise ValueError("not a ledger event")
    if canonical_json(event) != leaf:
        raise ValueError("not canonical JSON")
    return event


def leaf_format(event: Mapping[str, Any]) -> int:
    """The format of a decoded event: 2 when it says so, else 1."""
    return FORMAT_2 if event.get("v") == FORMAT_2 else FORMAT_1


# --- commitments and tags (format 2) -----------------------------------------------------


def new_salts(count: int) -> list[bytes]:
    """``count`` fresh random salts of ``SALT_BYTES`` each, drawn in one call."""
    pool = os.urandom(SALT_BYTES * count)
    return [pool[i : i + SALT_BYTES] for i in range(0, len(pool), SALT_BYTES)]


def new_salt() -> bytes:
    """One fresh random salt for one event."""
    return os.urandom(SALT_BYTES)


def _commitment_text(kind: str, ref: str, subject: str, actor: str, salt: str, digest: str) -> str:
    """The JSON array ``[kind, ref, subject, actor, salt, digest]`` that a commitment hashes."""
    verbatim = _VERBATIM.fullmatch
    if (
        len(kind) <= MAX_KIND
        and verbatim(kind)
        and verbatim(ref)
        and verbatim(subject)
        and verbatim(actor)
        and _DIGEST.fullmatch(digest)
    ):
        return f'["{kind}","{ref}","{subject}","{actor}","{salt}","{digest}"]'
    values = [
        _check_text(kind, field="kind", limit=MAX_KIND),
        _check_text(ref, field="ref", limit=MAX_FIELD),
        _check_text(subject, field="subject", limit=MAX_FIELD),
        _check_text(actor, field="actor", limit=MAX_FIELD),
        salt,
        _hex_digest(digest),
    ]
    return canonical_json(values).decode()


_DIGEST = re.compile(r"[0-9a-f]{64}")


def _hex_digest(digest: str) -> str:
    try:
        raw = bytes.fromhex(digest)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationFailed("digest must be 64 hexadecimal characters", field="digest")
    return raw.hex()


def commitment(*, kind: str, ref: str, subject: str, actor: str, salt: bytes, digest: str) -> str:
    """The hex commitment a format-2 leaf carries instead of the body's digest.

    ``SHA-256("XYD ledger commitment v2\n" ‖ JSON [kind, ref, subject, actor, hex salt,
    digest])``, the array in RFC 8785 canonical JSON. With a random salt of 128 bits per
    event, nobody without the salt can test a guess of the body, and the ref, subject and
    actor it binds are hidden too; whoever holds the salt and the body recomputes it.
    """
    if len(salt) != SALT_BYTES:
        raise ValidationFailed("a salt must be {size} bytes", field="salt", size=SALT_BYTES)
    text = _commitment_text(kind, ref, subject, actor, salt.hex(), digest)
    return hashlib.sha256(COMMITMENT_DOMAIN + text.encode()).hexdigest()


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class _Mac:
    """HMAC-SHA256 (RFC 2104) under one key, its padded key hashed once.

    The same bytes as ``hmac.digest(key, message, "sha256")`` (a test holds the two to that)
    at about half the cost, which counts on the ingest path: three MACs per stored record
    version, over a few short messages per key.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@lru_cache(maxsize=8)
def _secret_mac(secret: bytes) -> _Mac:
    return _Mac(secret)


@lru_cache(maxsize=1 << 16)
def _party_mac(secret: bytes, role: str, label: str) -> _Mac:
    """The MAC of one party's key (kept for the parties a node sees again and again)."""
    return _Mac(_secret_mac(secret)(f"{role}\x00{label}".encode()))


def party_key(*, role: str, label: str, secret: keys.TagSecret) -> bytes:
    """The key of one party (``role`` ``subject`` or ``actor``, its label) under one secret:
    ``HMAC-SHA256(secret, role ‖ 0x00 ‖ label)``. Handed to the party, it lets it find
    its own leaves and nobody else's."""
    if role not in ROLES:
        raise ValidationFailed("role must be subject or actor", field="role")
    return _secret_mac(secret.secret)(f"{role}\x00{label}".encode())


def party_keys(*, role: str, label: str) -> list[tuple[str, bytes]]:
    """The party's key under every tag secret of the node, oldest first, as (id, key)."""
    return [(s.id, party_key(role=role, label=label, secret=s)) for s in keys.tag_secrets()]


def tag(key: bytes, digest: str) -> str:
    """The tag a party's key gives one commitment: ``HMAC-SHA256(key, commitment)`` cut to
    16 bytes, in hex. Unlinkable to the party, and across leaves, without the key."""
    return hmac.digest(key, bytes.fromhex(digest), "sha256")[:TAG_BYTES].hex()


@dataclass(frozen=True, slots=True)
class Sealed:
    """One event sealed for a format-2 leaf: its commitment, tags and leaf bytes."""

    digest: str
    actor_tag: str
    subject_tag: str
    leaf: bytes


def seal(
    *,
    kind: str,
    actor: str,
    subject: str,
    ref: str,
    digest: str,
    salt: bytes,
    time: str,
    secret: keys.TagSecret | None = None,
) -> Sealed:
    """The format-2 leaf of one event: its commitment, and its actor and subject as tags."""
    secret = secret or keys.tag_secrets()[-1]
    value = commitment(kind=kind, ref=ref, subject=subject, actor=actor, salt=salt, digest=digest)
    raw = bytes.fromhex(value)
    actor_tag = _party_mac(secret.secret, "actor", actor)(raw)[:TAG_BYTES].hex()
    subject_tag = _party_mac(secret.secret, "subject", subject)(raw)[:TAG_BYTES].hex()
    leaf = build_leaf(
        kind=kind, actor_tag=actor_tag, subject_tag=subject_tag, digest=value, time=time
    )
    return Sealed(value, actor_tag, subject_tag, leaf)


def tagged_for(
    event: Mapping[str, Any], *, role: str, label: str, secrets: Sequence[keys.TagSecret]
) -> bool:
    """Whether a format-2 event's ``role`` tag is the party ``label``'s under any secret."""
    if role not in ROLES:
        raise ValidationFailed("role must be subject or actor", field="role")
    found = event.get(role)
    value = bytes.fromhex(event.get("digest", ""))
    return any(_party_mac(s.secret, role, label)(value)[:TAG_BYTES].hex() == found for s in secrets)


def expected_digest(kind: str, stored: StoredEvent) -> str:
    """The digest the leaf of a stored event must carry: its commitment when the row has a
    salt (format 2), else the body's digest itself (format 1)."""
    if stored.salt is None:
        return stored.digest
    return commitment(
        kind=kind,
        ref=stored.ref,
        subject=stored.subject,
        actor=stored.actor,
        salt=bytes(stored.salt),
        digest=stored.digest,
    )


def _entry_row(
    event: LedgerEvent, moment: datetime, time: str, secret: keys.TagSecret
) -> dict[str, Any]:
    digest = event.digest or digest_of(event.body)
    sealed = seal(
        kind=event.kind,
        actor=event.actor,
        subject=event.subject,
        ref=event.ref,
        digest=digest,
        salt=event.salt or new_salt(),
        time=time,
        secret=secret,
    )
    return {
        "digest": bytes.fromhex(sealed.digest),
        "leaf": sealed.leaf,
        "leaf_hash": tree.leaf_hash(sealed.leaf),
        "created_at": moment,
        "ref": event.ref,
    }


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    subject: str,
    ref: str,
    body: bytes | dict[str, Any],
    salt: bytes | None = None,
) -> LedgerEntry:
    """Append one event as a format-2 leaf (pending until sequenced); the caller commits.

    ``salt`` is the event's: a domain that lets ``verify`` check its rows stores it with
    the row and passes it here; without one a fresh salt is drawn (and nobody can ever
    recompute the commitment).
    """
    moment = clock.now()
    event = LedgerEvent(kind, actor, subject, ref, body, salt=salt)
    row = _entry_row(event, moment, _time_text(moment), keys.tag_secrets()[-1])
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
    secret = keys.tag_secrets()[-1]
    rows = [_entry_row(event, moment, time, secret) for event in events]
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


_ENTRY_COLUMNS = ("digest", "leaf", "leaf_hash", "created_at", "ref")


def append_digests(
    session: Session, *, kind: str, actor: str, items: Sequence[tuple[str, str, str, bytes]]
) -> int:
    """Append one event of ``kind`` by ``actor`` per ``(subject, ref, digest, salt)``; how many.

    The bulk path of a domain that hashed its bodies and drew its salts itself (one leaf
    per stored record version): the leaves are byte for byte those ``append_many`` writes,
    but the fields common to every event are checked, keyed and spelled once, and on
    PostgreSQL the entries go in as one COPY of lines built here.
    """
    if not items:
        return 0
    moment = clock.now()
    time = _time_text(moment)
    verbatim = _VERBATIM.fullmatch
    if not (len(kind) <= MAX_KIND and verbatim(kind) and verbatim(actor) and verbatim(time)):
        events = [LedgerEvent(kind, actor, s, r, b"", d, salt) for s, r, d, salt in items]
        return append_many(session, events=events)
    secret = keys.tag_secrets()[-1]
    actor_mac = _party_mac(secret.secret, "actor", actor)
    subject_mac = _party_mac
    sha256 = hashlib.sha256
    domain = COMMITMENT_DOMAIN
    plain = _verbatim_items(items)
    # Sorted keys: actor, digest, kind, subject, time, v.
    middle = f'","kind":"{kind}","subject":"'
    end = f'","time":"{time}","v":2}}'
    # (commitment, leaf, ref as a COPY field): every leaf here is its own text spelling.
    leaves: list[tuple[str, str, str]] = []
    for subject, ref, digest, salt in items:
        if len(salt) != SALT_BYTES:
            raise ValidationFailed("a salt must be {size} bytes", field="salt", size=SALT_BYTES)
        if plain:
            text = f'["{kind}","{ref}","{subject}","{actor}","{salt.hex()}","{digest}"]'
        else:
            text = _commitment_text(kind, ref, subject, actor, salt.hex(), digest)
        value = sha256(domain + text.encode()).digest()
        actor_tag = actor_mac(value)[:TAG_BYTES].hex()
        subject_tag = subject_mac(secret.secret, "subject", subject)(value)[:TAG_BYTES].hex()
        hex_value = value.hex()
        leaf = f'{{"actor":"{actor_tag}","digest":"{hex_value}{middle}{subject_tag}{end}'
        leaves.append((hex_value, leaf, ref if plain or verbatim(ref) else copy_text(ref)))
    session.flush()
    if not is_postgres(session):
        rows = []
        for (hex_value, leaf, _), (_, ref, _, _) in zip(leaves, items, strict=True):
            data = leaf.encode()
            rows.append(
                {
                    "digest": bytes.fromhex(hex_value),
                    "leaf": data,
                    "leaf_hash": tree.leaf_hash(data),
                    "created_at": moment,
                    "ref": ref,
                }
            )
        bulk_insert(session, LedgerEntry.__table__, rows)
        return len(rows)
    tail = f"\t{moment.isoformat()}\t"
    leaf_hash = tree.leaf_hash
    lines = [
        # Printable ASCII without a backslash: bytea's escape format takes the leaf as it
        # is; the hashes go in as bytea hex, their backslash escaped for COPY.
        f"\\\\x{hex_value}\t{leaf}\t\\\\x{leaf_hash(leaf.encode()).hex()}{tail}{ref}\n"
        for hex_value, leaf, ref in leaves
    ]
    copy_lines(session, LedgerEntry.__table__, _ENTRY_COLUMNS, lines)
    return len(lines)


def _verbatim_items(items: Sequence[tuple[str, str, str, bytes]]) -> bool:
    """Whether every ``(subject, ref, digest)`` of a chunk can be spelled directly (one regex
    pass over the chunk instead of three per item)."""
    joined = "".join(f"{subject}\n{ref}\n{digest}\n" for subject, ref, digest, _ in items)
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
    batch = limit or get_settings().ledger.sequence_batch
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
            seconds=get_settings().ledger.checkpoint_interval_seconds
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
    cap = get_settings().ledger.max_entries
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
    version = leaf_format(event)
    ref = event["ref"] if version == FORMAT_1 else entry.ref
    return EventCheck(
        index=index,
        event=event,
        format=version,
        ref=ref,
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
        body=check_body(session, kind=event["kind"], ref=ref, digest=event["digest"]),
        checkpoint=checkpoint_view(session, checkpoint),
    )


def find_event(session: Session, *, kind: str, ref: str, digest: str) -> int | None:
    """The index of the leaf of ``kind`` for ``ref`` with this digest, or None if there is none.

    ``digest`` is what the leaf carries (``expected_digest`` of the stored event: the
    commitment of a format-2 event). A pending match is sequenced first. None means nothing
    in the log records that body under that ref: it was added or changed outside the ledger.
    """
    value = bytes.fromhex(_check_digest(digest))

    def matching() -> tuple[list[int], int]:
        found: list[int] = []
        pending = 0
        rows = session.execute(
            select(LedgerEntry.idx, LedgerEntry.leaf, LedgerEntry.ref)
            .where(LedgerEntry.digest == value)
            .order_by(LedgerEntry.idx)
        )
        for idx, leaf, kept_ref in rows:
            try:
                event = decode_leaf(bytes(leaf))
            except ValueError:
                continue
            # A format-2 commitment binds its ref already; the kept one only confirms it.
            named = event["ref"] if leaf_format(event) == FORMAT_1 else kept_ref
            if event["kind"] != kind or named != ref:
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


def indexes_of(session: Session, *, digests: Sequence[str]) -> dict[str, int | None]:
    """The first leaf index of each digest (None while pending), for the digests that have
    a leaf: one query for a page of records shown to a reader."""
    wanted = sorted({bytes.fromhex(_check_digest(d)) for d in digests})
    found: dict[str, int | None] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(LedgerEntry.digest, LedgerEntry.idx).where(
                LedgerEntry.digest.in_(wanted[start : start + 500])
            )
        )
        for value, idx in rows:
            key = bytes(value).hex()
            current = found.get(key)
            if key not in found or (idx is not None and (current is None or idx < current)):
                found[key] = idx
    return found


def party_leaves(
    session: Session, *, role: str, label: str, start: int = 0, limit: int = 100_000
) -> tuple[list[int], int]:
    """The indexes of the format-2 leaves tagged for one party, among the sequenced leaves
    ``[start, start + limit)``; and where the next scan starts (the tree size when done).

    This is what a party does with its own key over ``GET /ledger/entries``, done on the
    node with keys derived from every tag secret (for auditors).
    """
    if start < 0:
        raise ValidationFailed("start must not be negative", field="start")
    party = [_Mac(party_key(role=role, label=label, secret=s)) for s in keys.tag_secrets()]
    size = head(session).size
    stop = min(size, start + limit)
    found: list[int] = []
    rows = session.execute(
        select(LedgerEntry.idx, LedgerEntry.leaf)
        .where(LedgerEntry.idx >= start, LedgerEntry.idx < stop)
        .order_by(LedgerEntry.idx)
        .execution_options(yield_per=10_000)
    )
    for idx, leaf in rows:
        try:
            event = decode_leaf(bytes(leaf))
        except ValueError:
            continue
        if leaf_format(event) != FORMAT_2:
            continue
        value = bytes.fromhex(event["digest"])
        if any(mac(value)[:TAG_BYTES].hex() == event[role] for mac in party):
            found.append(int(idx))
    return found, max(stop, start)


# --- stored bodies -----------------------------------------------------------------------


def register_body(kind: str, fetch: BodyFetch) -> None:
    """Declare how to re-hash the stored body behind a ``ref`` of ``kind``.

    ``fetch(session, ref)`` returns a ``StoredEvent`` for every copy of that body the
    owning domain stores, its digest (as ``digest_of`` computes it) recomputed from the
    stored data now; empty when it is gone. ``check_event`` then says whether the body
    still matches its leaf.
    """
    _check_text(kind, field="kind", limit=MAX_KIND)
    _bodies[kind] = fetch


def unregister_body(kind: str) -> None:
    """Forget a body fetcher (tests)."""
    _bodies.pop(kind, None)


def check_body(session: Session, *, kind: str, ref: str | None, digest: str) -> str:
    """Whether the stored body behind an event still hashes to the digest in its leaf.

    ``matches``, ``differs`` (some stored copy changed after it was logged), ``missing``
    (nothing stored under that ref) or ``unchecked`` (the ledger keeps only digests of this
    kind of event, so there is nothing to re-hash).
    """
    fetch = _bodies.get(kind)
    if fetch is None:
        return BODY_UNCHECKED
    found = list(fetch(session, ref)) if ref else []
    if not found:
        return BODY_MISSING
    matches = all(expected_digest(kind, stored) == digest for stored in found)
    return BODY_MATCHES if matches else BODY_DIFFERS


# --- verification ------------------------------------------------------------------------


def register_source(kind: str, fetch: SourceFetch) -> None:
    """Declare that every event ``fetch`` yields (a ``StoredEvent``, or ``(ref, digest)`` of
    a row written before format 2) must have a leaf of ``kind``."""
    _check_text(kind, field="kind", limit=MAX_KIND)
    _sources[kind] = fetch


def unregister_source(kind: str) -> None:
    """Forget a source (tests)."""
    _sources.pop(kind, None)


def sources() -> dict[str, SourceFetch]:
    """The registered sources by kind."""
    return dict(_sources)
