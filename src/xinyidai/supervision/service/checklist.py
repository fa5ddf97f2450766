"""The security checklist an institution answers: shipped with a default, edited by the
operator (an item is never deleted, only retired, so answers keep their meaning)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.core.errors import Forbidden
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.supervision.models import ChecklistItem
from xinyidai.supervision.schemas import ChecklistItemIn

DEFAULT_CHECKLIST = Path(__file__).resolve().parent.parent / "data" / "checklist.json"


def statement(*, active_only: bool = False) -> Select[Any]:
    stmt = select(ChecklistItem).order_by(ChecklistItem.position, ChecklistItem.id)
    if active_only:
        stmt = stmt.where(ChecklistItem.active.is_(True))
    return stmt


def items(session: Session, *, active_only: bool = True) -> list[ChecklistItem]:
    """The checklist in its order (the items in use only, unless asked)."""
    return list(session.scalars(statement(active_only=active_only)))


def by_code(session: Session, *, code: str) -> ChecklistItem | None:
    return session.scalar(select(ChecklistItem).where(ChecklistItem.code == code))


def load_default(session: Session) -> int:
    """Add the shipped checklist if the list is empty; how many items were added."""
    if session.scalar(select(ChecklistItem.id).limit(1)) is not None:
        return 0
    shipped = json.loads(DEFAULT_CHECKLIST.read_text(encoding="utf-8"))
    for position, entry in enumerate(shipped):
        session.add(ChecklistItem(position=position * 10, **entry))
    session.flush()
    return len(shipped)


def save(session: Session, *, principal: Principal, data: ChecklistItemIn) -> ChecklistItem:
    """The operator adds an item or changes one (by its code)."""
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the operator edits the checklist", field="code")
    row = by_code(session, code=data.code)
    if row is None:
        row = ChecklistItem(code=data.code)
        session.add(row)
    row.title = data.title.strip()
    row.guidance = data.guidance.strip()
    row.required = data.required
    row.weight = data.weight
    row.position = data.position
    row.active = data.active
    session.flush()
    return row
