"""The early warning on PostgreSQL: the loans read, the warnings refreshed twice with the
same rows, the lender's ranked list with a withheld borrower, the operator's filter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.risk.conftest import Book
from xinyidai.risk.models import LoanWarning
from xinyidai.risk.service import warning

pytestmark = pytest.mark.postgres

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def db_url(pg_url: str) -> str:
    return pg_url


def test_refresh_and_read_on_postgres(
    client: TestClient, auth: Auth, session: Session, book: Book, monitoring_letter: str
) -> None:
    first = warning.refresh(session)
    session.commit()
    again = warning.refresh(session)
    session.commit()
    assert (first.added, again.unchanged, again.changed) == (3, 3, 0)
    rows = session.scalars(select(LoanWarning).order_by(LoanWarning.loan_id)).all()
    assert {row.loan_id for row in rows} == {book.troubled, book.clean, book.elsewhere}
    listed = client.get("/api/v1/risk/warnings", headers=auth("bank")).json()
    assert [item["loan_id"] for item in listed["items"]] == [book.troubled, book.clean]
    assert listed["items"][1]["withheld"]
    floor = client.get(
        "/api/v1/risk/warnings", params={"min_probability": 0.0}, headers=auth("bank")
    ).json()
    assert [item["loan_id"] for item in floor["items"]] == [book.troubled]
    operator = client.get(
        "/api/v1/risk/warnings",
        params={"institution": book.world.other_bank_id},
        headers=auth("operator"),
    ).json()
    assert [item["loan_id"] for item in operator["items"]] == [book.elsewhere]
