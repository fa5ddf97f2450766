"""Service rules without HTTP: validation, demo accounts, the production guard, secrets."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE
from tests.conftest import XydEnv
from xinyidai.core import db as core_db
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.iam import security, service


@given(st.text(max_size=80))
def test_a_username_is_either_clean_or_refused_naming_the_field(raw: str) -> None:
    if re.fullmatch(r"[a-z0-9][a-z0-9._-]{2,59}", raw.strip().lower()):
        assert service.clean_username(raw) == raw.strip().lower()
    else:
        with pytest.raises(ValidationFailed) as caught:
            service.clean_username(raw)
        assert caught.value.field == "username"


@given(st.text(max_size=200))
def test_a_password_is_either_kept_or_refused_naming_the_field(raw: str) -> None:
    outcome: str | ValidationFailed
    try:
        outcome = service.check_password_rules(raw)
    except ValidationFailed as refused:
        outcome = refused
    if isinstance(outcome, ValidationFailed):
        assert outcome.field == "password"
    else:
        assert outcome == raw
        assert 8 <= len(raw) <= 128


@pytest.mark.parametrize(
    "weak", ["12345678", "password123", "qwertyuiop", "1qaz2wsx", "88888888", "zhang1990"]
)
def test_common_and_easily_guessed_passwords_are_refused_with_the_reason(weak: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.check_password_rules(weak, field="new_password")
    assert refused.value.field == "new_password"
    assert "easy to guess" in refused.value.message or "common" in refused.value.message


def test_a_password_built_on_the_username_is_refused() -> None:
    assert service.check_password_rules("liuzhou2026") == "liuzhou2026"
    with pytest.raises(ValidationFailed) as refused:
        service.check_password_rules("liuzhou2026", user_inputs=["liuzhou", "王经理"])
    assert refused.value.message == (
        "this password is built on your username, name or e-mail address"
    )


def test_a_passphrase_longer_than_zxcvbn_reads_is_judged_not_a_server_error() -> None:
    long = "correct horse battery staple " * 3 + "and one more clause"  # 106 characters
    assert len(long) > 72
    assert service.check_password_rules(long) == long
    with pytest.raises(ValidationFailed) as caught:
        service.check_password_rules("a" * 100)
    assert caught.value.field == "password"


def test_passwords_are_hashed_with_argon2id() -> None:
    hashed = security.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "correct horse")
    assert not security.verify_password(hashed, "correct horsE")
    assert not security.verify_password(None, "anything")
    assert not security.verify_password("not-a-hash", "anything")


def test_api_key_layout_is_recognised() -> None:
    key, prefix = security.new_api_key()
    assert security.api_key_prefix(key) == prefix
    assert security.api_key_prefix("xyd_short_secret") is None
    assert security.api_key_prefix("an-access-token") is None


def test_demo_accounts_are_created_once(demo: list[service.DemoAccount], session: Session) -> None:
    assert [account.username for account in demo] == list(service.DEMO_USERNAMES)
    again = service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    assert again == demo
    _, total = service.list_users(session)
    assert total == 6
    enterprise = service.get_user_or_raise(session, username="enterprise")
    assert enterprise.organization.credit_code == ENTERPRISE_CODE
    assert all(account.password == DEMO_PASSWORD for account in demo)


def test_demo_accounts_need_the_enterprise_in_the_registry(session: Session) -> None:
    with pytest.raises(NotFound):
        service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    assert not service.demo_accounts_exist(session)


def test_a_demo_username_with_a_changed_password_is_not_a_demo_account(
    demo: object, session: Session
) -> None:
    assert service.demo_accounts_exist(session)
    for username in service.DEMO_USERNAMES:
        user = service.get_user_or_raise(session, username=username)
        user.is_demo = False
        if username != "auditor":
            service.reset_password(session, user=user, new_password="a-real-password", actor="t")
    session.flush()
    assert service.demo_accounts_exist(session)  # auditor still has the demo password
    auditor = service.get_user_or_raise(session, username="auditor")
    service.reset_password(session, user=auditor, new_password="a-real-password", actor="t")
    assert not service.demo_accounts_exist(session)


@pytest.fixture
def production(xyd_env: XydEnv) -> None:
    xyd_env(XYD_ENV="production", XYD_SECRET_KEY="a-real-secret-for-this-test")


def test_production_refuses_to_start_while_demo_accounts_exist(
    demo: object, production: object
) -> None:
    from xinyidai.app import create_app

    with pytest.raises(RuntimeError, match="demo accounts"):
        create_app()


def test_production_starts_without_demo_accounts(db_url: str, production: object) -> None:
    from xinyidai.app import create_app

    assert create_app() is not None
    core_db.reset_engines()


def test_prune_keeps_live_tokens_and_spent_refresh_tokens_until_they_expire(
    demo: object, session: Session
) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from xinyidai.core import clock
    from xinyidai.iam.models import AuthSession, LoginFailure

    user = service.get_user_or_raise(session, username="bank")
    start = clock.now()
    with clock.frozen_at(start):
        old = service.issue_tokens(session, user=user)
        service.record_login_failure(session, username="bank", client_ip="10.0.0.1")
        service.refresh_tokens(session, refresh_token=old.refresh_token)
    with clock.frozen_at(start + timedelta(days=2)):
        live = service.issue_tokens(session, user=user)
        deleted = service.prune(session)
        assert deleted == (2, 1)  # the two expired access tokens; the failed sign-in
        kinds = sorted(session.scalars(select(AuthSession.kind)))
        assert kinds == ["access", "refresh", "refresh", "refresh"]
        assert service.resolve_token(session, token=live.access_token, kind="access")
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
