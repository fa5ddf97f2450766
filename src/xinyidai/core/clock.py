"""The one clock: timezone-aware UTC in storage, Asia/Shanghai on screen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

SHANGHAI = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time as an aware UTC datetime (frozen inside ``frozen_at``)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in China, which is what a user means by 'today'."""
    return now().astimezone(SHANGHAI).date()


def to_local(moment: datetime) -> datetime:
    """Convert a stored time to Asia/Shanghai for display."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC and convert an aware one to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze ``now()`` for a test or a replay."""
    global _frozen
    previous = _frozen
    _frozen = as_utc(moment)
    try:
        yield
    finally:
        _frozen = previous


def _not_a_number(value: Any) -> Any:
    """A day or a time comes as text (ISO 8601), never as a number: pydantic would read
    ``0`` as 1970-01-01, a count of seconds, not what anyone sending it meant."""
    if isinstance(value, int | float):  # bool is an int too
        raise ValueError("must be a date or time in ISO 8601 text, not a number")
    return value


# A day and a moment as the API takes them: ISO 8601 text ("2026-11-23",
# "2026-11-23T08:00:00Z"), or the Python objects; a number is refused, naming the field.
Day = Annotated[date, BeforeValidator(_not_a_number)]
Moment = Annotated[datetime, BeforeValidator(_not_a_number)]
