"""The signed envelope every message between nodes travels in, and its receipt.

Canonical form: the envelope is a JSON object; its signature is Ed25519 over the
RFC 8785 (JSON Canonicalization Scheme) bytes of the object without its ``signature``
member. Members::

    {"v": 1, "id": "fmsg_…", "from": "<sender node name>", "to": "<receiver node name>",
     "kind": "records" | "usage" | "collected" | "receipt",
     "at": "<UTC time, ISO 8601>", "nonce": "<16 random bytes, hex>",
     "body": {…}, "signature": "<base64 of the 64-byte signature>"}

A receipt is an envelope of kind ``receipt`` from the receiver whose body names the
message (``for``) and the SHA-256 of its canonical bytes (``digest``), with what the
receiver did (``result``). The functions here are pure: no database, no network.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from xinyidai.core import clock
from xinyidai.core.ids import new_id

VERSION = 1
RECEIPT = "receipt"
MEMBERS = ("v", "id", "from", "to", "kind", "at", "nonce", "body", "signature")


class EnvelopeError(ValueError):
    """An envelope that is not one: ``reason`` is a ``RefusalReason`` value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def canonical(envelope: dict[str, Any]) -> bytes:
    """The bytes that are signed: RFC 8785 of the envelope without its signature."""
    return bytes(rfc8785.dumps({k: v for k, v in envelope.items() if k != "signature"}))


def digest(envelope: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical bytes: the message's identity in receipts and ledgers."""
    return hashlib.sha256(canonical(envelope)).hexdigest()


def seal(
    *,
    key: Ed25519PrivateKey,
    sender: str,
    receiver: str,
    kind: str,
    body: dict[str, Any],
    at: datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A new signed envelope."""
    envelope: dict[str, Any] = {
        "v": VERSION,
        "id": message_id or new_id("fmsg"),
        "from": sender,
        "to": receiver,
        "kind": kind,
        "at": clock.as_utc(at or clock.now()).isoformat(),
        "nonce": secrets.token_hex(16),
        "body": body,
    }
    envelope["signature"] = base64.b64encode(key.sign(canonical(envelope))).decode("ascii")
    return envelope


def read(envelope: Any) -> dict[str, Any]:
    """The envelope's members checked for shape (``EnvelopeError`` ``malformed``)."""
    if not isinstance(envelope, dict) or set(envelope) != set(MEMBERS):
        raise EnvelopeError(
            "malformed", "an envelope has exactly the members " + ", ".join(MEMBERS)
        )
    if envelope["v"] != VERSION:
        raise EnvelopeError("malformed", "unknown envelope version")
    for name in ("id", "from", "to", "kind", "at", "nonce", "signature"):
        value = envelope[name]
        if not isinstance(value, str) or not value or len(value) > 200:
            raise EnvelopeError("malformed", f"{name} must be a short text")
    if not isinstance(envelope["body"], dict):
        raise EnvelopeError("malformed", "body must be an object")
    try:
        stamped = datetime.fromisoformat(envelope["at"])
    except ValueError:
        raise EnvelopeError("malformed", "at must be an ISO 8601 time") from None
    if stamped.tzinfo is None:
        raise EnvelopeError("malformed", "at must carry its offset")
    return envelope


def check_signature(envelope: dict[str, Any], key: Ed25519PublicKey) -> None:
    """``EnvelopeError`` ``bad_signature`` unless ``key`` signed the envelope as it is."""
    try:
        signature = base64.b64decode(envelope["signature"], validate=True)
        key.verify(signature, canonical(envelope))
    except (InvalidSignature, ValueError):
        raise EnvelopeError("bad_signature", "the signature does not check") from None


def check_fresh(envelope: dict[str, Any], *, now: datetime, skew: timedelta) -> None:
    """``EnvelopeError`` ``stale`` when its time is further than ``skew`` from ``now``."""
    stamped = datetime.fromisoformat(envelope["at"])
    if abs(clock.as_utc(now) - stamped) > skew:
        raise EnvelopeError("stale", "the message's time is too far from the receiver's clock")


def receipt(
    *,
    key: Ed25519PrivateKey,
    sender: str,
    message: dict[str, Any],
    result: dict[str, Any],
) -> dict[str, Any]:
    """The receiver's signed receipt of ``message``."""
    return seal(
        key=key,
        sender=sender,
        receiver=message["from"],
        kind=RECEIPT,
        body={"for": message["id"], "digest": digest(message), "result": result},
    )
