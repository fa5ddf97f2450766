"""Facts built as validation builds them and stored through ``records.service.store``: the
records' own tests need no department file and no ingest batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.records import service as records
from xinyidai.records.schemas import Fact, StoreResult
from xinyidai.registry import creditcode


def code(n: int) -> str:
    """A valid credit code for the n-th test subject."""
    return creditcode.make(f"91450100MA{n:07d}")


def fact(
    session: Session, category: str, data: Mapping[str, Any], *, event_on: date | None = None
) -> Fact:
    """One row of ``category`` as a fact: its record id from the category's key fields."""
    spec = catalog_service.spec_of(catalog_service.get_by_code_or_raise(session, code=category))
    values = dict(data)
    text = records.canonical(values)
    return Fact(
        record_id=records.record_id(category, [values.get(k) for k in spec.key_fields]),
        subject_code=values["credit_code"],
        data=values,
        digest=records.data_digest(values),
        event_on=event_on,
        position=0,
        canonical=text,
    )


def put(
    session: Session,
    category: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    provider: str = "tax",
    batch_id: str | None = None,
    event_on: date | None = None,
) -> StoreResult:
    """Store ``rows`` of one category from one department, as one delivery."""
    return records.store(
        session,
        category=category,
        category_version=1,
        provider=provider,
        batch_id=batch_id,
        facts=[fact(session, category, row, event_on=event_on) for row in rows],
    )


def rating(n: int, grade: str, *, year: int = 2025, score: str = "90.5") -> dict[str, Any]:
    """Subject ``n``'s tax credit rating of ``year``."""
    return {
        "credit_code": code(n),
        "enterprise_name": f"南宁测试{n}有限公司",
        "year": year,
        "grade": grade,
        "score": score,
    }


def penalty(n: int, number: str, *, fine: str = "20000.00") -> dict[str, Any]:
    """An administrative penalty of subject ``n`` (a category with a disclosure period)."""
    return {
        "credit_code": code(n),
        "enterprise_name": f"南宁测试{n}有限公司",
        "decision_number": number,
        "fine_amount": fine,
    }
