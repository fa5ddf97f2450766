"""Files people send as proof (a listing's evidence, an objection's or a repair's
documents), kept by their SHA-256 under a folder of the data directory, never under the web
root: the one way a domain stores and reads such bytes back."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: its name, its declared type and its bytes."""

    filename: str
    content_type: str
    content: bytes


def clean_name(filename: str) -> str:
    """A file name safe to store and show: its last part, no control characters or slashes,
    at most 200 characters ("document" when nothing is left)."""
    name = re.sub(r"[\x00-\x1f/\\]", "_", Path(filename or "document").name).strip()
    return (name or "document")[:200]


def path_of(folder: Path, sha256: str) -> Path:
    """Where the bytes of digest ``sha256`` are kept under ``folder``."""
    return folder / sha256[:2] / sha256


def store(folder: Path, content: bytes) -> str:
    """Keep ``content`` under ``folder`` (once: the same bytes share one file, written whole
    or not at all); its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    path = path_of(folder, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
    return digest
