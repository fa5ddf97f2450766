"""The confidentiality agreement (信息保密协议): versioned text; each institution signs the
version in force before its first read, and a new version within a grace period.

A signature is recorded like the enterprise's credit commitment: once per version and
institution, with the digest of the text signed, as a salted leaf of the ledger. What it
grants is written to the institution's clearance (``iam.service.clearance``), which the
access decision reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.supervision.models import Agreement, Signature

DEFAULT_TEXT = Path(__file__).resolve().parent.parent / "data" / "agreement.json"
LEDGER_KIND = "supervision.agreement"
LEDGER_ACTOR = "system:supervision"
LEDGER_SUBJECT = "agreement"
SIGNING_STATES = (OrgState.PENDING, OrgState.ACTIVE, OrgState.SUSPENDED)


def in_force(session: Session) -> Agreement | None:
    """The version in force: the newest."""
    return session.scalar(select(Agreement).order_by(Agreement.version.desc()).limit(1))


def in_force_or_raise(session: Session) -> Agreement:
    agreement = in_force(session)
    if agreement is None:
        raise NotFound("no confidentiality agreement has been published", field="version")
    return agreement


def get_or_raise(session: Session, *, version: int) -> Agreement:
    agreement = session.scalar(select(Agreement).where(Agreement.version == version))
    if agreement is None:
        raise NotFound(
            "the confidentiality agreement has no version {version}",
            field="version",
            version=version,
        )
    return agreement


def versions_statement() -> Select[Any]:
    return select(Agreement).order_by(Agreement.version.desc())


def publish(session: Session, *, principal: Principal, title: str, body: str) -> Agreement:
    """The operator publishes a new version; institutions that signed an older one must
    sign it within ``supervision.agreement_grace_days``."""
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator publishes the agreement", field="version")
    return _publish(session, title=title, body=body, actor=principal.actor)


def _publish(session: Session, *, title: str, body: str, actor: str) -> Agreement:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise ValidationFailed("this field is required", field="title")
    if not body:
        raise ValidationFailed("this field is required", field="body")
    latest = in_force(session)
    # the SHA-256 of the text exactly as it is read and signed, as for the credit commitment
    digest = consent_service.text_digest(title, body)
    if latest is not None and latest.body_sha256 == digest:
        raise Conflict(
            "version {version} already has this text", field="body", version=latest.version
        )
    now = clock.now()
    agreement = Agreement(
        version=(latest.version + 1) if latest else 1,
        title=title,
        body=body,
        body_sha256=digest,
        sign_by=now + timedelta(days=get_settings().supervision.agreement_grace_days),
        published_by=actor,
    )
    session.add(agreement)
    session.flush()
    iam_service.clearance.require_agreement(
        session, version=agreement.version, due_at=agreement.sign_by
    )
    return agreement


def load_default(session: Session) -> int:
    """Publish the shipped agreement if none is published yet; how many were added."""
    if in_force(session) is not None:
        return 0
    shipped = json.loads(DEFAULT_TEXT.read_text(encoding="utf-8"))
    _publish(session, title=shipped["title"], body=shipped["body"], actor="system")
    return 1


def _signature_body(row: Signature) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "organization_id": row.organization_id,
        "version": row.version,
        "text_digest": row.body_sha256,
        "signed_by": row.signer,
        "signed_at": clock.as_utc(row.signed_at).isoformat(timespec="microseconds"),
    }


def sign(session: Session, *, principal: Principal, version: int, accept: bool) -> Signature:
    """The institution signs the version in force (recorded once, and in the ledger)."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution signs the confidentiality agreement", field="version")
    if not principal.is_user:
        raise Forbidden("this needs a signed-in user, not an API key", field="version")
    if principal.organization_state not in SIGNING_STATES:
        raise Forbidden("your organization may not sign now", field="version")
    if not accept:
        raise ValidationFailed("confirm that you have read the agreement", field="accept")
    current = in_force_or_raise(session)
    if version != current.version:
        raise Conflict(
            "version {version} is not in force; sign version {current}",
            field="version",
            version=version,
            current=current.version,
        )
    existing = session.scalar(
        select(Signature).where(
            Signature.agreement_id == current.id,
            Signature.organization_id == principal.organization_public_id,
        )
    )
    if existing is not None:
        raise Conflict(
            "your organization already signed version {version}",
            field="version",
            version=version,
        )
    return record_signature(
        session,
        organization_id=principal.organization_id,
        organization_public_id=principal.organization_public_id,
        organization_name=principal.organization_name,
        agreement=current,
        signer=principal.actor,
        signer_name=principal.display_name or principal.username or principal.actor,
    )


def record_signature(
    session: Session,
    *,
    organization_id: int,
    organization_public_id: str,
    organization_name: str,
    agreement: Agreement,
    signer: str,
    signer_name: str,
) -> Signature:
    """Record one signature of ``agreement`` (a leaf of the ledger) and what it grants."""
    row = Signature(
        public_id=new_id("nda"),
        agreement_id=agreement.id,
        version=agreement.version,
        organization_id=organization_public_id,
        organization_name=organization_name,
        signer=signer,
        signer_name=signer_name,
        body_sha256=agreement.body_sha256,
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
    iam_service.clearance.record_agreement(
        session, organization_id=organization_id, version=agreement.version, signed_at=row.signed_at
    )
    return row


def signatures_statement(*, organization_id: str | None = None) -> Select[Any]:
    """Signatures, newest first; one institution's when named."""
    stmt = select(Signature).order_by(Signature.signed_at.desc(), Signature.id.desc())
    if organization_id is not None:
        stmt = stmt.where(Signature.organization_id == organization_id)
    return stmt


def signed_current(session: Session, *, organization_id: str) -> bool:
    current = in_force(session)
    return current is not None and (
        session.scalar(
            select(Signature.id).where(
                Signature.agreement_id == current.id,
                Signature.organization_id == organization_id,
            )
        )
        is not None
    )


def _stored(row: Signature) -> StoredEvent:
    return StoredEvent(
        ref=row.public_id,
        digest=ledger_service.digest_of(_signature_body(row)),
        salt=bytes(row.salt),
        subject=LEDGER_SUBJECT,
        actor=LEDGER_ACTOR,
    )


def _leaves(session: Session) -> Iterator[StoredEvent]:
    stmt = select(Signature).order_by(Signature.id)
    for row in session.scalars(stmt.execution_options(yield_per=5000)):
        yield _stored(row)


def _bodies(session: Session, ref: str) -> list[StoredEvent]:
    row = session.scalar(select(Signature).where(Signature.public_id == ref))
    return [] if row is None else [_stored(row)]


ledger_service.register_source(LEDGER_KIND, _leaves)
ledger_service.register_body(LEDGER_KIND, _bodies)
