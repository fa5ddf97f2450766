"""``xyd iam``: organizations and users from the command line (operators, set-up scripts)."""

from __future__ import annotations

from datetime import timedelta

import typer

from xinyidai.cli.common import fail_on, print_json
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam import service
from xinyidai.iam.models import OrgState
from xinyidai.iam.schemas import OrganizationOut, UserOut

app = typer.Typer(help="Organizations, users and passwords.", no_args_is_help=True)

ACTOR = "cli"


@app.command("create-org")
def create_org(
    kind: str = typer.Option(
        ..., help="operator, provider, enterprise, institution, platform, auditor"
    ),
    name: str = typer.Option(..., help="the organization's name"),
    credit_code: str | None = typer.Option(None, help="unified social credit code"),
    department_code: str | None = typer.Option(
        None, help="a provider's department code, as the catalogue names it (e.g. tax)"
    ),
    institution_type: str | None = typer.Option(
        None, help="bank, insurer, guarantor, microlender, leasing, factoring, pawnshop"
    ),
    licence_number: str | None = typer.Option(None, help="financial licence number"),
) -> None:
    """Create an active organization and print it as JSON."""
    try:
        with session_scope() as session:
            organization = service.create_organization(
                session,
                kind=kind,
                name=name,
                actor=ACTOR,
                state=OrgState.ACTIVE,
                credit_code=credit_code,
                department_code=department_code,
                institution_type=institution_type,
                licence_number=licence_number,
            )
            print_json(OrganizationOut.model_validate(organization).model_dump(mode="json"))
    except XydError as exc:
        fail_on(exc)


@app.command("create-user")
def create_user(
    organization: str = typer.Option(..., help="the organization's public id (org_…)"),
    username: str = typer.Option(...),
    display_name: str = typer.Option(..., help="the person's name"),
    role: str = typer.Option("staff", help="admin, staff or read_only"),
    email: str | None = typer.Option(None),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="initial password"
    ),
) -> None:
    """Add a user to an organization and print it as JSON."""
    try:
        with session_scope() as session:
            org = service.get_organization_or_raise(session, public_id=organization)
            user = service.create_user(
                session,
                organization=org,
                username=username,
                display_name=display_name,
                password=password,
                role=role,
                email=email,
                actor=ACTOR,
            )
            print_json(UserOut.model_validate(user).model_dump(mode="json"))
    except XydError as exc:
        fail_on(exc)


@app.command("reset-password")
def reset_password(
    username: str,
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="the new password"
    ),
) -> None:
    """Set a user's password; every session of the user ends and throttling is cleared."""
    try:
        with session_scope() as session:
            user = service.get_user_or_raise(session, username=username)
            service.reset_password(session, user=user, new_password=password, actor=ACTOR)
            typer.echo(f"password reset for {user.username}")
    except XydError as exc:
        fail_on(exc)


@app.command("list-users")
def list_users(
    organization: str | None = typer.Option(None, help="only this organization (org_…)"),
    page: int = typer.Option(1, min=1),
    size: int = typer.Option(50, min=1, max=200),
) -> None:
    """Print users as JSON lines: username, role, state, organization."""
    try:
        with session_scope() as session:
            org_id = (
                service.get_organization_or_raise(session, public_id=organization).id
                if organization
                else None
            )
            users = page_of(
                session,
                service.users_statement(organization_id=org_id),
                PageRequest(page=page, size=size),
            )
            for user in users.items:
                print_json(
                    {
                        "username": user.username,
                        "display_name": user.display_name,
                        "role": user.role,
                        "state": user.state,
                        "organization": user.organization.public_id,
                        "organization_kind": user.organization.kind,
                        "organization_name": user.organization.name,
                    }
                )
    except XydError as exc:
        fail_on(exc)


@app.command("prune")
def prune(
    days: int = typer.Option(1, min=1, help="keep ended sessions and failed sign-ins this long"),
) -> None:
    """Delete old ended sessions, expired tokens and failed sign-ins (run daily)."""
    with session_scope() as session:
        sessions, failures = service.prune(session, keep=timedelta(days=days))
    typer.echo(f"deleted {sessions} sessions or tokens and {failures} failed sign-ins")
