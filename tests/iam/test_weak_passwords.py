"""Common passwords are refused wherever a password is set (issue 16, item 9).

``12345678`` and ``password123`` used to be accepted. Each path below refuses them with
the field at fault and the reason, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import DEMO_PASSWORD, OTHER_CODE
from tests.web.conftest import csrf_of, sign_in
from xinyidai.cli import app as cli
from xinyidai.iam import security, service
from xinyidai.iam.models import Organization, User

Headers = Callable[[str], dict[str, str]]
WEAK = ["12345678", "password123"]
REASON = "该密码属于最常用的密码，容易被猜中"


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _refused(response: object, field: str) -> None:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["field"] == field
    assert error["message"] == REASON


@pytest.mark.parametrize("weak", WEAK)
def test_enterprise_registration_refuses_a_common_password(
    client: TestClient, session: Session, weak: str
) -> None:
    response = client.post(
        "/api/v1/registrations/enterprise",
        json={
            "credit_code": OTHER_CODE,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou-materials",
            "password": weak,
        },
    )
    _refused(response, "password")
    assert (_count(session, Organization), _count(session, User)) == (0, 0)


@pytest.mark.parametrize("weak", WEAK)
def test_institution_application_refuses_a_common_password(
    client: TestClient, session: Session, weak: str
) -> None:
    response = client.post(
        "/api/v1/registrations/institution",
        json={
            "name": "北部湾村镇银行",
            "institution_type": "bank",
            "licence_number": "S0001H245010001",
            "contact_name": "李行长",
            "username": "beibu-bank",
            "password": weak,
        },
    )
    _refused(response, "password")
    assert (_count(session, Organization), _count(session, User)) == (0, 0)


@pytest.mark.parametrize("weak", WEAK)
def test_the_operator_and_an_organization_admin_cannot_give_a_common_password(
    client: TestClient, auth: Headers, session: Session, weak: str
) -> None:
    users = _count(session, User)
    bank = service.get_user_or_raise(session, username="bank").organization
    by_operator = client.post(
        f"/api/v1/organizations/{bank.public_id}/users",
        json={"username": "teller", "display_name": "柜员", "password": weak},
        headers=auth("operator"),
    )
    _refused(by_operator, "password")
    by_admin = client.post(
        "/api/v1/my-organization/users",
        json={"username": "teller", "display_name": "柜员", "password": weak},
        headers=auth("bank"),
    )
    _refused(by_admin, "password")
    assert _count(session, User) == users


@pytest.mark.parametrize("weak", WEAK)
def test_changing_to_a_common_password_is_refused(
    client: TestClient, auth: Headers, session: Session, weak: str
) -> None:
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": weak},
        headers=auth("enterprise"),
    )
    _refused(response, "new_password")
    session.expire_all()
    stored = service.get_user_or_raise(session, username="enterprise").password_hash
    assert security.verify_password(stored, DEMO_PASSWORD)


def test_the_portal_refuses_a_common_password_by_the_field(
    client: TestClient, demo: object, session: Session
) -> None:
    page = client.get("/register/enterprise")
    registered = client.post(
        "/register/enterprise",
        data={
            "csrf_token": csrf_of(page.text),
            "credit_code": OTHER_CODE,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou",
            "password": "password123",
            "password_confirm": "password123",
        },
    )
    assert registered.status_code == 422
    assert 'data-error-for="password"' in registered.text
    assert REASON in registered.text
    assert sign_in(client, "enterprise").status_code == 303  # type: ignore[attr-defined]
    page = client.get("/account/password")
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(page.text),
            "current_password": DEMO_PASSWORD,
            "new_password": "12345678",
            "new_password_confirm": "12345678",
        },
    )
    assert changed.status_code == 422
    assert 'data-error-for="new_password"' in changed.text
    assert REASON in changed.text


def test_the_command_line_refuses_a_common_password(demo: object, session: Session) -> None:
    runner = CliRunner()
    reset = runner.invoke(cli, ["iam", "reset-password", "bank"], input="12345678\n12345678\n")
    assert reset.exit_code == 1
    assert "this password is one of the most common passwords (password)" in reset.output
    operator = service.get_user_or_raise(session, username="operator").organization
    created = runner.invoke(
        cli,
        [
            "iam",
            "create-user",
            "--organization",
            operator.public_id,
            "--username",
            "chief",
            "--display-name",
            "Chief",
        ],
        input="password123\npassword123\n",
    )
    assert created.exit_code == 1
    assert "this password is one of the most common passwords (password)" in created.output
    session.expire_all()
    assert service.get_user(session, username="chief") is None
    stored = service.get_user_or_raise(session, username="bank").password_hash
    assert security.verify_password(stored, DEMO_PASSWORD)
