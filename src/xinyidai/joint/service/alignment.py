"""Alignment: the private set intersection of an institution's customers with the center's
enterprises whose letters allow ``joint_modelling`` to that institution (``joint.psi``).

At the center, ``offer`` answers the institution's blinded points and offers the blinded
points of its own enterprises, shuffled, keeping their order (and forgetting its secret);
``match`` takes the positions the institution found matching and keeps the intersection,
in the center's order, for the jobs that use it; it is then a salted leaf of the ledger
(``joint.alignment``: the parties, the sizes each brought, the size of the intersection,
no identifier). At the institution, ``customers_or_raise`` checks its list before anything
is sent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import JOINT_MODELLING
from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.joint import psi
from xinyidai.joint.models import Alignment, AlignmentState
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.registry import service as registry_service

LEDGER_KIND = "joint.alignment"
LEDGER_SUBJECT = "joint"
MAX_POINTS = 500_000  # an institution's customers in one alignment


def customers_or_raise(codes: Sequence[str]) -> list[str]:
    """An institution's customer list as credit codes, each checked (GB 32100-2015), without
    repeats; ``ValidationFailed`` naming the first bad row and why, before anything is sent."""
    seen: dict[str, None] = {}
    for row, raw in enumerate(codes, start=1):
        try:
            code = registry_service.parse_code_or_raise(raw)
        except ValidationFailed as error:
            raise ValidationFailed(
                "row {row}: {reason}", field="customers", row=row, reason=error.translated()
            ) from None
        seen[code] = None
    if not seen:
        raise ValidationFailed("the customer list is empty", field="customers")
    return list(seen)


def encode_points(points: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(point).decode("ascii") for point in points]


def decode_points(values: Sequence[str], *, field: str = "points") -> list[bytes]:
    """Points sent as base64 text; ``ValidationFailed`` naming the first that is not."""
    points: list[bytes] = []
    for position, value in enumerate(values):
        try:
            point = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            point = b""
        if len(point) != psi.POINT_BYTES:
            raise ValidationFailed(
                "point {position} is not 32 bytes of base64", field=field, position=position
            )
        points.append(point)
    return points


def _check_institution(actor: Principal) -> None:
    if actor.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution may align its customers")


def offer(
    session: Session, *, actor: Principal, points: Sequence[bytes]
) -> tuple[Alignment, list[bytes], list[bytes]]:
    """Step 2 at the center: the institution's points raised to a fresh secret (its order),
    and the center's enterprises with a ``joint_modelling`` letter to it, blinded and
    shuffled; the alignment row keeps their order. The secret is dropped on return."""
    _check_institution(actor)
    if not points:
        raise ValidationFailed("the customer list is empty", field="points")
    if len(points) > MAX_POINTS:
        raise ValidationFailed(
            "at most {limit} points in one alignment", field="points", limit=MAX_POINTS
        )
    secret = psi.new_secret()
    answer = psi.blind_points(secret, points)
    codes = psi.shuffled(
        consent_service.subjects_with_letters(session, principal=actor, purpose=JOINT_MODELLING)
    )
    offered = psi.blind_identifiers(secret, codes)
    row = Alignment(
        public_id=new_id("aln"),
        organization_id=actor.organization_public_id,
        organization_name=actor.organization_name,
        state=AlignmentState.OFFERED,
        sent=len(points),
        offered=len(codes),
        codes=codes,
        created_by=actor.actor,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row, answer, offered


def get_or_raise(session: Session, *, actor: Principal, public_id: str) -> Alignment:
    """An alignment its institution (or the operator) may see; ``NotFound`` otherwise."""
    row = session.scalar(select(Alignment).where(Alignment.public_id == public_id))
    if row is None or (
        actor.organization_kind != OrgKind.OPERATOR
        and row.organization_id != actor.organization_public_id
    ):
        raise NotFound("no alignment {id}", field="alignment_id", id=public_id)
    return row


def body_of(row: Alignment) -> dict[str, Any]:
    """What the alignment's leaf commits to: the parties and the sizes, no identifier."""
    return {
        "id": row.public_id,
        "institution": row.organization_id,
        "categories": [],
        "sent": row.sent,
        "offered": row.offered,
        "matched": row.matched,
        "actor": row.created_by,
        "at": clock.as_utc(row.matched_at or row.created_at).isoformat(timespec="microseconds"),
    }


def match(
    session: Session, *, actor: Principal, public_id: str, positions: Sequence[int]
) -> Alignment:
    """Step 3's end at the center: the positions (in its order) that matched; the
    alignment keeps the intersection in that order and is recorded on the ledger."""
    row = get_or_raise(session, actor=actor, public_id=public_id)
    _check_institution(actor)
    if row.state != AlignmentState.OFFERED:
        raise Conflict("alignment {id} is already matched", field="state", id=public_id)
    if any(p < 0 or p >= row.offered for p in positions):
        raise ValidationFailed(
            "a position is outside 0 to {last}", field="positions", last=row.offered - 1
        )
    if list(positions) != sorted(set(positions)):
        raise ValidationFailed("positions must be increasing, without repeats", field="positions")
    if len(positions) > row.sent:
        raise ValidationFailed(
            "more positions than customers sent ({sent})", field="positions", sent=row.sent
        )
    row.codes = [row.codes[p] for p in positions]
    row.matched = len(positions)
    row.state = AlignmentState.MATCHED
    row.matched_at = clock.now()
    row.salt = ledger_service.new_salt()
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=row.created_by,
        subject=LEDGER_SUBJECT,
        ref=row.public_id,
        body=body_of(row),
        salt=row.salt,
    )
    return row


def alignments_statement(*, actor: Principal) -> Select[Alignment]:
    """The alignments the caller may list: its own institution's; every one for the operator."""
    stmt = select(Alignment).order_by(Alignment.created_at.desc(), Alignment.id.desc())
    if actor.organization_kind != OrgKind.OPERATOR:
        stmt = stmt.where(Alignment.organization_id == actor.organization_public_id)
    return stmt


def _stored(row: Alignment) -> StoredEvent:
    return StoredEvent(
        ref=row.public_id,
        digest=ledger_service.digest_of(body_of(row)),
        salt=bytes(row.salt or b""),
        subject=LEDGER_SUBJECT,
        actor=row.created_by,
    )


def _leaves(session: Session) -> Iterator[StoredEvent]:
    stmt = select(Alignment).where(Alignment.state == AlignmentState.MATCHED).order_by(Alignment.id)
    for row in session.scalars(stmt.execution_options(yield_per=1000)):
        yield _stored(row)


def _bodies(session: Session, ref: str) -> list[StoredEvent]:
    row = session.scalar(select(Alignment).where(Alignment.public_id == ref))
    return [] if row is None or row.salt is None else [_stored(row)]


ledger_service.register_source(LEDGER_KIND, _leaves)
ledger_service.register_body(LEDGER_KIND, _bodies)
