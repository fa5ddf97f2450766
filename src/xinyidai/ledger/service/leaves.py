"""Events and their leaves: canonical JSON, digests, and the bytes of a leaf of each format."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import rfc8785

from xinyidai.core.errors import ValidationFailed

FORMAT_1 = 1
FORMAT_2 = 2
# The members of a leaf of each format, sorted (format 1: written before salted commitments).
EVENT_FIELDS = ("actor", "digest", "kind", "ref", "subject", "time")
EVENT_FIELDS_V2 = ("actor", "digest", "kind", "subject", "time", "v")
# The actor and subject tags of a format-2 leaf are this many bytes.
TAG_BYTES = 16
MAX_FIELD = 200
MAX_KIND = 60


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


def check_text(value: str, *, field: str, limit: int) -> str:
    """``value`` if it is a non-blank string of at most ``limit`` characters; else
    ``ValidationFailed`` naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("{name} must be a non-empty string", field=field, name=field)
    if len(value) > limit:
        raise ValidationFailed(
            "{name} is longer than {limit} characters", field=field, name=field, limit=limit
        )
    return value


def time_text(moment: datetime) -> str:
    """The time a leaf carries: ISO 8601 to the microsecond, UTC spelled ``Z``."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


# Printable ASCII without '"' and '\\', not starting with a space: such a string is its own
# JSON spelling, so an event made only of them is written directly, byte for byte what
# ``canonical_json`` gives (the tests hold the two paths to that).
VERBATIM_FIELD = rf"[!#-\[\]-~][ -!#-\[\]-~]{{0,{MAX_FIELD - 1}}}"
VERBATIM = re.compile(VERBATIM_FIELD)


def verbatim(kind: str, *fields: str) -> bool:
    """Whether an event's kind (within ``MAX_KIND``) and these fields are each their own JSON
    spelling, so the leaf or commitment holding them can be written directly."""
    match = VERBATIM.fullmatch
    if len(kind) > MAX_KIND or not match(kind):
        return False
    return all(match(value) for value in fields)


def build_leaf_v1(
    *, kind: str, actor: str, subject: str, ref: str, digest: str, time: str
) -> bytes:
    """The exact bytes of a format-1 leaf (written before format 2; kept to read them)."""
    if verbatim(kind, actor, subject, ref, digest, time):
        return (
            f'{{"actor":"{actor}","digest":"{digest}","kind":"{kind}",'
            f'"ref":"{ref}","subject":"{subject}","time":"{time}"}}'
        ).encode()
    event = {
        "kind": check_text(kind, field="kind", limit=MAX_KIND),
        "actor": check_text(actor, field="actor", limit=MAX_FIELD),
        "subject": check_text(subject, field="subject", limit=MAX_FIELD),
        "ref": check_text(ref, field="ref", limit=MAX_FIELD),
        "digest": digest,
        "time": time,
    }
    return canonical_json(event)


def build_leaf(*, kind: str, actor_tag: str, subject_tag: str, digest: str, time: str) -> bytes:
    """The exact bytes of a format-2 leaf: the canonical JSON of the sealed event.

    ``digest`` is the event's commitment and the tags are those of its actor and subject
    (``seal`` makes all three); the ref is not in the leaf.
    """
    if verbatim(kind, time):
        return (
            f'{{"actor":"{actor_tag}","digest":"{digest}","kind":"{kind}",'
            f'"subject":"{subject_tag}","time":"{time}","v":2}}'
        ).encode()
    event = {
        "kind": check_text(kind, field="kind", limit=MAX_KIND),
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
