"""Batches: opened for a department's own active categories, found again for the same
file, listed for who may see them, and their rejected rows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest.models import DONE, FAILED, QUEUED, Batch, Rejection

REGISTRATION = "registration"


@dataclass(frozen=True)
class FeedFile:
    """One file to ingest, with the provider and category it carries."""

    path: Path
    provider: str
    category: str
    format: str | None = None


def summary(batch: Batch) -> dict[str, Any]:
    """The one-line account of a batch (``xyd ingest --json`` and the API)."""
    return {
        "batch_id": batch.id,
        "path": batch.filename,
        "provider": batch.provider,
        "category": batch.category,
        "state": batch.state,
        "total": batch.total,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
        "updated": batch.updated,
        "conflicts": batch.conflicts,
        "unknown_headers": batch.unknown_headers,
        "error": batch.error,
        "error_detail": batch.error_detail,
    }


def get_or_raise(session: Session, *, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("no batch {batch_id}", field="batch_id", batch_id=batch_id)
    return batch


def may_see_batch(principal: Principal, batch: Batch) -> bool:
    """The operator sees every batch; a provider those filed under its department code."""
    if principal.organization_kind == OrgKind.OPERATOR:
        return True
    return (
        principal.organization_kind == OrgKind.PROVIDER
        and bool(principal.organization_code)
        and batch.provider == principal.organization_code
    )


def batches_statement(
    *, principal: Principal, provider: str | None = None, category: str | None = None
) -> Select[Any]:
    """The batches the principal may list, newest first (optionally of one category): a
    provider its own, under its department code; the operator every provider's, or one's."""
    if principal.organization_kind == OrgKind.PROVIDER:
        if not principal.organization_code:
            raise Forbidden("your organization has no department code", field="provider")
        provider = principal.organization_code
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("your organization may not do this")
    stmt = select(Batch).order_by(Batch.created_at.desc(), Batch.id.desc())
    if provider:
        stmt = stmt.where(Batch.provider == provider)
    if category:
        stmt = stmt.where(Batch.category == category)
    return stmt


def create_batch(
    session: Session,
    *,
    provider: str,
    category: str,
    source: str,
    actor: str | None,
    filename: str | None = None,
    fmt: str | None = None,
    parent_batch_id: str | None = None,
) -> Batch:
    """Open a batch for one active category sent by its source department.

    Every way data comes in (an upload, a push, a resubmission, a file or folder at the
    console) opens its batch here, so this is where a department is kept to its own
    categories (``require_source``).
    """
    spec_row = _open_category(session, provider=provider, category=category)
    batch = Batch(
        id=new_id("bat"),
        provider=provider.strip(),
        category=category,
        category_version=spec_row.version,
        source=source,
        filename=filename,
        format=fmt,
        state=QUEUED,
        unknown_headers=[],
        created_by=actor,
        parent_batch_id=parent_batch_id,
    )
    session.add(batch)
    session.flush()
    return batch


def _open_category(session: Session, *, provider: str, category: str) -> Any:
    """The active category a batch of ``provider`` is opened for (refused otherwise)."""
    if not provider or not provider.strip():
        raise ValidationFailed("a provider is required", field="provider")
    spec_row = catalog_service.get_by_code_or_raise(session, code=category, field="category")
    if not spec_row.active:
        raise ValidationFailed(
            "category {category} is retired and accepts no data",
            field="category",
            category=category,
        )
    require_source(category=spec_row.code, source=spec_row.provider, provider=provider.strip())
    return spec_row


def require_source(*, category: str, source: str, provider: str) -> None:
    """Refuse data of ``category`` (whose source department in the catalogue is
    ``source``) from any other department ``provider``.

    A department is the source of its own categories only: what it sends of another's
    would be read by everyone as that department's word (a tax office filing a court's
    dishonest-debtor list). The operator moves a category to another department in the
    catalogue (a new version of the category).
    """
    if source != provider:
        raise Forbidden(
            "category {category} is supplied by department {owner}; "
            "department {provider} may not send it",
            field="category",
            error_code="not_source_department",
            category=category,
            owner=source,
            provider=provider,
        )


def check_sources(session: Session, feeds: Sequence[FeedFile]) -> None:
    """Refuse a set of files before any is read when one names a provider that is not its
    category's source (a manifest line filing a court category under the tax office), so
    that a folder goes in whole or not at all on this account. A category the catalogue
    lacks is left to its own file's batch to report."""
    for feed in feeds:
        found = catalog_service.get_by_code(session, code=feed.category)
        if found is not None:
            require_source(
                category=found.code, source=found.provider, provider=feed.provider.strip()
            )


def file_checksum(path: Path) -> str:
    """The SHA-256 of a file (what tells that a file sent again is the same one)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def done_file_batch(
    session: Session, *, provider: str, category: str, checksum: str
) -> Batch | None:
    """The batch that took in the same bytes of a file whole (department, category,
    catalogue version and checksum), if any."""
    spec_row = _open_category(session, provider=provider, category=category)
    return session.scalars(
        select(Batch)
        .where(
            Batch.checksum == checksum,
            Batch.provider == provider.strip(),
            Batch.category == category,
            Batch.category_version == spec_row.version,
            Batch.state == DONE,
        )
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(1)
    ).first()


def open_file_batch(
    session: Session,
    *,
    provider: str,
    category: str,
    source: str,
    actor: str | None,
    filename: str,
    fmt: str | None,
    checksum: str,
) -> Batch:
    """The batch a file is read into: its failed batch (same department, category,
    catalogue version and checksum) taken up again where its last committed chunk ended, or
    a new one (a batch still ``running`` whose worker is gone is taken up once it is
    swept)."""
    spec_row = _open_category(session, provider=provider, category=category)
    candidate = session.scalar(
        select(Batch.id)
        .where(
            Batch.checksum == checksum,
            Batch.provider == provider.strip(),
            Batch.category == category,
            Batch.category_version == spec_row.version,
            Batch.state == FAILED,
        )
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(1)
    )
    if candidate is not None:
        taken = session.execute(
            update(Batch)
            .where(Batch.id == candidate, Batch.state == FAILED)
            .values(state=QUEUED)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:  # not taken up by another process meanwhile
            batch = get_or_raise(session, batch_id=candidate)
            session.refresh(batch)
            return batch
    batch = create_batch(
        session,
        provider=provider,
        category=category,
        source=source,
        actor=actor,
        filename=filename,
        fmt=fmt,
    )
    batch.checksum = checksum
    return batch


def feeds_in(path: Path, *, provider: str | None, category: str | None) -> list[FeedFile]:
    """The files under ``path``: one file, or a ``xyd synth`` folder with its manifest."""
    if path.is_dir():
        manifest = path / "manifest.json"
        if not manifest.exists():
            raise ValidationFailed(
                "{path} is a folder without manifest.json", field="path", path=str(path)
            )
        entries = json.loads(manifest.read_text(encoding="utf-8"))["feeds"]
        feeds = [
            FeedFile(path / e["path"], e["provider"], e["category"], e.get("format"))
            for e in entries
        ]
        # Registration first: it creates the subjects the other categories speak of.
        return sorted(feeds, key=lambda f: (f.category != REGISTRATION, str(f.path)))
    if not path.exists():
        raise ValidationFailed("no such file: {path}", field="path", path=str(path))
    if not provider:
        raise ValidationFailed("--provider is required for a single file", field="provider")
    if not category:
        raise ValidationFailed("--category is required for a single file", field="category")
    return [FeedFile(path, provider, category)]


def rejections_of(
    session: Session, *, batch_id: str, page: int = 1, size: int = 50, open_only: bool = False
) -> tuple[Sequence[Rejection], int]:
    """A batch's rejected rows in file order."""
    get_or_raise(session, batch_id=batch_id)
    return paginate(
        session, rejections_statement(batch_id=batch_id, open_only=open_only), page=page, size=size
    )


def rejections_statement(*, batch_id: str, open_only: bool = False) -> Select[Any]:
    """A batch's rejected rows (only those not yet resolved: ``open_only``) in file order."""
    stmt = select(Rejection).where(Rejection.batch_id == batch_id).order_by(Rejection.position)
    if open_only:
        stmt = stmt.where(Rejection.resolved_batch_id.is_(None))
    return stmt


def iter_rejections(session: Session, *, batch_id: str) -> Iterator[Rejection]:
    """Every rejected row of a batch, streamed (for CSV and Excel downloads)."""
    get_or_raise(session, batch_id=batch_id)
    yield from session.scalars(
        select(Rejection)
        .where(Rejection.batch_id == batch_id)
        .order_by(Rejection.position)
        .execution_options(yield_per=1000)
    )


def providers(session: Session) -> list[str]:
    """The department codes that have sent at least one batch, in code order."""
    return list(session.scalars(select(Batch.provider).distinct().order_by(Batch.provider)))
