"""Proof files: checked for size and for what their bytes are, kept outside the web root.

The type a browser or client declares is not trusted: the first bytes decide
(``core.blobs.check``: a PDF, a PNG, a JPEG, or an OFD/zip package are taken; anything else
is refused, naming the file). The
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
from xinyidai.core.errors import NotFound
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.rights.models import Document, DocumentOwner

DOCUMENTS_MAX = 10


def limit_bytes() -> int:
    return get_settings().rights.max_document_mb * 1024 * 1024


def documents_dir() -> Path:
    return get_settings().data_dir / "rights" / "documents"


def check(uploads: Sequence[Upload], *, field: str = "files") -> list[tuple[Upload, str]]:
    """The real uploads with their sniffed types (``core.blobs.check`` within rights' limits)."""
    return blobs.check(
        uploads, field=field, max_files=DOCUMENTS_MAX, max_mb=get_settings().rights.max_document_mb
    )


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
