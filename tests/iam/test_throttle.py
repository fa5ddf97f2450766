"""Failed sign-ins slow the one who fails, never lock the account for anyone else.

Replays issue 16 items 8 and 9: five wrong passwords used to lock any account (the
operator's too) for 15 minutes from anywhere, and an unknown username answered faster than
a wrong password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD
from tests.conftest import XydEnv
from xinyidai.core import clock
from xinyidai.core.settings import get_settings
from xinyidai.iam import service

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@contextmanager
def from_address(client: TestClient, address: str) -> Iterator[TestClient]:
    """The same app, seen from another client address."""
    with TestClient(client.app, client=(address, 50000)) as other:
        yield other


def _sign_in(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _waits_while_failing(
    client: TestClient, username: str, start: datetime, rounds: int
) -> list[int]:
    """Fail five times, then fail again each time the wait is over; the waits announced."""
    now = start
    with clock.frozen_at(now):
        for _ in range(5):
            assert _sign_in(client, username, "wrong-password").status_code == 401
    waits: list[int] = []
    for _ in range(rounds):
        with clock.frozen_at(now):
            refused = _sign_in(client, username, "wrong-password")
        assert refused.status_code == 429, refused.text  # type: ignore[attr-defined]
        wait = int(refused.headers["Retry-After"])  # type: ignore[attr-defined]
        waits.append(wait)
        now += timedelta(seconds=wait)
        with clock.frozen_at(now):
            assert _sign_in(client, username, "wrong-password").status_code == 401
    return waits


def test_the_waits_after_failures_double_up_to_fifteen_minutes(
    client: TestClient, demo: object
) -> None:
    with from_address(client, ATTACKER) as attacker:
        waits = _waits_while_failing(attacker, "operator", clock.now(), rounds=12)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_a_throttled_attempt_is_answered_429_with_retry_after_in_the_error_shape(
    client: TestClient, demo: object
) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(5):
            _sign_in(client, "bank", "wrong-password")
        refused = _sign_in(client, "bank", DEMO_PASSWORD)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert refused.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    error = refused.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "too_many_requests"
    assert error["field"] == "username"
    assert error["message"] == "登录失败次数过多，请 1 秒后再试"
    with clock.frozen_at(start + timedelta(seconds=1)):
        assert _sign_in(client, "bank", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_an_attacker_elsewhere_cannot_keep_the_owner_out(client: TestClient, demo: object) -> None:
    start = clock.now()
    with from_address(client, ATTACKER) as attacker:
        waits = _waits_while_failing(attacker, "operator", start, rounds=11)
    attacker_last_failure = start + timedelta(seconds=sum(waits))
    with from_address(client, OWNER) as owner:
        with clock.frozen_at(attacker_last_failure):
            held = _sign_in(owner, "operator", DEMO_PASSWORD)
        assert held.status_code == 429  # type: ignore[attr-defined]
        assert int(held.headers["Retry-After"]) <= 60  # type: ignore[attr-defined]
        with clock.frozen_at(attacker_last_failure + timedelta(seconds=60)):
            assert _sign_in(owner, "operator", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]
    # The owner's success does not reset the attacker's wait.
    with from_address(client, ATTACKER) as attacker:
        with clock.frozen_at(attacker_last_failure + timedelta(seconds=61)):
            still = _sign_in(attacker, "operator", DEMO_PASSWORD)
        assert still.status_code == 429  # type: ignore[attr-defined]
        assert int(still.headers["Retry-After"]) == 900 - 61  # type: ignore[attr-defined]


def test_five_failures_from_one_address_hold_another_for_a_second_only(
    client: TestClient, demo: object
) -> None:
    start = clock.now()
    with from_address(client, ATTACKER) as attacker, clock.frozen_at(start):
        for _ in range(5):
            assert _sign_in(attacker, "operator", "wrong-password").status_code == 401  # type: ignore[attr-defined]
    with from_address(client, OWNER) as owner:
        with clock.frozen_at(start + timedelta(seconds=1)):
            assert _sign_in(owner, "operator", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]
        with clock.frozen_at(start + timedelta(minutes=14)):
            assert _sign_in(owner, "operator", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_an_address_failing_across_many_usernames_is_slowed(
    client: TestClient, demo: object
) -> None:
    start = clock.now()
    with from_address(client, ATTACKER) as sprayer, clock.frozen_at(start):
        for number in range(get_settings().iam.login_address_free_failures):
            assert _sign_in(sprayer, f"staff{number:03d}", "Summer2026!").status_code == 401  # type: ignore[attr-defined]
        slowed = _sign_in(sprayer, "operator", "Summer2026!")
        assert slowed.status_code == 429  # type: ignore[attr-defined]
        assert slowed.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    with from_address(client, OWNER) as owner, clock.frozen_at(start):
        assert _sign_in(owner, "operator", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_failures_older_than_the_window_no_longer_count(client: TestClient, demo: object) -> None:
    start = clock.now()
    waits = _waits_while_failing(client, "bank", start, rounds=3)
    later = start + timedelta(
        seconds=sum(waits), minutes=get_settings().iam.login_failure_window_minutes
    )
    with clock.frozen_at(later + timedelta(seconds=1)):
        assert _sign_in(client, "bank", "wrong-password").status_code == 401  # type: ignore[attr-defined]
        assert _sign_in(client, "bank", DEMO_PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_the_administrators_lock_is_not_the_throttle(
    client: TestClient, demo: object, session: Session
) -> None:
    start = clock.now()
    waits = _waits_while_failing(client, "bank", start, rounds=4)
    bank = service.get_user_or_raise(session, username="bank")
    assert bank.state == "active"  # failures never lock the account
    service.lock_user(session, user=bank, actor="user:operator")
    session.commit()
    with clock.frozen_at(start + timedelta(seconds=sum(waits) + 60)):
        locked = _sign_in(client, "bank", DEMO_PASSWORD)
    assert locked.status_code == 403  # type: ignore[attr-defined]
    assert locked.json()["error"]["code"] == "locked"  # type: ignore[attr-defined]


def test_the_numbers_are_settings(client: TestClient, demo: object, xyd_env: XydEnv) -> None:
    xyd_env(XYD_LOGIN_FREE_FAILURES="2", XYD_LOGIN_DELAY_BASE_SECONDS="30")
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(2):
            _sign_in(client, "bank", "wrong-password")
        refused = _sign_in(client, "bank", DEMO_PASSWORD)
    assert refused.headers["Retry-After"] == "30"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (9, 16), (14, 512), (15, 900), (1000, 900)],
)
def test_the_wait_doubles_with_each_failure_past_the_free_ones(failures: int, wait: float) -> None:
    assert service.throttle_delay(failures, free=5, base=1, cap=900) == wait


# --------------------------------------------------------------------------- timing (item 8)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification made, by the hash it checked."""
    checked: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        checked.append(str(hash))
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return checked


def test_every_sign_in_attempt_checks_one_password_hash_whoever_it_names(
    client: TestClient, demo: object, session: Session, verifications: list[str]
) -> None:
    auditor = service.get_user_or_raise(session, username="auditor")
    service.disable_user(session, user=auditor, actor="user:operator")
    provider = service.get_user_or_raise(session, username="provider-market")
    service.lock_user(session, user=provider, actor="user:operator")
    session.commit()
    attempts = {
        "unknown user": ("nobody-here", DEMO_PASSWORD),
        "wrong password": ("bank", "wrong-password"),
        "disabled user": ("auditor", "wrong-password"),
        "disabled user, right password": ("auditor", DEMO_PASSWORD),
        "locked user": ("provider-market", "wrong-password"),
        "right password": ("enterprise", DEMO_PASSWORD),
    }
    counts = {}
    for name, (username, password) in attempts.items():
        verifications.clear()
        _sign_in(client, username, password)
        counts[name] = len(verifications)
    assert counts == dict.fromkeys(attempts, 1)
