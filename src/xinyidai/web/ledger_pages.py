"""The ledger page for auditors and the operator: the signed checkpoint, its witnesses, and
one entry checked against it with every step of the inclusion proof shown.

The proof is produced and worked through on the server (``ledger.service.check_event``,
which uses ``ledger.explain``); this page parses the three ways of naming an entry (leaf
index, event digest, or a record by credit code and category) and shows the result. The
stored record itself is never shown: only its ids and whether it still hashes to its leaf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import EventCheck
from xinyidai.records import service as records_service
from xinyidai.registry import creditcode
from xinyidai.web.auth import portal_roles
from xinyidai.web.forms import N_, FormState
from xinyidai.web.templating import render

router = APIRouter(prefix="/ledger", include_in_schema=False)

LedgerReader = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, OrgKind.AUDITOR))]

MODES = ("index", "digest", "record")
MODE_FIELDS = {"index": ("index",), "digest": ("digest",), "record": ("credit_code", "category")}
_WHOLE = re.compile(r"^[+-]?\d{1,18}$")

BODY_TEXTS = {
    "matches": N_("matches: the stored data still hashes to the digest in the leaf"),
    "differs": N_(
        "does not match: the stored data no longer hashes to the digest in the leaf; "
        "it was changed after it was logged"
    ),
    "missing": N_("the stored data this entry names is gone"),
    "unchecked": N_(
        "not checked: the ledger keeps only the digest of this kind of event, "
        "there is no stored body to compare"
    ),
}


@dataclass
class RecordChoice:
    """One record of the subject in the category, offered when there are several."""

    record_id: str
    version: int
    event_on: date | None


@dataclass
class Outcome:
    """What a check found: the worked proof, or a record with no leaf, or records to pick."""

    check: EventCheck | None = None
    event_time: datetime | None = None
    record: tuple[str, int] | None = None
    no_leaf: bool = False
    choices: list[RecordChoice] = field(default_factory=list)


def _required(value: str, name: str) -> str:
    if not value:
        raise ValidationFailed("this field is required", field=name)
    return value


def _whole_number(value: str, name: str) -> int:
    if not _WHOLE.match(_required(value, name)):
        raise ValidationFailed("must be a whole number", field=name)
    return int(value)


def _event_time(check: EventCheck) -> datetime | None:
    try:
        return datetime.fromisoformat(str(check.event.get("time", "")))
    except ValueError:
        return None


def _checked(session: Session, check: EventCheck, **more: Any) -> Outcome:
    return Outcome(check=check, event_time=_event_time(check), **more)


def _by_record(session: Session, state: FormState) -> Outcome:
    raw_code = _required(state.get("credit_code").upper(), "credit_code")
    try:
        code = creditcode.parse(raw_code).code
    except creditcode.CreditCodeError as exc:
        raise ValidationFailed(exc.reason, field="credit_code", **exc.params) from exc
    category = catalog_service.get_by_code_or_raise(
        session, code=_required(state.get("category"), "category"), field="category"
    )
    rows = records_service.current_versions(session, credit_code=code, category=category.code)
    found = [
        RecordChoice(record_id=rid, version=version, event_on=event_on)
        for rid, version, _, event_on in rows
    ]
    digests = {rid: digest for rid, _, digest, _ in rows}
    if not found:
        raise NotFound(
            "no record of category {category} for credit code {credit_code}",
            field="credit_code",
            category=category.code,
            credit_code=code,
        )
    wanted = state.get("record")
    if len(found) > 1 and not wanted:
        return Outcome(choices=found)
    chosen = next((c for c in found if len(found) == 1 or c.record_id == wanted), None)
    if chosen is None:
        raise NotFound("no record {record_id}", field="credit_code", record_id=wanted)
    ref = f"{chosen.record_id}:{chosen.version}"
    try:
        index = ledger_service.find_event(
            session, kind=records_service.LEDGER_KIND, ref=ref, digest=digests[chosen.record_id]
        )
    except ValidationFailed:
        index = None  # the stored digest is not even a digest any more
    record = (chosen.record_id, chosen.version)
    if index is None:
        return Outcome(record=record, no_leaf=True)
    return _checked(session, ledger_service.check_event(session, index=index), record=record)


def _check(session: Session, mode: str, state: FormState) -> Outcome:
    """Check the entry the form names; ``XydError`` naming the field that is wrong."""
    if mode == "index":
        index = _whole_number(state.get("index"), "index")
        return _checked(session, ledger_service.check_event(session, index=index))
    if mode == "digest":
        digest = _required(state.get("digest"), "digest")
        return _checked(session, ledger_service.check_event(session, digest=digest))
    return _by_record(session, state)


def _page(
    request: Request,
    session: Session,
    *,
    mode: str | None = None,
    state: FormState | None = None,
    outcome: Outcome | None = None,
    status: int = 200,
) -> Response:
    checkpoint = key = None
    witnesses: list[Any] = []
    unavailable: XydError | None = None
    try:
        checkpoint = ledger_service.current_checkpoint(session)
        key = ledger_service.verifier_key()
        witnesses = ledger_service.witness_status(session, size=checkpoint.size)
    except XydError as exc:
        session.rollback()
        unavailable = exc
    return render(
        request,
        "ledger/index.html",
        status=status,
        checkpoint=checkpoint,
        verifier_key=key,
        witnesses=witnesses,
        unavailable=unavailable,
        mode=mode,
        form=state or FormState(),
        outcome=outcome,
        categories=catalog_service.list_categories(session, include_inactive=True),
        BODY_TEXTS=BODY_TEXTS,
    )


@router.get("")
def ledger_page(request: Request, principal: LedgerReader, session: SessionDep) -> Response:
    """The current signed checkpoint, its witnesses, and the form to check one entry."""
    return _page(request, session)


@router.get("/check")
def check_entry(
    request: Request,
    principal: LedgerReader,
    session: SessionDep,
    by: Annotated[str, Query(max_length=10)] = "index",
    index: Annotated[str, Query(max_length=40)] = "",
    digest: Annotated[str, Query(max_length=200)] = "",
    credit_code: Annotated[str, Query(max_length=40)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    record: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Check one entry (by leaf index, event digest or record) against the signed checkpoint."""
    mode = by if by in MODES else "index"
    state = FormState(
        values={
            "index": index.strip(),
            "digest": digest.strip(),
            "credit_code": credit_code.strip(),
            "category": category.strip(),
            "record": record.strip(),
        }
    )
    try:
        outcome = _check(session, mode, state)
    except XydError as exc:
        session.rollback()
        # An error about something that is not a field of this form goes above it.
        where = exc.field if exc.field in MODE_FIELDS[mode] else "_form"
        state.errors[where] = (exc.message, dict(exc.params))
        return _page(request, session, mode=mode, state=state, status=exc.status)
    return _page(request, session, mode=mode, state=state, outcome=outcome)
