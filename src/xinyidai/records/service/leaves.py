"""Record versions in the ledger: the leaf each version commits to, the stored bodies a
check re-hashes, and what lets an entitled reader check a version it was shown.

Every record version ``store`` writes gets a ledger leaf (kind ``record.version``) carrying
a salted commitment to its data; the department that sent it is the leaf's actor, the
enterprise its subject. ``xyd ledger verify`` re-hashes every stored version against its
leaf through the source and body lookups registered here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.db import lookup_chunks
from xinyidai.core.errors import Forbidden
from xinyidai.iam.models import OrgKind
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.records.models import CreditRecord, RecordVersion
from xinyidai.records.schemas import RecordLedgerOut
from xinyidai.records.service.identity import data_digest

LEDGER_KIND = "record.version"


def ledger_actor(provider: str) -> str:
    """How a department is named as the actor of its record versions' leaves (sealed as a
    tag in the leaf; the department's ledger key is that of this label)."""
    return f"provider:{provider}"


def ledger_party(
    *, organization_kind: str, credit_code: str | None, organization_code: str | None
) -> tuple[str, str]:
    """Which leaves an organization may find with its own ledger key, as (role, label): an
    enterprise those of its records (the subject), a department those it sent (the actor)."""
    if organization_kind == OrgKind.ENTERPRISE and credit_code:
        return "subject", credit_code
    if organization_kind == OrgKind.PROVIDER and organization_code:
        return "actor", ledger_actor(organization_code)
    raise Forbidden("only an enterprise or a department has a ledger key", field="organization")


def _stored_events(
    rid: str,
    version: int,
    subject: str,
    provider: str,
    data: dict[str, Any],
    digest: str,
    salt: bytes | None,
) -> list[StoredEvent]:
    """A stored record version as the ledger checks it: its data re-hashed, and its digest
    column too where the two differ (each must be what the leaf committed to)."""
    ref = f"{rid}:{version}"
    actor = ledger_actor(provider)
    raw = None if salt is None else bytes(salt)
    recomputed = data_digest(data)
    found = [StoredEvent(ref, recomputed, raw, subject, actor)]
    if digest != recomputed:
        found.append(StoredEvent(ref, digest, raw, subject, actor))
    return found


_STORED_CURRENT = (
    CreditRecord.id,
    CreditRecord.version,
    CreditRecord.subject_code,
    CreditRecord.provider,
    CreditRecord.data,
    CreditRecord.digest,
    CreditRecord.salt,
)
_STORED_PAST = (
    RecordVersion.record_id,
    RecordVersion.version,
    RecordVersion.subject_code,
    RecordVersion.provider,
    RecordVersion.data,
    RecordVersion.digest,
    RecordVersion.salt,
)


def _version_leaves(session: Session) -> Iterable[StoredEvent]:
    """Every stored record version, current and past, its data re-hashed: each must have its
    ledger leaf, so a version whose data, digest or salt was edited behind the ledger (or
    that was added around it) is named by ``xyd ledger verify``."""
    for columns in (_STORED_CURRENT, _STORED_PAST):
        statement = select(*columns).execution_options(yield_per=5000)
        for row in session.execute(statement):
            yield from _stored_events(*row)


ledger_service.register_source(LEDGER_KIND, _version_leaves)


def leaf_digest(
    *,
    record_id: str,
    version: int,
    subject_code: str,
    provider: str,
    digest: str,
    salt: bytes | None,
) -> str:
    """The digest the leaf of a record version carries: the salted commitment (format 2),
    or the digest itself for a version stored before salts."""
    stored = StoredEvent(
        f"{record_id}:{version}",
        digest,
        None if salt is None else bytes(salt),
        subject_code,
        ledger_actor(provider),
    )
    return ledger_service.expected_digest(LEDGER_KIND, stored)


def shown_commitment(*, credit_code: str, record: Mapping[str, Any]) -> str:
    """The commitment of a record version as a reader was shown it in full (the API's
    record or version with its ``ledger`` member): recomputed from the data, the department,
    the ids and the salt, as the reader does before asking for the inclusion proof."""
    ledger = record.get("ledger") or {}
    salt = ledger.get("salt")
    return leaf_digest(
        record_id=record["id"],
        version=int(record["version"]),
        subject_code=credit_code,
        provider=record["provider"],
        digest=data_digest(dict(record["data"])),
        salt=None if salt is None else bytes.fromhex(salt),
    )


def current_versions(
    session: Session, *, credit_code: str, category: str
) -> list[tuple[str, int, str, date | None]]:
    """The records of one subject in one category as (record id, current version, the digest
    its leaf carries, event date), most recently changed first: where a ledger check by
    record starts."""
    rows = session.execute(
        select(
            CreditRecord.id,
            CreditRecord.version,
            CreditRecord.provider,
            CreditRecord.digest,
            CreditRecord.salt,
            CreditRecord.event_on,
        )
        .where(CreditRecord.subject_code == credit_code, CreditRecord.category == category)
        .order_by(CreditRecord.updated_at.desc(), CreditRecord.id)
    )
    return [
        (
            rid,
            version,
            leaf_digest(
                record_id=rid,
                version=version,
                subject_code=credit_code,
                provider=provider,
                digest=digest,
                salt=salt,
            ),
            event_on,
        )
        for rid, version, provider, digest, salt, event_on in rows
    ]


def ledger_proofs(
    session: Session, *, subject_code: str, versions: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], RecordLedgerOut]:
    """For record versions shown to a reader entitled to them in full: what lets it check
    that each is in the ledger (its salt, the commitment and the leaf's index).

    Only for versions the reader sees raw: the salt lets whoever holds it test guesses of
    the record's values, as the data itself would. Versions of other subjects are ignored.
    """
    wanted = set(versions)
    if not wanted:
        return {}
    found: dict[tuple[str, int], tuple[str, str, bytes | None]] = {}
    # Current versions this transaction already loaded (the reader's records) are not read
    # again: their stored digest and salt are in the session.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, CreditRecord) and loaded.subject_code == subject_code:
            pair = (loaded.id, loaded.version)
            if pair in wanted and loaded not in session.dirty:
                found[pair] = (loaded.provider, loaded.digest, loaded.salt)
    for columns, model in ((_STORED_CURRENT, CreditRecord), (_STORED_PAST, RecordVersion)):
        # Past versions are read only for what the current rows did not answer.
        ids = sorted({rid for rid, version in wanted if (rid, version) not in found})
        if not ids:
            break
        key = columns[0]
        for condition in lookup_chunks(session, key, ids):
            statement = select(*columns).where(condition, model.subject_code == subject_code)
            for rid, version, _, provider, _, digest, salt in session.execute(statement):
                if (rid, version) in wanted:
                    found[(rid, version)] = (provider, digest, salt)
    digests = {
        pair: leaf_digest(
            record_id=pair[0],
            version=pair[1],
            subject_code=subject_code,
            provider=provider,
            digest=digest,
            salt=salt,
        )
        for pair, (provider, digest, salt) in found.items()
    }
    indexes = ledger_service.indexes_of(session, digests=list(digests.values()))
    return {
        pair: RecordLedgerOut(
            format=ledger_service.FORMAT_1 if found[pair][2] is None else ledger_service.FORMAT_2,
            salt=None if found[pair][2] is None else bytes(found[pair][2] or b"").hex(),
            digest=found[pair][1],
            commitment=value,
            index=indexes.get(value),
        )
        for pair, value in digests.items()
    }


def _version_bodies(session: Session, ref: str) -> list[StoredEvent]:
    """A record version's data as stored now, re-hashed, with its salt.

    The version row, and the record row while that version is current: either may have been
    edited behind the ledger. Empty when neither is there.
    """
    rid, _, number = ref.rpartition(":")
    if not rid or not number.isdigit():
        return []
    version = int(number)
    found: list[StoredEvent] = []
    stored = session.execute(
        select(*_STORED_PAST).where(
            RecordVersion.record_id == rid, RecordVersion.version == version
        )
    ).first()
    if stored is not None:
        found.append(_stored_events(*stored)[0])
    current = session.execute(select(*_STORED_CURRENT).where(CreditRecord.id == rid)).first()
    if current is not None and current[1] == version:
        found.append(_stored_events(*current)[0])
    return found


ledger_service.register_body(LEDGER_KIND, _version_bodies)
