"""Organizations: creation, lists, counts, and their guarded transitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
)
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam.models import InstitutionType, Organization, OrgKind, OrgState
from xinyidai.iam.schemas import OrganizationCount
from xinyidai.iam.service import clearance
from xinyidai.iam.service.credentials import revoke_user_sessions
from xinyidai.iam.service.rules import (
    OPERATOR_CREATED_KINDS,
    StateChanges,
    _choice,
    clean_department_code,
    optional_email,
    optional_text,
    required_text,
)
from xinyidai.registry import service as registry_service

# An enterprise account holds its credit code while approved; a suspension does not free it.
HOLDING_STATES = (OrgState.ACTIVE, OrgState.SUSPENDED)
# Why the other pending claims to a code close when one is approved (shown to them).
CLAIM_CLOSED = N_("another claim to this credit code was approved")


ORGANIZATIONS: Machine[OrgState] = Machine(
    kind="organization",
    states=OrgState,
    subject=Organization,
    moves=(
        Move("create", (), OrgState.PENDING),  # or where the operator creates it (active)
        Move("approve", (OrgState.PENDING,), OrgState.ACTIVE),
        Move("close", (OrgState.PENDING,), OrgState.REJECTED),  # another claim was approved
        Move("reject", (OrgState.PENDING,), OrgState.REJECTED, reason_required=True),
        Move("suspend", (OrgState.ACTIVE,), OrgState.SUSPENDED, reason_required=True),
        Move("reactivate", (OrgState.SUSPENDED,), OrgState.ACTIVE),
    ),
    # Who moves an organization is the operator's routes' check (and the command line's).
    refusal=N_("cannot {transition} an organization that is {state}"),
    keeps_reason=True,
    history=StateChanges(),
)


def _move_organization(
    session: Session,
    organization: Organization,
    *,
    transition: str,
    actor: str,
    reason: str | None,
) -> Organization:
    ORGANIZATIONS.move(session, organization, transition, actor=actor, reason=reason)
    return organization


def approve_organization(
    session: Session, *, organization: Organization, actor: str, reason: str | None = None
) -> Organization:
    """Pending → active: the operator accepts an application or verifies a registration.

    Approving an enterprise's claim to its credit code makes it the code's one account:
    refused (409, field ``credit_code``) while another account holds the code, and every
    other pending claim to the code is closed (rejected, with the reason).
    """
    if organization.kind == OrgKind.INSTITUTION and get_settings().supervision.read_gate:
        # Onboarding waits for the security assessment (NX-18): its passing is recorded
        # in the institution's clearance by the supervision domain.
        ORGANIZATIONS.check(organization, "approve")
        row = clearance.clearance_of(session, organization_id=organization.id)
        if not clearance.assessment_valid(row, clock.today()):
            raise Conflict(
                "an institution is approved only after it passes the security assessment",
                field="assessment",
            )
    if organization.kind != OrgKind.ENTERPRISE or not organization.credit_code:
        return _move_organization(
            session,
            organization,
            transition="approve",
            actor=actor,
            reason=reason,
        )
    # Two operators approving two claims to one code at once: the second waits here and
    # then sees the first's approval (and the partial unique index stands behind this).
    claims = _lock_claims(session, credit_code=organization.credit_code)
    holder = next(
        (c for c in claims if c.state in HOLDING_STATES and c.id != organization.id), None
    )
    if holder is not None:
        raise _code_taken(organization.credit_code)
    _move_organization(
        session,
        organization,
        transition="approve",
        actor=actor,
        reason=reason,
    )
    for other in claims:
        if other.id != organization.id and other.state == OrgState.PENDING:
            _move_organization(
                session,
                other,
                transition="close",
                actor=actor,
                reason=CLAIM_CLOSED,
            )
    return organization


def reject_organization(
    session: Session, *, organization: Organization, actor: str, reason: str | None = None
) -> Organization:
    """Pending → rejected, with the reason the applicant will see."""
    return _move_organization(
        session,
        organization,
        transition="reject",
        actor=actor,
        reason=reason,
    )


def suspend_organization(
    session: Session, *, organization: Organization, actor: str, reason: str | None = None
) -> Organization:
    """Active → suspended: its users and keys stop working at once."""
    if organization.kind == OrgKind.OPERATOR:
        raise Conflict("the operator cannot be suspended", field="state")
    _move_organization(
        session,
        organization,
        transition="suspend",
        actor=actor,
        reason=reason,
    )
    for user in organization.users:
        revoke_user_sessions(session, user_id=user.id)
    return organization


def reactivate_organization(
    session: Session, *, organization: Organization, actor: str, reason: str | None = None
) -> Organization:
    """Suspended → active."""
    return _move_organization(
        session,
        organization,
        transition="reactivate",
        actor=actor,
        reason=reason,
    )


# --------------------------------------------------------------------------- organizations


def get_organization(session: Session, *, public_id: str) -> Organization | None:
    """The organization with this public id, or None."""
    return session.scalar(select(Organization).where(Organization.public_id == public_id))


def get_organization_or_raise(session: Session, *, public_id: str) -> Organization:
    """The organization with this public id; ``NotFound`` otherwise."""
    organization = get_organization(session, public_id=public_id)
    if organization is None:
        raise NotFound("no organization {id}", field="organization", id=public_id)
    return organization


def get_organization_by_id(session: Session, *, organization_id: int) -> Organization | None:
    """The organization with this internal id, or None."""
    return session.get(Organization, organization_id)


def get_enterprise_organization(session: Session, *, credit_code: str) -> Organization | None:
    """The enterprise account holding this credit code (approved: active or suspended), or
    None. Pending and rejected claims to a code hold nothing."""
    return session.scalar(
        select(Organization).where(
            Organization.kind == OrgKind.ENTERPRISE,
            Organization.credit_code == credit_code,
            Organization.state.in_(HOLDING_STATES),
        )
    )


def enterprise_claims(session: Session, *, credit_code: str) -> list[Organization]:
    """Every enterprise organization that claimed this credit code, oldest first."""
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.kind == OrgKind.ENTERPRISE, Organization.credit_code == credit_code)
            .order_by(Organization.created_at, Organization.id)
        )
    )


def _lock_claims(session: Session, *, credit_code: str) -> list[Organization]:
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.kind == OrgKind.ENTERPRISE, Organization.credit_code == credit_code)
            .order_by(Organization.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _code_taken(code: str) -> Conflict:
    return Conflict(
        "credit code {code} already belongs to an approved enterprise account; "
        "its administrator can add you as a member",
        field="credit_code",
        code=code,
    )


def check_code_free(session: Session, *, credit_code: str) -> None:
    """``Conflict`` (field ``credit_code``) if an approved account holds this code; pending
    and rejected claims never block it."""
    if get_enterprise_organization(session, credit_code=credit_code) is not None:
        raise _code_taken(credit_code)


def get_provider_by_department(session: Session, *, department_code: str) -> Organization | None:
    """The provider organization filing data under this department code, or None."""
    return session.scalar(
        select(Organization).where(Organization.department_code == department_code)
    )


def create_organization(
    session: Session,
    *,
    kind: str,
    name: str,
    actor: str,
    state: str = OrgState.PENDING,
    credit_code: str | None = None,
    department_code: str | None = None,
    institution_type: str | None = None,
    licence_number: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    is_demo: bool = False,
) -> Organization:
    """Add an organization after checking its fields; its creation is its first transition."""
    kind = _choice(kind, allowed=tuple(OrgKind), field="kind")
    state = _choice(state, allowed=tuple(OrgState), field="state")
    name = required_text(name, field="name")
    code = (
        registry_service.parse_code_or_raise(credit_code)
        if credit_code and credit_code.strip()
        else None
    )
    if kind == OrgKind.ENTERPRISE and code is None:
        raise ValidationFailed("this field is required", field="credit_code")
    if kind == OrgKind.ENTERPRISE:
        check_code_free(session, credit_code=code or "")
    department = None
    if kind == OrgKind.PROVIDER:
        department = clean_department_code(department_code)
        if get_provider_by_department(session, department_code=department) is not None:
            raise Conflict(
                "department code {department_code} is taken",
                field="department_code",
                department_code=department,
            )
    if kind == OrgKind.INSTITUTION:
        institution_type = _choice(
            institution_type, allowed=tuple(InstitutionType), field="institution_type"
        )
        licence_number = required_text(licence_number, field="licence_number", max_length=60)
    else:
        institution_type = None
        licence_number = optional_text(licence_number, field="licence_number", max_length=60)
    organization = Organization(
        public_id=new_id("org"),
        kind=kind,
        name=name,
        credit_code=code,
        department_code=department,
        institution_type=institution_type,
        licence_number=licence_number,
        contact_name=optional_text(contact_name, field="contact_name", max_length=100),
        contact_phone=optional_text(contact_phone, field="contact_phone", max_length=40),
        contact_email=optional_email(contact_email, field="contact_email"),
        is_demo=is_demo,
    )
    session.add(organization)
    ORGANIZATIONS.begin(session, organization, "create", actor=actor, state=OrgState(state))
    return organization


def create_partner_organization(
    session: Session,
    *,
    kind: str,
    name: str,
    actor: str,
    credit_code: str | None = None,
    department_code: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
) -> Organization:
    """The operator creates a provider, auditor or platform organization, active at once."""
    kind = _choice(kind, allowed=OPERATOR_CREATED_KINDS, field="kind")
    return create_organization(
        session,
        kind=kind,
        name=name,
        actor=actor,
        state=OrgState.ACTIVE,
        credit_code=credit_code,
        department_code=department_code,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
    )


def organizations_statement(
    *, kind: str | None = None, state: str | None = None, q: str | None = None
) -> Select[Any]:
    """Organizations (newest first) matching the filters."""
    stmt = select(Organization).order_by(Organization.created_at.desc(), Organization.id.desc())
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if state:
        stmt = stmt.where(Organization.state == state)
    if q and q.strip():
        text = q.strip()
        stmt = stmt.where(
            or_(Organization.name.contains(text), Organization.credit_code.startswith(text.upper()))
        )
    return stmt


def list_organizations(
    session: Session,
    *,
    kind: str | None = None,
    state: str | None = None,
    q: str | None = None,
    page: int = 1,
    size: int = 20,
) -> tuple[list[Organization], int]:
    """One page of ``organizations_statement`` and the total (for services and scripts; an
    entry point shows a page through ``core.pagination.page_of``)."""
    return paginate(
        session, organizations_statement(kind=kind, state=state, q=q), page=page, size=size
    )


def organization_public_ids(session: Session, *, kind: str, state: str) -> list[str]:
    """The public ids of every organization of ``kind`` in ``state``."""
    return list(
        session.scalars(
            select(Organization.public_id).where(
                Organization.kind == kind, Organization.state == state
            )
        )
    )


def organization_counts(session: Session) -> list[OrganizationCount]:
    """How many organizations there are of each kind in each state (the operator's chart)."""
    stmt = (
        select(Organization.kind, Organization.state, func.count())
        .group_by(Organization.kind, Organization.state)
        .order_by(Organization.kind, Organization.state)
    )
    return [
        OrganizationCount(kind=kind, state=state, count=int(count))
        for kind, state, count in session.execute(stmt)
    ]


def pending_applications(session: Session, *, limit: int = 50) -> list[Organization]:
    """Organizations waiting for the operator's decision, oldest first."""
    stmt = (
        select(Organization)
        .where(Organization.state == OrgState.PENDING)
        .order_by(Organization.created_at, Organization.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
