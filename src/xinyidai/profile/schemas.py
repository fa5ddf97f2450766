"""What the panoramic profile gives out: one object per enterprise, as the viewer may see it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from xinyidai.consent.schemas import ReportOut
from xinyidai.core.i18n import N_
from xinyidai.graph.schemas import AssociationsOut
from xinyidai.risk.schemas_blacklist import ListedOut
from xinyidai.scoring.schemas import RatingOut

# Parts of the profile other than the catalogue's categories, as ``withheld`` names them.
PART_RATING = "rating"
PART_ASSOCIATIONS = "associations"
PART_FINANCING = "financing"
PART_LABELS = {
    PART_RATING: N_("Credit rating"),
    PART_ASSOCIATIONS: N_("Associations"),
    PART_FINANCING: N_("Financing on the platform"),
}


class IdentityOut(BaseModel):
    """Who the enterprise is: the registry's facts, each as the registration category's view
    shows that field to the viewer (null where it shows nothing)."""

    credit_code: str
    name: str
    kind: str = Field(description="the code's registering-authority kind (91 enterprise, …)")
    status: str | None
    region_code: str | None
    region_name: str | None = Field(description="county, city and province (GB/T 2260)")
    industry_code: str | None
    industry_name: str | None = Field(description="GB/T 4754 class")
    legal_representative: str | None = Field(
        description="as the registration category's view shows it (public: raw for everyone)"
    )
    registered_capital: Decimal | str | None = Field(
        description="yuan; a range where the grading desensitizes it"
    )
    established_on: date | None
    age_years: float | None = Field(description="years since establishment")
    address: str | None = Field(description="as the registration category's view shows it")


class TrendPoint(BaseModel):
    as_of: date
    rated_at: datetime
    score: float
    grade: str
    model_version: str
    trigger: str


class ListStatusOut(BaseModel):
    """Whether the enterprise is on a red (honour) or black (dishonesty) list now."""

    category: str
    name_zh: str
    name_en: str
    colour: str = Field(description="red (a list of honour) or black (a list of dishonesty)")
    on_list: bool = Field(description="at least one listing in force today")
    listings: int = Field(description="listings in force today")
    since: date | None = Field(description="the earliest listing in force")
    removed: int = Field(description="earlier listings, since removed or expired")


class ApplicationItem(BaseModel):
    id: str
    product_name: str
    institution_name: str
    amount: Decimal
    term_months: int
    state: str
    submitted_at: datetime
    decided_amount: Decimal | None


class LoanItem(BaseModel):
    id: str
    contract_number: str
    institution_name: str
    product_type: str
    principal: Decimal
    rate: Decimal
    balance: Decimal
    start_on: date
    maturity_on: date
    state: str


class FinancingOut(BaseModel):
    """The enterprise's financing on the platform that the viewer may see."""

    scope: str = Field(
        description="all (the enterprise itself, the operator) or own (an institution: "
        "only the applications it received and the loans it made)"
    )
    applications: list[ApplicationItem]
    loans: list[LoanItem]
    approved: int = Field(description="applications approved")
    outstanding: Decimal = Field(description="balance of the loans listed, yuan")
    in_default: int = Field(description="loans listed that are in default")


class ProfileOut(BaseModel):
    """The panoramic profile of one enterprise: every part the viewer is entitled to, under
    one access decision (one audit event, one report number)."""

    report_number: str
    generated_at: datetime
    viewer: str = Field(description="the account that asked")
    organization: str
    purpose: str
    basis: str | None = Field(description="the strongest basis of the decision")
    letter_id: str | None
    retain_until: date | None = Field(description="the viewer must not keep it after this day")
    access_event: str
    identity: IdentityOut
    rating: RatingOut | None
    rating_trend: list[TrendPoint] = Field(description="earlier ratings, oldest first")
    lists: list[ListStatusOut]
    financial_blacklist: ListedOut | None = Field(
        default=None,
        description="the listing on the financial blacklist in force (shown as black_list data)",
    )
    report: ReportOut = Field(description="every category's current records, desensitized")
    financing: FinancingOut | None
    associations: AssociationsOut | None
    withheld: dict[str, str] = Field(
        description="part or category → why the viewer does not see it"
    )
