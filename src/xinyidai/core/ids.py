"""Public identifiers: sortable, unguessable, prefixed by what they name (``bat_…``)."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return "".join(reversed(chars))


def new_ulid() -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base32 characters."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return _encode(millis, 10) + _encode(rand, 16)


def new_id(prefix: str) -> str:
    """A public id such as ``bat_01JD…``; the prefix tells a reader what it names."""
    return f"{prefix}_{new_ulid().lower()}"
