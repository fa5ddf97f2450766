"""The daily round: reminders of assessments coming up for renewal, the lapse of expired
ones, findings for the access log's new flags (the job, ``xyd supervision round``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from xinyidai.supervision.service import assessments, findings


@dataclass(frozen=True)
class Round:
    reminded: int
    lapsed: int
    opened: int


def daily_round(session: Session, *, today: date) -> Round:
    reminded = assessments.remind_due(session, today=today)
    lapsed = assessments.lapse_due(session, today=today)
    opened = findings.open_from_flags(session)
    return Round(reminded=len(reminded), lapsed=lapsed, opened=len(opened))
