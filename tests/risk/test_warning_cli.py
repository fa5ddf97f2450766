"""``xyd risk warn``: refresh by hand, a summary, the highest warnings; bad input fails
clearly and writes nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.risk.conftest import Book
from xinyidai.cli import app
from xinyidai.registry import creditcode
from xinyidai.risk.models import LoanWarning

runner = CliRunner()


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(LoanWarning)) or 0)


def test_warn_refreshes_and_summarizes(session: Session, book: Book) -> None:
    result = runner.invoke(app, ["risk", "warn", "--json", "--lang", "en"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["loans"], summary["added"], summary["unchanged"]) == (3, 3, 0)
    assert sum(summary["bands"].values()) == 3
    assert len(summary["top"]) == 3
    probabilities = [item["probability"] for item in summary["top"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(item["reasons"] is not None for item in summary["top"])
    again = runner.invoke(app, ["risk", "warn", "--code", ENTERPRISE_CODE.lower()])
    assert again.exit_code == 0, again.output
    assert "2 live loans" in again.output
    assert "2 unchanged" in again.output
    assert _count(session) == 3


def test_bad_input_fails_clearly_and_writes_nothing(session: Session, book: Book) -> None:
    unknown = runner.invoke(app, ["risk", "warn", "--code", creditcode.make("91450100MA5K00099")])
    assert unknown.exit_code == 1
    assert "(credit_code)" in unknown.output
    bad_day = runner.invoke(app, ["risk", "warn", "--as-of", "2025-13-01"])
    assert bad_day.exit_code == 1
    assert "--as-of" in bad_day.output
    negative = runner.invoke(app, ["risk", "warn", "--top", "-1"])
    assert negative.exit_code == 1
    assert _count(session) == 0
