"""Refreshing the early warnings: one row per live loan, idempotent, rows of loans no longer
live removed, one borrower's loans refreshed on demand after commit, bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.risk.conftest import Book
from xinyidai.core import queue
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.market.models import Loan, LoanState
from xinyidai.registry import creditcode
from xinyidai.risk import warning_model
from xinyidai.risk.models import LoanWarning
from xinyidai.risk.service import warning
from xinyidai.scoring.models import CreditRating

UNKNOWN_CODE = creditcode.make("91450100MA5K00099")
COLUMNS = [c.name for c in LoanWarning.__table__.columns]


def _rows(session: Session) -> list[dict[str, Any]]:
    session.expire_all()
    return [
        {name: getattr(row, name) for name in COLUMNS}
        for row in session.scalars(select(LoanWarning).order_by(LoanWarning.loan_id))
    ]


def test_refresh_warns_every_live_loan_with_reasons(session: Session, book: Book) -> None:
    done = warning.refresh(session)
    session.commit()
    rows = {row["loan_id"]: row for row in _rows(session)}
    assert set(rows) == {book.troubled, book.clean, book.elsewhere}  # not the repaid loan
    assert (done.loans, done.added, done.changed, done.removed) == (3, 3, 0, 0)
    assert sum(done.bands.values()) == 3
    troubled, clean = rows[book.troubled], rows[book.clean]
    assert troubled["probability"] > clean["probability"]
    assert troubled["days_overdue"] > 0
    assert clean["days_overdue"] == 0
    assert troubled["band"] in warning_model.BAND_NAMES
    assert troubled["model_version"] == warning_model.current().version
    assert troubled["reasons"]
    assert troubled["reasons"][0]["impact"] < 0
    assert {"code", "text_zh", "text_en", "impact"} <= set(troubled["reasons"][0])
    assert "OVERDUE_NOW" in [r["code"] for r in troubled["reasons"]]
    assert troubled["outstanding"] < 120000
    # borrowers without a rating were rated to be warned
    rated = session.scalars(select(CreditRating.credit_code).distinct()).all()
    assert {ENTERPRISE_CODE, OTHER_CODE} <= set(rated)


def test_a_second_refresh_changes_nothing(session: Session, book: Book) -> None:
    warning.refresh(session)
    session.commit()
    first = _rows(session)
    again = warning.refresh(session)
    session.commit()
    assert _rows(session) == first
    assert (again.added, again.changed, again.unchanged, again.removed) == (0, 0, 3, 0)


def test_a_loan_that_stops_being_live_loses_its_warning(session: Session, book: Book) -> None:
    warning.refresh(session)
    session.commit()
    loan = session.scalar(select(Loan).where(Loan.public_id == book.clean))
    assert loan is not None
    loan.state = LoanState.REPAID
    session.commit()
    done = warning.refresh(session, credit_codes=[OTHER_CODE])
    session.commit()
    assert done.removed == 1
    assert done.loans == 0
    assert {row["loan_id"] for row in _rows(session)} == {book.troubled, book.elsewhere}


def test_one_borrowers_refresh_touches_only_its_loans(session: Session, book: Book) -> None:
    warning.refresh(session)
    session.commit()
    before = {row["loan_id"]: row for row in _rows(session)}
    session.execute(LoanWarning.__table__.update().values(probability=0.5))
    session.commit()
    done = warning.refresh(session, credit_codes=[ENTERPRISE_CODE])
    session.commit()
    after = {row["loan_id"]: row for row in _rows(session)}
    assert done.changed == 2
    assert after[book.troubled]["probability"] == before[book.troubled]["probability"]
    assert after[book.clean]["probability"] == 0.5  # not this borrower's


def test_refresh_for_enterprise_is_queued_after_commit(
    session: Session, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xinyidai.risk.jobs  # noqa: F401 - the task is registered

    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, at=None: queued.append((name, args)))
    code = warning.refresh_for_enterprise(session, ENTERPRISE_CODE.lower())
    assert code == ENTERPRISE_CODE
    assert queued == []  # not before the commit
    session.commit()
    assert queued == [(warning.REFRESH_ENTERPRISE_TASK, (ENTERPRISE_CODE,))]


def test_the_task_refreshes_one_borrower(session: Session, book: Book) -> None:
    from xinyidai.risk import jobs

    jobs.refresh_enterprise_warnings.call_local(ENTERPRISE_CODE)
    session.expire_all()
    assert {row["loan_id"] for row in _rows(session)} == {book.troubled, book.elsewhere}
    jobs.refresh_warnings.call_local()
    assert len(_rows(session)) == 3


def test_an_unknown_or_malformed_enterprise_is_refused_and_nothing_queued(
    session: Session, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xinyidai.risk.jobs  # noqa: F401

    queued: list[object] = []
    monkeypatch.setattr(queue, "enqueue", lambda *args, **kwargs: queued.append(args))
    with pytest.raises(NotFound) as unknown:
        warning.refresh_for_enterprise(session, UNKNOWN_CODE)
    assert unknown.value.field == "credit_code"
    with pytest.raises(ValidationFailed) as malformed:
        warning.refresh_for_enterprise(session, "not-a-code")
    assert malformed.value.field == "credit_code"
    session.commit()
    assert queued == []
    assert session.scalar(select(func.count()).select_from(LoanWarning)) == 0
