"""The ledger's own settings (``XYD_LEDGER_*``) and its signing key, kept outside the database."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from xinyidai.core.errors import Conflict
from xinyidai.core.settings import get_settings
from xinyidai.ledger import note


class LedgerSettings(BaseSettings):
    """Knobs of the ledger, read from ``XYD_LEDGER_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="XYD_LEDGER_", env_file=None, extra="ignore")

    key_file: Path | None = None
    checkpoint_interval_seconds: float = 2.0
    sequence_batch: int = 50_000
    max_entries: int = 1000


def ledger_settings() -> LedgerSettings:
    return LedgerSettings()


def origin() -> str:
    """The checkpoint origin line: the node name followed by ``/ledger``."""
    return f"{get_settings().node_name}/ledger"


def key_path() -> Path:
    """Where the log's private key lives: ``XYD_LEDGER_KEY_FILE`` or under the data dir."""
    configured = ledger_settings().key_file
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
