"""What the registry takes in and gives out over the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinyidai.core.i18n import N_
from xinyidai.registry import codes, creditcode
from xinyidai.registry.models import SubjectKind, SubjectStatus


class EnterpriseIn(BaseModel):
    credit_code: str = Field(
        description="统一社会信用代码 (GB 32100-2015), check character verified"
    )
    name: str = Field(min_length=1, max_length=200)
    kind: str | None = Field(default=None, description="derived from the code when omitted")
    region_code: str | None = Field(default=None, description="GB/T 2260 six-digit code")
    industry_code: str | None = Field(default=None, description="GB/T 4754-2017 code")
    legal_representative: str | None = Field(default=None, max_length=100)
    registered_capital: Decimal | None = Field(default=None, ge=0, description="yuan")
    established_on: date | None = None
    address: str | None = Field(default=None, max_length=300)

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        # A CreditCodeError is a ValueError carrying its message id and values: the API
        # says the reason in the caller's language (``core.i18n.validation_reason``).
        return creditcode.parse(value).code

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in tuple(SubjectKind):
            raise ValueError(f"kind must be one of {', '.join(tuple(SubjectKind))}")
        return value

    @field_validator("region_code")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and not codes.is_region(value):
            raise ValueError(f"unknown GB/T 2260 region code {value}")
        return value

    @field_validator("industry_code")
    @classmethod
    def _known_industry(cls, value: str | None) -> str | None:
        if value is not None and not codes.is_industry(value):
            raise ValueError(f"unknown GB/T 4754 industry code {value}")
        return value.upper() if value else value


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    credit_code: str
    name: str
    kind: str
    status: str
    region_code: str | None
    industry_code: str | None
    legal_representative: str | None
    registered_capital: Decimal | None
    established_on: date | None
    address: str | None
    created_at: datetime
    updated_at: datetime


class CodeOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None


class CreditCodeCheck(BaseModel):
    code: str
    valid: bool
    reason: str | None = None
    authority: str | None = None
    organization_type: str | None = None
    region_code: str | None = None
    region_name: str | None = None
    check_character: str | None = None


# How a subject's registration status reads on screen and in reports (message ids).
STATUS_LABELS: dict[str, str] = {
    SubjectStatus.ACTIVE: N_("In business"),
    SubjectStatus.PENDING: N_("Awaiting verification"),
    SubjectStatus.DEREGISTERED: N_("Deregistered"),
}
