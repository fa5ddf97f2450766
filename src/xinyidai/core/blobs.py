"""Files people send as proof (a listing's evidence, an objection's or a repair's
documents): checked (how many, how large, and what their first bytes show them to be, the
declared type never trusted), kept by their SHA-256 under a folder of the data directory,
never under the web root: the one way a domain checks, stores and reads such bytes back."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xinyidai.core.errors import PayloadTooLarge, ValidationFailed

# Leading bytes → the type the file is taken as (a PDF, a PNG, a JPEG, an OFD package).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/ofd"),  # OFD (GB/T 33190) is a zip package
)
ALLOWED_TYPES = tuple(kind for _, kind in SIGNATURES)


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


def sniff(content: bytes) -> str | None:
    """The type the bytes show (None: none taken)."""
    for signature, kind in SIGNATURES:
        if content.startswith(signature):
            return kind
    return None


def check(
    uploads: Sequence[Upload], *, field: str, max_files: int, max_mb: int
) -> list[tuple[Upload, str]]:
    """The real uploads (a form's empty file inputs left out) with the types their bytes
    show; refuses too many, an empty one, one too large or one of a type not taken, naming
    the file and ``field``."""
    real = [upload for upload in uploads if upload.content or upload.filename]
    if len(real) > max_files:
        raise ValidationFailed("at most {maximum} documents", field=field, maximum=max_files)
    checked: list[tuple[Upload, str]] = []
    for upload in real:
        name = clean_name(upload.filename)
        if not upload.content:
            raise ValidationFailed("{name} is empty", field=field, name=name)
        if len(upload.content) > max_mb * 1024 * 1024:
            raise PayloadTooLarge(
                "{name} is larger than {maximum} MB", field=field, name=name, maximum=max_mb
            )
        kind = sniff(upload.content)
        if kind is None:
            raise ValidationFailed(
                "{name} is not a PDF, PNG, JPEG or OFD file", field=field, name=name
            )
        checked.append((upload, kind))
    return checked


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
