"""The ledger's signing key and its tag secret, both kept outside the database (where:
``settings.ledger``, variables ``XYD_LEDGER_*``)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xinyidai.core.errors import Conflict
from xinyidai.core.settings import get_settings
from xinyidai.ledger import note


def origin() -> str:
    """The checkpoint origin line: the node name followed by ``/ledger``."""
    return f"{get_settings().node_name}/ledger"


def key_path() -> Path:
    """Where the log's private key lives: ``XYD_LEDGER_KEY_FILE`` or under the data dir."""
    configured = get_settings().ledger.key_file
    return configured if configured is not None else get_settings().data_dir / "ledger" / "log.key"


def create_key(*, path: Path | None = None, name: str | None = None) -> note.Signer:
    """Make the log's key pair and write it (mode 0600); never overwrites an existing key."""
    path = path or key_path()
    if path.exists():
        raise Conflict("the ledger key {path} already exists", field="key_file", path=str(path))
    signer = note.generate_signer(name or origin())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.text + "\n")
    return signer


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> note.Signer:
    return note.parse_signer(Path(path).read_text())


def load_key(*, path: Path | None = None) -> note.Signer:
    """The log's signing key; ``Conflict`` telling the operator to run ``xyd ledger init``."""
    path = path or key_path()
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise Conflict(
            "the ledger key {path} is missing; run xyd ledger init",
            field="key_file",
            path=str(path),
        ) from exc
    return _load(str(path), stat.st_mtime_ns)


# --- the tag secret ----------------------------------------------------------------------

TAG_SECRET_PREFIX = "XYD-LEDGER-TAG-SECRET"
TAG_SECRET_BYTES = 32


@dataclass(frozen=True)
class TagSecret:
    """One secret of the node that keys the party tags of format-2 leaves.

    ``id`` (8 hex digits of the secret's SHA-256) names it to the parties handed keys derived
    from it; it says nothing about the secret.
    """

    id: str
    secret: bytes


def tag_secret_path() -> Path:
    """Where the tag secrets live: ``XYD_LEDGER_TAG_SECRET_FILE`` or next to the log's key."""
    configured = get_settings().ledger.tag_secret_file
    if configured is not None:
        return configured
    return key_path().with_name("tags.key")


def _secret_of(secret: bytes) -> TagSecret:
    return TagSecret(id=hashlib.sha256(secret).hexdigest()[:8], secret=secret)


def add_tag_secret(*, path: Path | None = None) -> TagSecret:
    """Draw a new tag secret and add it to the file (created with mode 0600).

    New leaves are tagged with the newest secret; the older ones stay in the file so that
    the leaves they tagged can still be matched (rotation, docs/ledger.md).
    """
    path = path or tag_secret_path()
    secret = _secret_of(os.urandom(TAG_SECRET_BYTES))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(f"{TAG_SECRET_PREFIX} {base64.b64encode(secret.secret).decode()}\n")
    return secret


@lru_cache(maxsize=8)
def _load_tag_secrets(path: str, mtime_ns: int, size: int) -> tuple[TagSecret, ...]:
    found = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        prefix, _, value = line.partition(" ")
        try:
            secret = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            secret = b""
        if prefix != TAG_SECRET_PREFIX or len(secret) != TAG_SECRET_BYTES:
            raise Conflict(
                "line {line} of the ledger tag secret file {path} is not a tag secret",
                field="tag_secret_file",
                line=number,
                path=path,
            )
        found.append(_secret_of(secret))
    if not found:
        raise Conflict(
            "the ledger tag secret file {path} is empty", field="tag_secret_file", path=path
        )
    return tuple(found)


def tag_secrets(*, path: Path | None = None) -> tuple[TagSecret, ...]:
    """Every tag secret of the node, oldest first (the last one tags new leaves).

    Outside production a missing file is made at first use, as the demo makes the log's key;
    in production it is an error telling the operator to run ``xyd ledger init``.
    """
    path = path or tag_secret_path()
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        if get_settings().env == "production":
            raise Conflict(
                "the ledger tag secret {path} is missing; run xyd ledger init",
                field="tag_secret_file",
                path=str(path),
            ) from exc
        with contextlib.suppress(FileExistsError):  # another process made it first
            _create_first(path)
        stat = path.stat()
    return _load_tag_secrets(str(path), stat.st_mtime_ns, stat.st_size)


def _create_first(path: Path) -> None:
    """Make the file with one secret, whole or not at all: written aside, then linked into
    place, which fails if another process made it meanwhile (never two first secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = base64.b64encode(os.urandom(TAG_SECRET_BYTES)).decode()
    fd, aside = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{TAG_SECRET_PREFIX} {secret}\n")
    try:
        os.link(aside, path)
    finally:
        os.unlink(aside)
