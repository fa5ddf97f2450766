"""The credit commitment (信用承诺书): versioned text, and who signed which version when."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.consent.models import CommitmentSignature, CommitmentText
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent

DEFAULT_TEXT = Path(__file__).resolve().parent.parent / "data" / "commitment.json"
LEDGER_KIND = "consent.commitment"
LEDGER_ACTOR = "system:consent"
LEDGER_SUBJECT = "commitment"
TITLE_MAX = 200
BODY_MAX = 20_000


def text_digest(title: str, body: str) -> str:
    """The SHA-256 of a commitment text exactly as an enterprise reads and signs it."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def latest_text(session: Session) -> CommitmentText | None:
    """The commitment text now in force (the highest version), or None."""
    return session.scalar(select(CommitmentText).order_by(CommitmentText.version.desc()).limit(1))


def latest_text_or_raise(session: Session) -> CommitmentText:
    text = latest_text(session)
    if text is None:
        raise NotFound("no credit commitment text has been published", field="version")
    return text


def get_text_or_raise(session: Session, *, version: int) -> CommitmentText:
    text = session.scalar(select(CommitmentText).where(CommitmentText.version == version))
    if text is None:
        raise NotFound(
            "the credit commitment has no version {version}", field="version", version=version
        )
    return text


def publish_text(session: Session, *, title: str, body: str, actor: str) -> CommitmentText:
    """Publish a new version of the commitment; signatures of earlier versions stay as they are."""
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise ValidationFailed("this field is required", field="title")
    if not body:
        raise ValidationFailed("this field is required", field="body")
    if len(title) > TITLE_MAX:
        raise ValidationFailed("at most {maximum} characters", field="title", maximum=TITLE_MAX)
    if len(body) > BODY_MAX:
        raise ValidationFailed("at most {maximum} characters", field="body", maximum=BODY_MAX)
    latest = latest_text(session)
    digest = text_digest(title, body)
    if latest is not None and latest.digest == digest:
        return latest
    text = CommitmentText(
        version=(latest.version + 1) if latest else 1,
        title=title,
        body=body,
        digest=digest,
        published_by=actor,
        published_at=clock.now(),
    )
    session.add(text)
    session.flush()
    return text


def load_default_text(session: Session) -> int:
    """Publish the shipped commitment text if none is published yet; how many were added."""
    if latest_text(session) is not None:
        return 0
    shipped = json.loads(DEFAULT_TEXT.read_text(encoding="utf-8"))
    publish_text(session, title=shipped["title"], body=shipped["body"], actor="system")
    return 1


def _signature_body(row: CommitmentSignature) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "credit_code": row.credit_code,
        "organization_id": row.organization_id,
        "text_version": row.text_version,
        "text_digest": row.text_digest,
        "signed_by": row.signed_by,
        "user_id": row.user_id,
        "signed_at": clock.as_utc(row.signed_at).isoformat(timespec="microseconds"),
    }


def sign(session: Session, *, principal: Principal, version: int) -> CommitmentSignature:
    """The enterprise signs one version of the commitment (recorded once, and in the ledger)."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise signs the credit commitment", field="version")
    if not principal.is_user:
        raise Forbidden("this needs a signed-in user, not an API key", field="version")
    # A pending claim to a credit code signs nothing in that enterprise's name.
    iam_service.check_active(principal)
    text = get_text_or_raise(session, version=version)
    existing = session.scalar(
        select(CommitmentSignature).where(
            CommitmentSignature.credit_code == principal.credit_code,
            CommitmentSignature.text_version == version,
        )
    )
    if existing is not None:
        raise Conflict(
            "your enterprise already signed version {version} of the credit commitment",
            field="version",
            version=version,
        )
    row = CommitmentSignature(
        public_id=new_id("sig"),
        credit_code=principal.credit_code,
        organization_id=principal.organization_public_id,
        text_version=text.version,
        text_digest=text.digest,
        signed_by=principal.actor,
        user_id=principal.user_public_id,
        signed_at=clock.now(),
    )
    body = _signature_body(row)
    row.digest = ledger_service.digest_of(body)
    row.salt = ledger_service.new_salt()
    session.add(row)
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
        ref=row.public_id,
        body=body,
        salt=row.salt,
    )
    return row


def signatures_of(session: Session, *, credit_code: str) -> list[CommitmentSignature]:
    """An enterprise's signatures, newest version first."""
    return list(session.scalars(signatures_statement(credit_code=credit_code)))


def signatures_statement(*, credit_code: str) -> Select[Any]:
    """An enterprise's signatures, newest version first."""
    return (
        select(CommitmentSignature)
        .where(CommitmentSignature.credit_code == credit_code)
        .order_by(CommitmentSignature.text_version.desc())
    )


def has_signed(session: Session, *, credit_code: str) -> bool:
    """Whether the enterprise signed any version of the commitment."""
    return (
        session.scalar(select(func.count()).where(CommitmentSignature.credit_code == credit_code))
        or 0
    ) > 0


def require_signed(session: Session, *, credit_code: str) -> None:
    """``Conflict`` unless the enterprise has signed the commitment (letters need it)."""
    if not has_signed(session, credit_code=credit_code):
        raise Conflict(
            "sign the credit commitment before granting authorization letters",
            field="commitment",
        )


def signature_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CommitmentSignature)) or 0)


def _stored(row: CommitmentSignature) -> StoredEvent:
    """A signature as the ledger checks it: recomputed from the row, with its salt."""
    return StoredEvent(
        ref=row.public_id,
        digest=ledger_service.digest_of(_signature_body(row)),
        salt=None if row.salt is None else bytes(row.salt),
        subject=LEDGER_SUBJECT,
        actor=LEDGER_ACTOR,
    )


def _signature_leaves(session: Session) -> Iterator[StoredEvent]:
    stmt = select(CommitmentSignature).order_by(CommitmentSignature.id)
    for row in session.scalars(stmt.execution_options(yield_per=5000)):
        yield _stored(row)


def _signature_bodies(session: Session, ref: str) -> list[StoredEvent]:
    row = session.scalar(select(CommitmentSignature).where(CommitmentSignature.public_id == ref))
    return [] if row is None else [_stored(row)]


ledger_service.register_source(LEDGER_KIND, _signature_leaves)
ledger_service.register_body(LEDGER_KIND, _signature_bodies)
