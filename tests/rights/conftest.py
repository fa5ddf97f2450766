"""Fixtures of the subject-rights tests: the consent tests' world (the demo enterprise's and
another enterprise's records in seven categories), helpers to find a record and to file."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from xinyidai.records.models import CreditRecord

PDF = b"%PDF-1.4\n%proof\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def record_of(session: Session, category: str, code: str = ENTERPRISE_CODE) -> CreditRecord:
    session.expire_all()
    found = session.scalars(
        select(CreditRecord).where(
            CreditRecord.category == category, CreditRecord.subject_code == code
        )
    ).first()
    assert found is not None, (category, code)
    return found


def file_objection(
    client: TestClient,
    headers: dict[str, str],
    *,
    target: str = "field",
    record_id: str | None = None,
    field: str | None = "grade",
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    form = {"target": target, "wrong": "评级有误", "correction_asked": "应为B级以上"}
    if record_id:
        form["record_id"] = record_id
    if field:
        form["field"] = field
    answer = client.post(
        "/api/v1/rights/objections",
        data=form,
        files=files or [("files", ("proof.pdf", PDF, "application/pdf"))],
        headers=headers,
    )
    assert answer.status_code == expect, answer.text
    return dict(answer.json())


def move(
    client: TestClient,
    headers: dict[str, str],
    objection_id: str,
    name: str,
    *,
    expect: int = 200,
    **body: Any,
) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/rights/objections/{objection_id}/moves",
        json={"move": name, **body},
        headers=headers,
    )
    assert answer.status_code == expect, answer.text
    return dict(answer.json())
