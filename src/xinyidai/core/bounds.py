"""The bounds of every integer a caller sends.

Every integer query parameter, path parameter and body field of the API is one of these
two types (a test walks the OpenAPI document and fails on an integer without both bounds).
A number outside them is refused as invalid input (422, ``invalid``, naming the field)
before any query is built, instead of reaching the database and failing there as a fault
of ours: ``OverflowError`` on SQLite past 2**63, ``integer out of range`` on PostgreSQL
past 2**31.

- ``Int`` fits PostgreSQL's ``integer`` (and so SQLite's 64-bit integer): counts, days,
  terms, versions, page numbers.
- ``BigInt`` fits ``bigint``: ledger indexes and tree sizes, and the numeric ids of tables
  that may grow past two billion rows (``core.models.BigId``).

A query or path parameter narrows either further in its ``Query``/``Path``
(``Annotated[Int, Query(ge=1)]``): the narrower bound is the one checked and published. A
body field with bounds of its own keeps a plain ``int`` with both (``Field(ge=2, le=20)``):
pydantic would let ``Int``'s wider bounds replace a model field's narrower ones. A portal
form that reads a number itself checks it with ``check_int``.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BeforeValidator

from xinyidai.core.errors import ValidationFailed

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1

Int = Annotated[int, Interval(ge=INT_MIN, le=INT_MAX)]
BigInt = Annotated[int, Interval(ge=BIGINT_MIN, le=BIGINT_MAX)]


def check_int(value: int, *, field: str, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """``value`` if it lies in ``[low, high]``, else ``ValidationFailed`` naming ``field``."""
    if not low <= value <= high:
        raise ValidationFailed(
            "must be between {minimum} and {maximum}", field=field, minimum=low, maximum=high
        )
    return value


def _true_or_false(value: Any) -> Any:
    """A yes-or-no in a body is JSON's ``true`` or ``false``: pydantic would read ``0``,
    ``"off"`` or ``"n"`` as one, which a caller who sent them may not have meant."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


# A yes-or-no body field (query parameters keep FastAPI's reading of "true", "1", "yes").
Flag = Annotated[bool, BeforeValidator(_true_or_false)]
