"""What goes in and out of the financial blacklist over the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Int
from xinyidai.risk.models import ListingBasis, ListingState

REASON_MAX = 2000


class ListingIn(BaseModel):
    """An institution's proposal: the enterprise, the evidence and the reason."""

    credit_code: str = Field(description="the enterprise proposed for listing")
    basis: str = Field(description=", ".join(ListingBasis))
    loan_id: str | None = Field(
        default=None, description="basis default: the institution's defaulted loan"
    )
    case_id: str | None = Field(
        default=None, description="basis fraud: the institution's confirmed fraud case"
    )
    reason: str = Field(description="why the enterprise should be listed")
    term_days: Int | None = Field(
        default=None, description="how long the listing lasts (default: risk.listing_days)"
    )


class StepIn(BaseModel):
    """An operator's decision or removal, with its reason."""

    reason: str | None = None


class ObjectionIn(BaseModel):
    """The enterprise's answer within its window."""

    text: str = Field(description="the objection")


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    role: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ListingStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    credit_code: str
    enterprise_name: str
    institution_id: str
    institution_name: str
    basis: ListingBasis
    loan_id: str | None
    case_id: str | None
    reason: str
    term_days: int
    state: ListingState
    state_changed_at: datetime
    state_reason: str | None
    proposed_at: datetime
    notified_at: datetime | None
    objection_until: datetime | None
    objection: str | None
    objected_at: datetime | None
    listed_from: datetime | None
    listed_until: datetime | None
    ended_at: datetime | None


class ListingDetailOut(ListingOut):
    history: list[ListingStepOut]
    documents: list[DocumentOut]
    available: list[str] = Field(description="the moves the caller may make now")


class ListedOut(BaseModel):
    """A listing in force, as the profile and the report show it."""

    id: str
    reason: str
    basis: ListingBasis
    institution_name: str
    listed_from: datetime
    listed_until: datetime
