"""``xyd iam``: create organizations and users, reset passwords, list users."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from xinyidai.cli import app
from xinyidai.iam import security, service

runner = CliRunner()


def test_create_org_user_list_and_reset_password(db_url: str, session: Session) -> None:
    created = runner.invoke(app, ["iam", "create-org", "--kind", "operator", "--name", "信用中心"])
    assert created.exit_code == 0, created.output
    org_id = json.loads(created.stdout)["public_id"]
    user = runner.invoke(
        app,
        [
            "iam",
            "create-user",
            "--organization",
            org_id,
            "--username",
            "chief",
            "--display-name",
            "Chief",
            "--role",
            "admin",
        ],
        input="first-password\nfirst-password\n",
    )
    assert user.exit_code == 0, user.output
    listed = runner.invoke(app, ["iam", "list-users"])
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    assert [(row["username"], row["role"], row["organization"]) for row in rows] == [
        ("chief", "admin", org_id)
    ]
    reset = runner.invoke(
        app, ["iam", "reset-password", "chief"], input="second-password\nsecond-password\n"
    )
    assert reset.exit_code == 0, reset.output
    stored = service.get_user_or_raise(session, username="chief")
    assert security.verify_password(stored.password_hash, "second-password")


def test_create_org_with_a_bad_kind_fails_and_stores_nothing(db_url: str, session: Session) -> None:
    result = runner.invoke(app, ["iam", "create-org", "--kind", "casino", "--name", "X"])
    assert result.exit_code == 1
    assert service.list_organizations(session)[1] == 0


def test_prune_reports_what_it_deleted(db_url: str) -> None:
    result = runner.invoke(app, ["iam", "prune"])
    assert result.exit_code == 0, result.output
    assert "deleted 0 sessions or tokens and 0 failed sign-ins" in result.stdout
