"""Appending events: one at a time, many in one statement, or a domain's pre-hashed bulk.

An append inserts a pending entry (no index) in the caller's transaction; the sequencer
gives it its index later, unless a bulk job asks to sequence at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import bulk_insert, copy_lines, copy_text, is_postgres
from xinyidai.core.errors import ValidationFailed
from xinyidai.ledger import keys, tree
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.schemas import LedgerEvent
from xinyidai.ledger.service.leaves import (
    TAG_BYTES,
    VERBATIM,
    VERBATIM_FIELD,
    digest_of,
    time_text,
    verbatim,
)
from xinyidai.ledger.service.sealing import (
    COMMITMENT_DOMAIN,
    SALT_BYTES,
    commitment_text,
    new_salt,
    party_mac,
    seal,
)
from xinyidai.ledger.service.sequencing import lock_head, read_nodes, store_nodes


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
    row = _entry_row(event, moment, time_text(moment), keys.tag_secrets()[-1])
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
    time = time_text(moment)
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
        store_nodes(session, created)
        locked.size = size + len(rows)
        locked.root_hash = root
        locked.updated_at = clock.now()
        session.flush()
    return len(rows)


# A chunk's subjects, refs and digests joined by newlines (which none may hold): one match
# says each is its own JSON spelling and each digest is 64 lowercase hex digits.
_VERBATIM_ITEMS = re.compile(rf"(?:{VERBATIM_FIELD}\n{VERBATIM_FIELD}\n[0-9a-f]{{64}}\n)*")


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
    time = time_text(moment)
    if not verbatim(kind, actor, time):
        events = [LedgerEvent(kind, actor, s, r, b"", d, salt) for s, r, d, salt in items]
        return append_many(session, events=events)
    secret = keys.tag_secrets()[-1]
    actor_mac = party_mac(secret.secret, "actor", actor)
    subject_mac = party_mac
    sha256 = hashlib.sha256
    domain = COMMITMENT_DOMAIN
    plain = verbatim_items(items)
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
            text = commitment_text(kind, ref, subject, actor, salt.hex(), digest)
        value = sha256(domain + text.encode()).digest()
        actor_tag = actor_mac(value)[:TAG_BYTES].hex()
        subject_tag = subject_mac(secret.secret, "subject", subject)(value)[:TAG_BYTES].hex()
        hex_value = value.hex()
        leaf = f'{{"actor":"{actor_tag}","digest":"{hex_value}{middle}{subject_tag}{end}'
        leaves.append(
            (hex_value, leaf, ref if plain or VERBATIM.fullmatch(ref) else copy_text(ref))
        )
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


def verbatim_items(items: Sequence[tuple[str, str, str, bytes]]) -> bool:
    """Whether every ``(subject, ref, digest)`` of a chunk can be spelled directly (one regex
    pass over the chunk instead of three per item)."""
    joined = "".join(f"{subject}\n{ref}\n{digest}\n" for subject, ref, digest, _ in items)
    return _VERBATIM_ITEMS.fullmatch(joined) is not None
