"""What identity and access take in and give out, and the ``Principal`` other domains see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.iam.models import Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API key, and the organization behind it.

    Plain values only, so that other domains can use it without touching iam's tables.
    ``role`` is the member's role inside its organization (``admin``, ``staff``,
    ``read_only``); API keys act with the ``staff`` role limited to their ``scopes``.
    """

    organization_id: int
    organization_public_id: str
    organization_kind: str
    organization_name: str
    organization_state: str
    role: str
    user_id: int | None = None
    user_public_id: str | None = None
    username: str | None = None
    display_name: str | None = None
    credit_code: str | None = None
    organization_code: str | None = None  # a provider's department code (e.g. "tax")
    institution_type: str | None = None
    api_key_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: int | None = None
    via: str = "token"  # "portal" (session cookie), "token" (bearer) or "api_key"
    system: str | None = None  # a process acting for the organization (``rules``), no user

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_write(self) -> bool:
        return self.role != Role.READ_ONLY

    @property
    def actor(self) -> str:
        """How this principal is named in transitions and audit trails."""
        if self.system:
            return f"system:{self.system}"
        if self.username:
            return f"user:{self.username}"
        return f"api_key:{self.api_key_id}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str = Field(description="stable public id, org_…")
    kind: str = Field(description="operator, provider, enterprise, institution, platform, auditor")
    name: str
    state: str = Field(description="pending, active, rejected or suspended")
    credit_code: str | None = Field(description="unified social credit code (enterprises)")
    department_code: str | None = Field(
        description="a provider's department code, as the catalogue names providers (e.g. tax)"
    )
    institution_type: str | None
    licence_number: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    state_changed_at: datetime | None
    state_changed_by: str | None
    state_reason: str | None
    created_at: datetime


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    username: str
    display_name: str
    email: str | None
    role: str = Field(description="admin, staff or read_only inside the organization")
    state: str = Field(description="active, locked or disabled")
    last_login_at: datetime | None
    created_at: datetime


class MeOut(BaseModel):
    user: UserOut
    organization: OrganizationOut


class TokenOut(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int


class PasswordChangeIn(BaseModel):
    current_password: str
    new_password: str


class ApiKeyIn(BaseModel):
    name: str = Field(description="what the key is for, e.g. the pushing system's name")
    scopes: list[str] = Field(description="e.g. ingest:write, ledger:witness, federation")


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the whole key; shown once, store it now")


class EnterpriseRegistrationIn(BaseModel):
    credit_code: str = Field(description="统一社会信用代码, check character verified")
    enterprise_name: str | None = Field(
        default=None, description="needed only when the code is not yet in the registry"
    )
    contact_name: str
    contact_phone: str | None = None
    contact_email: str | None = None
    username: str
    password: str


class InstitutionApplicationIn(BaseModel):
    name: str
    institution_type: str = Field(
        description="bank, insurer, guarantor, microlender, leasing, factoring or pawnshop"
    )
    licence_number: str
    credit_code: str | None = None
    contact_name: str
    contact_phone: str | None = None
    contact_email: str | None = None
    username: str
    password: str


class OrganizationIn(BaseModel):
    kind: str = Field(description="provider, auditor or platform")
    name: str
    department_code: str | None = Field(
        default=None, description="required for a provider: the catalogue's provider code"
    )
    credit_code: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


class UserIn(BaseModel):
    username: str
    display_name: str
    password: str
    role: str = Field(default="staff", description="admin, staff or read_only")
    email: str | None = None


class DecisionIn(BaseModel):
    reason: str | None = Field(default=None, description="why; required to reject or suspend")


class OrganizationCount(BaseModel):
    kind: str
    state: str
    count: int
