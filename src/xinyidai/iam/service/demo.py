"""The demo accounts, and the check that refuses them in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from xinyidai.iam import security
from xinyidai.iam.models import Organization, OrgKind, OrgState, Role, User
from xinyidai.iam.service.credentials import get_user
from xinyidai.iam.service.organizations import create_organization, get_enterprise_organization
from xinyidai.iam.service.rules import DEMO_PASSWORD, DEMO_USERNAMES
from xinyidai.iam.service.users import create_user
from xinyidai.registry import service as registry_service

# --------------------------------------------------------------------------- demo accounts

# What a demo institution needs before it reads (its confidentiality agreement signed, a
# passed security assessment) is granted by the supervision domain above this one: it
# registers here what to do with each demo institution made.
DemoInstitutionHook = Callable[[Session, Organization], None]
_DEMO_INSTITUTION_HOOKS: list[DemoInstitutionHook] = []


def on_demo_institution(hook: DemoInstitutionHook) -> DemoInstitutionHook:
    """Run ``hook`` on every demo institution made from now on (once per hook)."""
    if hook not in _DEMO_INSTITUTION_HOOKS:
        _DEMO_INSTITUTION_HOOKS.append(hook)
    return hook


def demo_institution_made(session: Session, organization: Organization) -> None:
    """Tell the registered hooks of a new demo institution."""
    for hook in _DEMO_INSTITUTION_HOOKS:
        hook(session, organization)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    kind: str
    role: str
    organization: str


def ensure_demo_accounts(session: Session, *, enterprise_code: str) -> list[DemoAccount]:
    """Create the six demo accounts (password ``demo-password``) if missing; idempotent.

    ``enterprise_code`` names a subject already in the registry (a synthetic region's).
    """
    subject = registry_service.get_by_code_or_raise(session, credit_code=enterprise_code)
    actor = "system:demo"
    plan = [
        ("operator", OrgKind.OPERATOR, "信用信息共享平台运营中心", {}),
        ("provider-tax", OrgKind.PROVIDER, "税务局", {"department_code": "tax"}),
        ("provider-market", OrgKind.PROVIDER, "市场监督管理局", {"department_code": "market"}),
        ("enterprise", OrgKind.ENTERPRISE, subject.name, {"credit_code": subject.credit_code}),
        (
            "bank",
            OrgKind.INSTITUTION,
            "演示商业银行",
            {"institution_type": "bank", "licence_number": "B0000H000000001"},
        ),
        ("auditor", OrgKind.AUDITOR, "第三方审计机构", {}),
    ]
    accounts: list[DemoAccount] = []
    for username, kind, org_name, extra in plan:
        user = get_user(session, username=username)
        if user is None:
            organization = None
            if kind == OrgKind.ENTERPRISE:
                organization = get_enterprise_organization(session, credit_code=subject.credit_code)
            if organization is None:
                organization = create_organization(
                    session,
                    kind=kind,
                    name=org_name,
                    actor=actor,
                    state=OrgState.ACTIVE,
                    is_demo=True,
                    **extra,
                )
                if kind == OrgKind.INSTITUTION:
                    demo_institution_made(session, organization)
            user = create_user(
                session,
                organization=organization,
                username=username,
                display_name=username,
                password=DEMO_PASSWORD,
                actor=actor,
                role=Role.ADMIN,
                is_demo=True,
            )
        accounts.append(
            DemoAccount(
                username=user.username,
                password=DEMO_PASSWORD,
                kind=user.organization.kind,
                role=user.role,
                organization=user.organization.name,
            )
        )
    return accounts


def demo_accounts_exist(session: Session) -> bool:
    """Whether a demo account exists: flagged as demo, or a demo name with the demo password."""
    if not inspect(session.get_bind()).has_table(User.__tablename__):
        return False
    if session.scalar(select(User.id).where(User.is_demo.is_(True)).limit(1)) is not None:
        return True
    named = session.scalars(select(User).where(User.username.in_(DEMO_USERNAMES)))
    return any(security.verify_password(user.password_hash, DEMO_PASSWORD) for user in named)
