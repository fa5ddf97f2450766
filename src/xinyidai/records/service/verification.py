"""Verification questions ("usable but invisible"): whether a fact about a subject holds,
answered yes or no without the record itself.

A question names a category, an operator and, for a comparison, a field and a value::

    exists / not_exists        any current record of the category (with field = value if given)
    eq ne gt gte lt lte        the latest record's field compared with the value
    in                         the latest record's field is one of a list of values

Numbers compare as decimals, anything else (``NaN`` too) as text. A question that cannot
be asked (an unknown operator or field, a comparison without a value) is refused with the
field at fault; records past their disclosure period count as absent. Whether the caller may ask
is the access decision's (``consent.decide``, purpose ``verification``), not this module's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.errors import ValidationFailed
from xinyidai.records.models import CreditRecord
from xinyidai.records.service.reads import expired

VERIFY_OPS = ("exists", "not_exists", "eq", "ne", "gt", "gte", "lt", "lte", "in")


def _comparable(value: Any) -> Any:
    """A value as compared: a number as a decimal; anything else, and text a decimal would
    read as NaN (which has no order), as its text."""
    if isinstance(value, bool) or value is None:
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return str(value) if number.is_nan() else number


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    if op == "in":
        return _comparable(actual) in {_comparable(v) for v in expected}
    left, right = _comparable(actual), _comparable(expected)
    if type(left) is not type(right):
        left, right = str(actual), str(expected)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def verify(
    session: Session,
    *,
    credit_code: str,
    category: str,
    op: str,
    field: str | None = None,
    value: Any = None,
) -> bool:
    """Whether a fact about a subject holds, answered yes or no without the record itself.

    ``exists`` / ``not_exists`` ask whether any current record of the category (matching
    ``field`` = ``value`` when given) is shown; a comparison asks it of the latest record.
    Records past their disclosure period count as absent.
    """
    if op not in VERIFY_OPS:
        raise ValidationFailed("op must be one of {ops}", field="op", ops=", ".join(VERIFY_OPS))
    spec = catalog_service.spec_of(catalog_service.get_by_code_or_raise(session, code=category))
    names = {f.name for f in spec.fields}
    if field is not None and field not in names:
        raise ValidationFailed(
            "category {category} has no field {name}", field="field", category=category, name=field
        )
    if op not in ("exists", "not_exists") and (field is None or value is None):
        raise ValidationFailed("a comparison needs a field and a value", field="value")
    if op == "in" and not isinstance(value, list):
        raise ValidationFailed("op in needs a list of values", field="value")
    today = clock.today()
    rows = [
        row
        for row in session.scalars(
            select(CreditRecord)
            .where(CreditRecord.subject_code == credit_code, CreditRecord.category == category)
            .order_by(CreditRecord.event_on.desc(), CreditRecord.updated_at.desc())
        )
        if not expired(row.event_on, spec.disclosure_days, today)
    ]
    if op in ("exists", "not_exists"):
        matching = [
            r
            for r in rows
            if field is None or value is None or _holds(r.data.get(field), "eq", value)
        ]
        return bool(matching) == (op == "exists")
    return bool(rows) and _holds(rows[0].data.get(field), op, value)
