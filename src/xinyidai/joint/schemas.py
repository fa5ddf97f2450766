"""What joint modelling takes in and gives out over the API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.joint.models import ThresholdQuestion

QUESTION_HELP = ", ".join(ThresholdQuestion)


class ThresholdIn(BaseModel):
    credit_code: str = Field(description="the enterprise asked about")
    question: str = Field(description=QUESTION_HELP)
    threshold: str | Annotated[int, Field(ge=0, le=10**12)] | None = Field(
        default=None,
        description=(
            "yuan (tax_paid_last_year, registered_capital) or heads (insured_headcount); "
            "none for no_arrears"
        ),
    )
    letter_id: str | None = Field(
        default=None, description="the authorization letter (purpose verification) relied on"
    )


class ThresholdOut(BaseModel):
    """A threshold answer: yes or no, never the value; how many answers are left."""

    model_config = ConfigDict(from_attributes=True)

    public_id: str
    credit_code: str
    question: str
    threshold: Decimal | None
    holds: bool
    event_id: str = Field(description="the access event that allowed the answer")
    asked_at: datetime
    remaining: int = Field(
        description="answers left about this enterprise and question in the window"
    )


class ThresholdAnswerOut(BaseModel):
    """An answer given earlier, as the asking organization lists them."""

    model_config = ConfigDict(from_attributes=True)

    public_id: str
    credit_code: str
    question: str
    threshold: str | None
    holds: bool
    event_id: str
    asked_by: str
    asked_at: datetime


class AlignmentIn(BaseModel):
    points: list[str] = Field(
        description="the institution's customers, each hashed to the group and blinded by its "
        "secret (32 bytes, base64), shuffled",
        max_length=500_000,
    )


class AlignmentOut(BaseModel):
    """An alignment as its institution and the operator see it: sizes, never identifiers."""

    model_config = ConfigDict(from_attributes=True)

    public_id: str
    organization_id: str
    organization_name: str
    state: str
    sent: int
    offered: int
    matched: int | None
    created_by: str
    created_at: datetime
    matched_at: datetime | None


class AlignmentOfferOut(AlignmentOut):
    """The center's answer: the institution's points raised to its secret, in the order sent,
    and its own enterprises' points (those whose letters allow joint modelling), shuffled."""

    answer: list[str]
    center_points: list[str]


class MatchIn(BaseModel):
    positions: list[Annotated[int, Field(ge=0, le=500_000)]] = Field(
        description="positions in center_points whose points matched, increasing",
        max_length=500_000,
    )
