"""Self-reporting (自愿填报, NX-5): the enterprise enters its own information.

An item goes in as a record of the category ``self_reported`` (the enterprise is its
source), stored through ingestion like any push, with proof documents; the record is marked
self-reported in every view (``records`` mark ``self_reported``), and a department that
checked it may confirm it (mark ``confirmed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.records import service as records_service
from xinyidai.records.models import MarkKind
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import DocumentOwner, SelfReport
from xinyidai.rights.schemas import DocumentOut, SelfReportItem
from xinyidai.rights.service import documents

CATEGORY = "self_reported"
SOURCE = "enterprise"
ITEM_MAX = 200
CONTENT_MAX = 5000


def report(
    session: Session,
    *,
    principal: Principal,
    item: str,
    content: str,
    uploads: Sequence[documents.Upload] = (),
) -> SelfReport:
    """The enterprise reports one item about itself (a new item, or a new version of one)."""
    if principal.organization_kind != OrgKind.ENTERPRISE or not principal.credit_code:
        raise Forbidden("only an enterprise reports about itself", field="item")
    item, content = item.strip(), content.strip()
    if not item or len(item) > ITEM_MAX:
        raise ValidationFailed(
            "name the item (at most {maximum} characters)", field="item", maximum=ITEM_MAX
        )
    if not content or len(content) > CONTENT_MAX:
        raise ValidationFailed(
            "say what you report (at most {maximum} characters)",
            field="content",
            maximum=CONTENT_MAX,
        )
    checked = documents.check(uploads)
    subject = registry_service.get_by_code_or_raise(session, credit_code=principal.credit_code)
    row: dict[str, Any] = {
        "credit_code": subject.credit_code,
        "enterprise_name": subject.name,
        "item": item,
        "content": content,
        "reported_on": clock.today().isoformat(),
    }
    batch = ingest_service.push_rows(
        session, provider=SOURCE, category=CATEGORY, rows=[row], actor=principal.actor
    )
    if batch.rejected:
        rejected, _ = ingest_service.rejections_of(session, batch_id=batch.id)
        raise ValidationFailed(
            "the report is refused: {reason}",
            field=rejected[0].field or "content",
            reason=rejected[0].reason,
        )
    rid = records_service.record_id(CATEGORY, [subject.credit_code, item])
    record = records_service.get_or_raise(session, record_id=rid)
    reported = SelfReport(
        public_id=new_id("srp"),
        credit_code=subject.credit_code,
        record_id=rid,
        version=record.version,
        item=item,
        reported_by=principal.actor,
    )
    session.add(reported)
    session.flush()
    documents.keep(
        session,
        owner_kind=DocumentOwner.SELF_REPORT,
        owner_id=reported.id,
        uploads=checked,
        actor=principal.actor,
    )
    # a new version of an item is self-reported again and no longer confirmed
    for kind in (MarkKind.SELF_REPORTED, MarkKind.CONFIRMED):
        for earlier in session.scalars(
            select(SelfReport.public_id).where(
                SelfReport.record_id == rid, SelfReport.id != reported.id
            )
        ):
            records_service.clear_marks(session, kind=kind, reference=earlier)
    records_service.pin_mark(
        session,
        record_id=rid,
        category=CATEGORY,
        subject_code=subject.credit_code,
        kind=MarkKind.SELF_REPORTED,
        reference=reported.public_id,
    )
    return reported


def get_or_raise(session: Session, *, principal: Principal, report_id: str) -> SelfReport:
    row = session.scalar(select(SelfReport).where(SelfReport.public_id == report_id))
    kind = principal.organization_kind
    visible = row is not None and (
        kind in (OrgKind.OPERATOR, OrgKind.PROVIDER)
        or (kind == OrgKind.ENTERPRISE and principal.credit_code == row.credit_code)
    )
    if row is None or not visible:
        raise NotFound("no self-report {id}", field="report_id", id=report_id)
    return row


def confirm(session: Session, *, principal: Principal, reported: SelfReport) -> SelfReport:
    """A department confirms a self-reported item it checked."""
    if principal.organization_kind != OrgKind.PROVIDER or not principal.organization_code:
        raise Forbidden("only a department confirms a self-report", field="report_id")
    if reported.confirmed_at is not None:
        raise Conflict(
            "already confirmed by {department}", field="report_id", department=reported.confirmed_by
        )
    record = records_service.get_or_raise(session, record_id=reported.record_id)
    if record.version != reported.version:
        raise Conflict("the enterprise has reported this item again since", field="report_id")
    reported.confirmed_by = principal.organization_code
    reported.confirmed_at = clock.now()
    records_service.pin_mark(
        session,
        record_id=reported.record_id,
        category=CATEGORY,
        subject_code=reported.credit_code,
        kind=MarkKind.CONFIRMED,
        reference=reported.public_id,
    )
    session.flush()
    return reported


def statement(principal: Principal) -> Select[Any]:
    """The enterprise's own self-reports; every one for the operator and the departments."""
    stmt = select(SelfReport)
    kind = principal.organization_kind
    if kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(SelfReport.credit_code == (principal.credit_code or ""))
    elif kind not in (OrgKind.OPERATOR, OrgKind.PROVIDER):
        raise Forbidden(
            "only the enterprise, departments and the operator see self-reports", field="report_id"
        )
    return stmt.order_by(SelfReport.reported_at.desc(), SelfReport.id.desc())


def out(session: Session, row: SelfReport) -> SelfReportItem:
    shown = SelfReportItem.model_validate(row)
    shown.documents = [
        DocumentOut.model_validate(d)
        for d in documents.documents_of(
            session, owner_kind=DocumentOwner.SELF_REPORT, owner_id=row.id
        )
    ]
    return shown
