"""Secrets the node must use again but that nobody reading the database should be able to
use: sealed with a key derived from ``XYD_SECRET_KEY``.

A webhook signing secret cannot be stored as a one-way hash (the node signs with it), so it
is stored encrypted: AES-256-GCM under a key derived from ``XYD_SECRET_KEY`` with HKDF
(SHA-256, its own ``info`` label, so the key is used for nothing else), a random 96-bit
nonce per value, and the row it belongs to as associated data (``context``), so a sealed
value copied into another row does not open there. A database dump alone yields nothing
usable; the process that holds ``XYD_SECRET_KEY`` opens them.

Changing ``XYD_SECRET_KEY`` makes every sealed value unreadable: the owners of those
secrets then rotate them (docs/operations.md).
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xinyidai.core.settings import get_settings

PREFIX = "seal1:"
HKDF_INFO = b"xyd sealed secrets v1"
NONCE_BYTES = 12


class SealBroken(ValueError):
    """A sealed value that does not open: another key, another row, or altered."""


@lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(key)


def seal(plain: str, *, context: str) -> str:
    """``plain`` encrypted for the row named by ``context``; text safe for any column."""
    nonce = os.urandom(NONCE_BYTES)
    box = _cipher(get_settings().secret_key).encrypt(nonce, plain.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()


def unseal(sealed: str, *, context: str) -> str:
    """The plain value of ``sealed``; ``SealBroken`` when it does not open here."""
    if not sealed.startswith(PREFIX):
        raise SealBroken("not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :].encode())
        opened = _cipher(get_settings().secret_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, ValueError) as error:
        raise SealBroken("the sealed value does not open with this node's key") from error
    return opened.decode()
