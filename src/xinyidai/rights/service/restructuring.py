"""Restructuring notes (破产重整): a court's decision on an enterprise, recorded by the
operator, shown beside its records in every view and report (``records`` subject notes).

Once the plan is executed, the negatives from before the reorganization was approved are
treated by ``rights.restructuring_policy``: ``exclude`` (the default) marks them
``before_restructuring``, so the rating leaves them out while every view still shows them
(with the mark); ``keep`` leaves the rating as it was. The enterprise is re-rated.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.errors import Conflict, Forbidden, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord, MarkKind, NoteKind, SubjectNote
from xinyidai.records.schemas import SubjectNoteOut
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import Audience
from xinyidai.rights.schemas import RestructuringIn
from xinyidai.rights.service import notices
from xinyidai.scoring import service as rating_service
from xinyidai.scoring.models import TRIGGER_REQUEST

SUBJECT_KIND = "restructuring"


def record(session: Session, *, principal: Principal, data: RestructuringIn) -> SubjectNoteOut:
    """The operator records a court's decision on an enterprise's restructuring."""
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator records a restructuring", field="credit_code")
    code = registry_service.parse_code_or_raise(data.credit_code)
    registry_service.get_by_code_or_raise(session, credit_code=code)
    earlier = list(session.scalars(select(SubjectNote).where(SubjectNote.subject_code == code)))
    approved = next((n for n in earlier if n.kind == NoteKind.REORGANIZATION_APPROVED), None)
    if data.kind == NoteKind.PLAN_EXECUTED and approved is None:
        raise Conflict("record the approval of the reorganization first", field="kind")
    if any(n.kind == data.kind for n in earlier):
        raise Conflict("this enterprise already has this note", field="kind")
    if approved is not None and data.decided_on < approved.decided_on:
        raise ValidationFailed("the plan cannot end before it was approved", field="on")
    reference = new_id("rsn")
    note = records_service.add_note(
        session,
        subject_code=code,
        kind=data.kind,
        decided_on=data.decided_on,
        source=data.source.strip(),
        text=data.text.strip(),
        reference=reference,
    )
    if (
        data.kind == NoteKind.PLAN_EXECUTED
        and approved is not None
        and get_settings().rights.restructuring_policy == "exclude"
    ):
        _mark_prior_negatives(session, code=code, before=approved, reference=reference)
        rating_service.rate_subjects(session, credit_codes=[code], trigger=TRIGGER_REQUEST)
    notices.send(
        session,
        audience=Audience.ENTERPRISE,
        addressee=code,
        subject_kind=SUBJECT_KIND,
        subject_id=reference,
        message=N_("A restructuring note was recorded: {kind} on {on}"),
        kind=str(data.kind),
        on=data.decided_on.isoformat(),
    )
    return SubjectNoteOut.model_validate(note)


def _mark_prior_negatives(
    session: Session, *, code: str, before: SubjectNote, reference: str
) -> None:
    negative = [c for c, p in catalog_service.polarities(session).items() if p == "negative"]
    rows = session.scalars(
        select(CreditRecord).where(
            CreditRecord.subject_code == code,
            CreditRecord.category.in_(negative),
            CreditRecord.event_on < before.decided_on,
        )
    )
    for row in rows:
        records_service.pin_mark(
            session,
            record_id=row.id,
            category=row.category,
            subject_code=code,
            kind=MarkKind.BEFORE_RESTRUCTURING,
            reference=reference,
        )


def notes_for(session: Session, *, principal: Principal, credit_code: str) -> list[SubjectNoteOut]:
    """The notes on an enterprise (public: a court's published decision)."""
    code = registry_service.parse_code_or_raise(credit_code)
    return records_service.notes_of(session, subject_code=code)
