"""This node's identity: its name (``XYD_NODE_NAME``) and an Ed25519 key that signs every
message it sends to another node.

The key is not the ledger's. The ledger key signs checkpoints under the origin
``<node name>/ledger`` and is shown to witnesses; the node key signs messages under the
node name and is registered with the peers. Both belong to one node name, both are
Ed25519, both live outside the database (``XYD_FEDERATION_KEY_FILE``, default
``<data_dir>/federation/node.key``, mode 0600), and each can be rotated without the other.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from xinyidai.core.errors import Conflict, ValidationFailed
from xinyidai.core.settings import get_settings

KEY_PREFIX = "XYD-NODE-KEY"
PUBLIC_BYTES = 32


def node_name() -> str:
    """The name this node signs as (``XYD_NODE_NAME``)."""
    return get_settings().node_name


def key_path() -> Path:
    configured = get_settings().federation.key_file
    return (
        configured
        if configured is not None
        else get_settings().data_dir / "federation" / "node.key"
    )


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(key: Ed25519PrivateKey) -> str:
    """The public half as peers register it: base64 of its 32 bytes."""
    return base64.b64encode(_raw_public(key.public_key())).decode("ascii")


def create_key(*, path: Path | None = None) -> Ed25519PrivateKey:
    """Make this node's key and write it (mode 0600); never overwrites an existing key."""
    path = path or key_path()
    if path.exists():
        raise Conflict("the node key {path} already exists", field="key_file", path=str(path))
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{KEY_PREFIX} {base64.b64encode(raw).decode('ascii')}\n")
    return key


def ensure_key() -> bool:
    """Make this node's key unless it has one (the demo, ``xyd node join``); whether made."""
    if key_path().exists():
        return False
    create_key()
    return True


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Ed25519PrivateKey:
    prefix, _, text = Path(path).read_text().strip().partition(" ")
    if prefix != KEY_PREFIX:
        raise Conflict("{path} is not a node key", field="key_file", path=path)
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))


def load_key(*, path: Path | None = None) -> Ed25519PrivateKey:
    """This node's key; ``Conflict`` telling the operator to run ``xyd node init``."""
    path = path or key_path()
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise Conflict(
            "the node key {path} is missing; run xyd node init", field="key_file", path=str(path)
        ) from exc
    return _load(str(path), stat.st_mtime_ns)


def parse_public(text: str, *, field: str = "public_key") -> Ed25519PublicKey:
    """A peer's public key from its base64 text; ``ValidationFailed`` naming ``field``."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (ValueError, AttributeError):
        raise ValidationFailed("must be the base64 of an Ed25519 public key", field=field) from None
    if len(raw) != PUBLIC_BYTES:
        raise ValidationFailed("must be the base64 of an Ed25519 public key", field=field)
    return Ed25519PublicKey.from_public_bytes(raw)
