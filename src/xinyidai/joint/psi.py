"""Private set intersection by Diffie–Hellman (the protocol of Meadows 1986 and Huberman,
Franklin and Hogg 1999), on the prime-order group of edwards25519 through libsodium.

Pure functions: no I/O, no database. Two parties hold sets of identifiers (credit codes);
each has a secret scalar for one alignment only.

1. The institution hashes each of its identifiers to a point, raises it to its secret
   ``a`` and sends the points, shuffled: ``H(x)^a``.
2. The center raises each point it received to its secret ``c`` and sends them back in
   the order received, ``H(x)^ac``; and sends its own identifiers' points, shuffled,
   ``H(y)^c``.
3. The institution raises the center's points to ``a`` (``H(y)^ca``) and compares: an
   identifier of its own whose ``H(x)^ac`` is among them is in both sets. It tells the
   center the positions (in the center's order) of the points that matched, so both hold
   the intersection, in the same order, and nothing else.

What each learns (semi-honest parties, the decisional Diffie–Hellman assumption in the
group, ``H`` a random oracle): the institution learns the intersection and the size of the
center's set; the center learns the size of the institution's set and the intersection.
Points outside the intersection are pseudo-random to the other party.

Hashing to the group: SHA-512 of a domain-separated identifier, its first 32 bytes mapped by
libsodium's ``crypto_core_ed25519_from_uniform`` (Elligator 2, then the cofactor cleared,
so every point is in the prime-order subgroup); scalars are reduced mod the group order
and multiplied without clamping (``crypto_scalarmult_ed25519_noclamp``), so that
``(P^a)^c == (P^c)^a``. (PyNaCl 1.6 exposes no ristretto255 binding; the edwards25519
subgroup with cofactor cleared serves the same purpose here: every point a party sends is
checked to be a valid point of the main subgroup before it is used.)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from nacl import bindings
from nacl.exceptions import RuntimeError as NaclRuntimeError

from xinyidai.core.errors import ValidationFailed

POINT_BYTES = 32
DOMAIN = b"xyd.joint.psi.v1\x00"


def new_secret() -> bytes:
    """A fresh secret scalar for one alignment (never zero)."""
    while True:
        scalar = bindings.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
        if any(scalar):
            return bytes(scalar)


def hash_to_point(identifier: str) -> bytes:
    """The identifier's point of the prime-order group."""
    digest = hashlib.sha512(DOMAIN + identifier.encode("utf-8")).digest()
    return bytes(bindings.crypto_core_ed25519_from_uniform(digest[:32]))


def blind(secret: bytes, point: bytes) -> bytes:
    """``point`` raised to ``secret``; ``ValidationFailed`` for bytes that are not a point of
    the group (a party that sends rubbish gets an error, never a wrong intersection)."""
    if len(point) != POINT_BYTES or not bindings.crypto_core_ed25519_is_valid_point(point):
        raise ValidationFailed("not a point of the group", field="points")
    try:
        return bytes(bindings.crypto_scalarmult_ed25519_noclamp(secret, point))
    except NaclRuntimeError:
        raise ValidationFailed("not a point of the group", field="points") from None


def blind_identifiers(secret: bytes, identifiers: Sequence[str]) -> list[bytes]:
    """Step 1 (or the center's half of step 2): ``H(x)^secret`` for each identifier, in
    the identifiers' order (the caller shuffles)."""
    return [
        bytes(bindings.crypto_scalarmult_ed25519_noclamp(secret, hash_to_point(x)))
        for x in identifiers
    ]


def blind_points(secret: bytes, points: Sequence[bytes]) -> list[bytes]:
    """Step 2: each point received raised to ``secret``, in the order received."""
    return [blind(secret, point) for point in points]


def shuffled(values: Sequence[str]) -> list[str]:
    """``values`` in an order drawn from the system's randomness."""
    order = list(values)
    secrets.SystemRandom().shuffle(order)
    return order


@dataclass(frozen=True)
class Match:
    """One identifier of the institution found in the center's set: its own identifier and
    the position of the center's point that matched."""

    identifier: str
    position: int


def intersect(
    secret: bytes,
    identifiers: Sequence[str],
    double_blinded: Sequence[bytes],
    center_points: Sequence[bytes],
) -> list[Match]:
    """Step 3, at the institution: its identifiers (in the order it blinded them), the
    center's answers to them (``H(x)^ac``, same order) and the center's points
    (``H(y)^c``, the center's order); the matches, in the center's order."""
    if len(double_blinded) != len(identifiers):
        raise ValidationFailed(
            "the answer has {got} points for {sent} sent",
            field="points",
            got=len(double_blinded),
            sent=len(identifiers),
        )
    mine = {
        point: identifier for point, identifier in zip(double_blinded, identifiers, strict=True)
    }
    matches = [
        Match(mine[theirs], position)
        for position, theirs in enumerate(blind_points(secret, center_points))
        if theirs in mine
    ]
    return matches
