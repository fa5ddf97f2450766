"""The desensitization rules as data, the grading of a category, the view of each field, and
the yes/no verification questions ("usable but invisible")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

RAW = "raw"
MASKED = "masked"
WITHHELD = "withheld"
View = Literal["raw", "masked", "withheld"]

Method = Literal["mask", "mask_name", "bucket", "district", "withhold"]


class TypeRule(BaseModel):
    """How a value of one field type is desensitized."""

    method: Method
    keep_start: int = Field(default=0, ge=0, description="characters kept at the start (mask)")
    keep_end: int = Field(default=0, ge=0, description="characters kept at the end (mask)")
    edges: list[str] = Field(
        default_factory=list, description="bucket boundaries in yuan, ascending (bucket)"
    )


class Condition(BaseModel):
    """A rule that holds only for records whose ``field`` has one of the values ``in``."""

    field: str
    in_: list[str] = Field(alias="in")

    model_config = {"populate_by_name": True}

    def holds(self, data: dict[str, Any]) -> bool:
        return str(data.get(self.field, "")) in self.in_


class FieldRule(BaseModel):
    """A field graded as another type (``as_type``), always or when a condition holds."""

    category: str
    field: str
    as_type: str
    when: Condition | None = None
    why: str = ""


class PublishedField(BaseModel):
    """Personal information the law publishes with its category (a legal representative's
    name among the registration facts of the enterprise credit publicity system): graded at
    its category's level, not ``personal``."""

    category: str
    field: str
    why: str = ""


class RuleSet(BaseModel):
    """Every desensitization rule in force; the operator reads it as it is."""

    version: int
    description: str = ""
    types: dict[str, TypeRule]
    fields: list[FieldRule] = Field(default_factory=list)
    published: list[PublishedField] = Field(default_factory=list)

    def field_rule(self, category: str, field: str) -> FieldRule | None:
        for rule in self.fields:
            if rule.category == category and rule.field == field:
                return rule
        return None

    def is_published(self, category: str, field: str) -> bool:
        return any(p.category == category and p.field == field for p in self.published)


class FieldGrade(BaseModel):
    """One field's grade and the rule that desensitizes it (None: shown as it is)."""

    name: str
    label_zh: str
    label_en: str
    type: str
    grade: str
    rule_type: str | None = Field(description="the type whose rule applies, when one does")
    method: str | None
    when: Condition | None = None
    published: bool = Field(
        default=False,
        description="personal information the law publishes: graded at its category's level",
    )


class CategoryGrade(BaseModel):
    """A category's classification (sharing type) and grade (sensitivity), field by field."""

    code: str
    name_zh: str
    name_en: str
    sharing_type: str
    level: str
    public: bool = Field(description="shown to anyone: public level, shared unconditionally")
    fields: list[FieldGrade]


class DirectoryEntryOut(BaseModel):
    """One credit subject in the public registry directory: the code, name and kind that
    name it, and its registration facts as the registration category's public view shows
    them — raw, desensitized, or null when that view shows nothing of them."""

    credit_code: str
    name: str
    kind: str
    status: str | None
    region_code: str | None
    industry_code: str | None
    legal_representative: str | None
    registered_capital: Decimal | str | None = Field(
        description="yuan; a range where the grading desensitizes it"
    )
    established_on: date | None
    address: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FieldView:
    """What one field shows to one view: raw, masked by ``rule_type``'s rule, or withheld.

    A conditional view (``when``) masks only records the condition holds for.
    """

    name: str
    type: str
    grade: str
    view: str
    rule_type: str | None = None
    when: Condition | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "grade": self.grade,
            "view": self.view,
            "rule": self.rule_type if self.view == MASKED else None,
            "conditional": self.when is not None,
        }


@dataclass(frozen=True)
class CategoryView:
    """The views of every field of one category; ``other`` for fields the spec no longer has."""

    category: str
    level: str
    fields: dict[str, FieldView]
    other: str

    @property
    def raw(self) -> bool:
        return self.other == RAW and all(v.view == RAW for v in self.fields.values())


class VerifyIn(BaseModel):
    credit_code: str = Field(description="the subject asked about")
    category: str = Field(description="catalogue category code")
    op: str = Field(description="exists, not_exists, eq, ne, gt, gte, lt, lte or in")
    field: str | None = None
    value: Any = None
    letter_id: str | None = Field(
        default=None, description="the authorization letter (purpose verification) relied on"
    )


class VerifyOut(BaseModel):
    credit_code: str
    category: str
    op: str
    field: str | None
    holds: bool
