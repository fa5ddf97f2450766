"""Onboarding: an enterprise registers with its credit code; an institution applies."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinyidai.core.errors import (
    Conflict,
)
from xinyidai.iam.models import Organization, OrgKind, OrgState, Role, User
from xinyidai.iam.service.credentials import get_user
from xinyidai.iam.service.organizations import check_code_free, create_organization
from xinyidai.iam.service.rules import (
    check_password_rules,
    clean_username,
    optional_email,
    optional_text,
    required_text,
)
from xinyidai.iam.service.users import create_user
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import SubjectStatus
from xinyidai.registry.schemas import EnterpriseIn

# --------------------------------------------------------------------------- registration


def register_enterprise(
    session: Session,
    *,
    credit_code: str,
    contact_name: str,
    username: str,
    password: str,
    enterprise_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
) -> tuple[Organization, User]:
    """An enterprise claims its credit code.

    The claim is always ``pending`` until the operator approves it: a credit code is public,
    so knowing one proves nothing, and an enterprise account reads that enterprise's
    non-public records and acts in its name. Pending or rejected claims to a code never
    block another (several may wait side by side; the operator approves one, which closes
    the others); only a code held by an approved account is refused (409, ``credit_code``).
    A code found in the registry names the claim as registered; an unknown (but valid) code
    creates the registry subject pending verification, and while it is unverified each
    claim keeps the name its claimant gave.
    """
    code = registry_service.parse_code_or_raise(credit_code)
    username = clean_username(username)
    contact_name = required_text(contact_name, field="contact_name", max_length=100)
    check_password_rules(password, user_inputs=(username, contact_name, contact_email))
    contact_phone = optional_text(contact_phone, field="contact_phone", max_length=40)
    contact_email = optional_email(contact_email, field="contact_email")
    check_code_free(session, credit_code=code)
    if get_user(session, username=username) is not None:
        raise Conflict("the username {username} is taken", field="username", username=username)
    subject = registry_service.get_by_code(session, credit_code=code)
    name = subject.name if subject is not None else None
    if subject is None or (
        subject.status == SubjectStatus.PENDING and (enterprise_name or "").strip()
    ):
        name = required_text(enterprise_name, field="enterprise_name")
    if subject is None:
        subject = registry_service.create(
            session, data=EnterpriseIn(credit_code=code, name=name), status=SubjectStatus.PENDING
        )
    actor = f"user:{username}"
    organization = create_organization(
        session,
        kind=OrgKind.ENTERPRISE,
        name=name or subject.name,
        actor=actor,
        state=OrgState.PENDING,
        credit_code=code,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
    )
    user = create_user(
        session,
        organization=organization,
        username=username,
        display_name=contact_name,
        password=password,
        actor=actor,
        role=Role.ADMIN,
        email=contact_email,
    )
    return organization, user


def apply_institution(
    session: Session,
    *,
    name: str,
    institution_type: str,
    licence_number: str,
    contact_name: str,
    username: str,
    password: str,
    credit_code: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
) -> tuple[Organization, User]:
    """A financial institution applies for access; it waits, pending, for the operator."""
    username = clean_username(username)
    contact_name = required_text(contact_name, field="contact_name", max_length=100)
    check_password_rules(password, user_inputs=(username, contact_name, contact_email))
    if get_user(session, username=username) is not None:
        raise Conflict("the username {username} is taken", field="username", username=username)
    actor = f"user:{username}"
    organization = create_organization(
        session,
        kind=OrgKind.INSTITUTION,
        name=name,
        actor=actor,
        state=OrgState.PENDING,
        credit_code=credit_code,
        institution_type=institution_type,
        licence_number=licence_number,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
    )
    user = create_user(
        session,
        organization=organization,
        username=username,
        display_name=contact_name,
        password=password,
        actor=actor,
        role=Role.ADMIN,
        email=contact_email,
    )
    return organization, user
