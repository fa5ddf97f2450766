"""Proof files: checked for size and for what their bytes are, kept outside the web root.

The type a browser or client declares is not trusted: the first bytes decide (a PDF, a PNG,
a JPEG, or an OFD/zip package are taken; anything else is refused, naming the file). The
bytes are kept under the data folder (``<data dir>/rights/documents``) by their SHA-256,
which is never served as a static file; a document is read back through its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import blobs
from xinyidai.core.blobs import Upload as Upload  # what callers hand in
from xinyidai.core.blobs import clean_name
from xinyidai.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.rights.models import Document, DocumentOwner

DOCUMENTS_MAX = 10

# Leading bytes → the type the file is taken as.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/ofd"),  # OFD (GB/T 33190) is a zip package
)
ALLOWED_TYPES = tuple(kind for _, kind in SIGNATURES)


def limit_bytes() -> int:
    return get_settings().rights.max_document_mb * 1024 * 1024


def sniff(content: bytes) -> str | None:
    """The type the bytes show (None: none taken)."""
    for signature, kind in SIGNATURES:
        if content.startswith(signature):
            return kind
    return None


def documents_dir() -> Path:
    return get_settings().data_dir / "rights" / "documents"


def check(uploads: Sequence[Upload], *, field: str = "files") -> list[tuple[Upload, str]]:
    """The real uploads with their sniffed types; refuses too many, empty, too large or of a
    type not taken, naming the file and ``field``."""
    real = [upload for upload in uploads if upload.content or upload.filename]
    if len(real) > DOCUMENTS_MAX:
        raise ValidationFailed("at most {maximum} documents", field=field, maximum=DOCUMENTS_MAX)
    checked: list[tuple[Upload, str]] = []
    for upload in real:
        name = clean_name(upload.filename)
        if not upload.content:
            raise ValidationFailed("{name} is empty", field=field, name=name)
        if len(upload.content) > limit_bytes():
            raise PayloadTooLarge(
                "{name} is larger than {maximum} MB",
                field=field,
                name=name,
                maximum=get_settings().rights.max_document_mb,
            )
        kind = sniff(upload.content)
        if kind is None:
            raise ValidationFailed(
                "{name} is not a PDF, PNG, JPEG or OFD file", field=field, name=name
            )
        checked.append((upload, kind))
    return checked


def keep(
    session: Session,
    *,
    owner_kind: DocumentOwner,
    owner_id: int,
    uploads: Sequence[tuple[Upload, str]],
    actor: str,
) -> list[Document]:
    """Store checked uploads for their owner."""
    rows = []
    for upload, kind in uploads:
        digest = blobs.store(documents_dir(), upload.content)
        row = Document(
            public_id=new_id("doc"),
            owner_kind=owner_kind,
            owner_id=owner_id,
            filename=clean_name(upload.filename),
            content_type=kind,
            size=len(upload.content),
            sha256=digest,
            uploaded_by=actor,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def documents_of(session: Session, *, owner_kind: DocumentOwner, owner_id: int) -> list[Document]:
    return list(
        session.scalars(
            select(Document)
            .where(Document.owner_kind == owner_kind, Document.owner_id == owner_id)
            .order_by(Document.id)
        )
    )


def read_or_raise(
    session: Session, *, owner_kind: DocumentOwner, owner_id: int, document_id: str
) -> tuple[Document, bytes]:
    """A document of this owner and its bytes; ``NotFound`` naming ``document_id``."""
    row = session.scalar(
        select(Document).where(
            Document.owner_kind == owner_kind,
            Document.owner_id == owner_id,
            Document.public_id == document_id,
        )
    )
    path = None if row is None else blobs.path_of(documents_dir(), row.sha256)
    if row is None or path is None or not path.exists():
        raise NotFound("no document {id}", field="document_id", id=document_id)
    return row, path.read_bytes()
