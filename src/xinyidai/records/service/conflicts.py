"""Conflicts between departments: a record changed by a department other than the one that
sent it last is stored as the new version and flagged here for the operator to settle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import NotFound
from xinyidai.core.pagination import paginate
from xinyidai.records.models import RecordConflict


def conflicts_by(
    session: Session, *, state: str | None = "open", page: int = 1, size: int = 20
) -> tuple[Sequence[RecordConflict], int]:
    """One page of ``conflicts_statement`` and the total."""
    return paginate(session, conflicts_statement(state=state), page=page, size=size)


def conflicts_statement(*, state: str | None = "open") -> Select[Any]:
    """Conflicts between departments, open ones by default, newest first."""
    stmt = select(RecordConflict).order_by(RecordConflict.id.desc())
    if state:
        stmt = stmt.where(RecordConflict.state == state)
    return stmt


def resolve_conflict(session: Session, *, conflict_id: int, actor: str) -> RecordConflict:
    """Mark a conflict as seen and settled by the operator."""
    conflict = session.get(RecordConflict, conflict_id)
    if conflict is None:
        raise NotFound("no conflict {id}", field="conflict_id", id=conflict_id)
    conflict.state = "resolved"
    conflict.resolved_by = actor
    conflict.resolved_at = clock.now()
    session.flush()
    return conflict


def conflict_counts(session: Session) -> dict[tuple[str, str], int]:
    """Open and resolved conflicts by (later provider, category)."""
    rows = session.execute(
        select(RecordConflict.later_provider, RecordConflict.category, func.count()).group_by(
            RecordConflict.later_provider, RecordConflict.category
        )
    )
    return {(provider, category): int(n) for provider, category, n in rows}
