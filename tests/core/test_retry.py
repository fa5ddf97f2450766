"""The node's own clients retry politely: after the wait a busy server asks for, a
doubling wait when it names none, and give up after the last attempt."""

from __future__ import annotations

import httpx
import pytest

from xinyidai.core.retry import with_retries


def answers(*statuses: int, retry_after: str | None = None) -> list[httpx.Response]:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return [httpx.Response(status, headers=headers) for status in statuses]


def test_a_busy_server_is_asked_again_after_the_wait_it_named() -> None:
    queue = answers(503, 503, retry_after="3") + answers(200)
    waits: list[float] = []
    response = with_retries(lambda: queue.pop(0), sleep=waits.append)
    assert response.status_code == 200
    assert len(waits) == 2
    assert all(3 <= wait <= 3.3 for wait in waits)


def test_without_a_named_wait_the_wait_doubles_and_is_capped() -> None:
    queue = answers(429, 429, 429, 429, 200)
    waits: list[float] = []
    with_retries(lambda: queue.pop(0), sleep=waits.append, longest=2.0)
    assert [round(w, 1) for w in waits] == pytest.approx([0.5, 1.0, 2.0, 2.0], abs=0.21)


def test_other_answers_are_the_callers_at_once() -> None:
    waits: list[float] = []
    for status in (200, 404, 500):
        assert with_retries(lambda s=status: httpx.Response(s), sleep=waits.append).status_code == (
            status
        )
    assert waits == []


def test_the_last_busy_answer_is_returned_and_a_lasting_outage_raised() -> None:
    waits: list[float] = []
    response = with_retries(lambda: httpx.Response(503), attempts=3, sleep=waits.append)
    assert response.status_code == 503
    assert len(waits) == 2

    def refused() -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        with_retries(refused, attempts=3, sleep=waits.append)
