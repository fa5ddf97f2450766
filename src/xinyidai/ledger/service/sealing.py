"""Commitments and tags (format 2): what hides a body, its ref and its parties in a leaf."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xinyidai.core.errors import ValidationFailed
from xinyidai.ledger import keys
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.ledger.service.leaves import (
    MAX_FIELD,
    MAX_KIND,
    TAG_BYTES,
    build_leaf,
    canonical_json,
    check_text,
    verbatim,
)

SALT_BYTES = 16
COMMITMENT_DOMAIN = b"XYD ledger commitment v2\n"
ROLES = ("subject", "actor")


def new_salts(count: int) -> list[bytes]:
    """``count`` fresh random salts of ``SALT_BYTES`` each, drawn in one call."""
    pool = os.urandom(SALT_BYTES * count)
    return [pool[i : i + SALT_BYTES] for i in range(0, len(pool), SALT_BYTES)]


def new_salt() -> bytes:
    """One fresh random salt for one event."""
    return os.urandom(SALT_BYTES)


def commitment_text(kind: str, ref: str, subject: str, actor: str, salt: str, digest: str) -> str:
    """The JSON array ``[kind, ref, subject, actor, salt, digest]`` that a commitment hashes."""
    if verbatim(kind, ref, subject, actor) and _DIGEST.fullmatch(digest):
        return f'["{kind}","{ref}","{subject}","{actor}","{salt}","{digest}"]'
    values = [
        check_text(kind, field="kind", limit=MAX_KIND),
        check_text(ref, field="ref", limit=MAX_FIELD),
        check_text(subject, field="subject", limit=MAX_FIELD),
        check_text(actor, field="actor", limit=MAX_FIELD),
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
    text = commitment_text(kind, ref, subject, actor, salt.hex(), digest)
    return hashlib.sha256(COMMITMENT_DOMAIN + text.encode()).hexdigest()


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class Mac:
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
def _secret_mac(secret: bytes) -> Mac:
    return Mac(secret)


@lru_cache(maxsize=1 << 16)
def party_mac(secret: bytes, role: str, label: str) -> Mac:
    """The MAC of one party's key (kept for the parties a node sees again and again)."""
    return Mac(_secret_mac(secret)(f"{role}\x00{label}".encode()))


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
    actor_tag = party_mac(secret.secret, "actor", actor)(raw)[:TAG_BYTES].hex()
    subject_tag = party_mac(secret.secret, "subject", subject)(raw)[:TAG_BYTES].hex()
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
    return any(party_mac(s.secret, role, label)(value)[:TAG_BYTES].hex() == found for s in secrets)


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
