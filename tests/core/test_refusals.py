"""The one way an edge answers a refusal whose record must outlive it: ``commit_refusal``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.registry.helpers import enterprise_in
from xinyidai.core.db import commit_refusal, new_session
from xinyidai.core.errors import Forbidden
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import Enterprise


def _stored(code: str) -> int:
    with new_session() as fresh:
        return int(fresh.scalar(select(func.count()).where(Enterprise.credit_code == code)) or 0)


def test_a_refusal_keeps_what_was_recorded_and_is_handed_back(session: Session) -> None:
    kept = registry_service.create(session, data=enterprise_in("640104", 1, "记录保留有限公司"))
    refusal = Forbidden("nothing entitles you to read this", field="category")
    assert _stored(kept.credit_code) == 0
    assert commit_refusal(session, refusal) is refusal
    assert _stored(kept.credit_code) == 1
    # what follows the refusal in the same session is a new unit of work, rolled back alone
    dropped = registry_service.create(session, data=enterprise_in("640104", 2, "随后回滚有限公司"))
    dropped_code = dropped.credit_code
    session.rollback()
    assert _stored(dropped_code) == 0
    assert _stored(kept.credit_code) == 1
