"""Notices: a line in an enterprise's, a department's or the operator's rights inbox for
each step that concerns them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import gettext
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.rights.models import (
    NOTE_KIND_LABELS,
    OBJECTION_STATE_LABELS,
    REPAIR_STATE_LABELS,
    Audience,
    Notice,
)
from xinyidai.rights.schemas import NoticeOut


def send(
    session: Session,
    *,
    audience: Audience,
    addressee: str,
    subject_kind: str,
    subject_id: str,
    message: str,
    **params: Any,
) -> Notice:
    row = Notice(
        audience=audience,
        addressee=addressee,
        subject_kind=subject_kind,
        subject_id=subject_id,
        message=message,
        params=params,
    )
    session.add(row)
    session.flush()
    return row


def inbox_statement(principal: Principal) -> Select[Any]:
    """The notices addressed to the caller's organization, newest first."""
    kind = principal.organization_kind
    where: ColumnElement[bool]
    if kind == OrgKind.ENTERPRISE:
        where = (Notice.audience == Audience.ENTERPRISE) & (
            Notice.addressee == (principal.credit_code or "")
        )
    elif kind == OrgKind.PROVIDER:
        where = (Notice.audience == Audience.DEPARTMENT) & (
            Notice.addressee == (principal.organization_code or "")
        )
    elif kind == OrgKind.OPERATOR:
        where = Notice.audience == Audience.OPERATOR
    else:
        where = Notice.id.is_(None)
    return select(Notice).where(where).order_by(Notice.created_at.desc(), Notice.id.desc())


# The names a notice's parameters carry as stored (a state, a kind of note), shown by
# their labels in the reader's language: "异议 … 已更正", never "corrected".
PARAM_LABELS: dict[str, dict[str, Mapping[Any, str]]] = {
    "objection": {"state": OBJECTION_STATE_LABELS},
    "repair": {"state": REPAIR_STATE_LABELS},
    "restructuring": {"kind": NOTE_KIND_LABELS},
}


def out(row: Notice) -> NoticeOut:
    """A notice in the caller's language, its named parameters by their labels."""
    labels = PARAM_LABELS.get(row.subject_kind, {})
    params = {
        name: gettext(labels[name][value]) if name in labels and value in labels[name] else value
        for name, value in row.params.items()
    }
    return NoticeOut(
        subject_kind=row.subject_kind,
        subject_id=row.subject_id,
        message=gettext(row.message, None, **params),
        created_at=row.created_at,
    )
