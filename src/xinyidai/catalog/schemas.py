"""The catalogue as it goes in and out: a category's spec and its fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xinyidai.catalog.fields import PERSONAL_TYPES, TYPES

SharingType = Literal["unconditional", "conditional", "not_shared"]
Sensitivity = Literal["public", "restricted", "confidential", "personal"]
Frequency = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "on_change"]
Polarity = Literal["positive", "neutral", "negative"]

SNAKE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# How many days may pass before data of a frequency counts as late (timeliness figures).
FREQUENCY_DAYS: dict[str, int] = {
    "realtime": 1,
    "daily": 2,
    "weekly": 10,
    "monthly": 40,
    "quarterly": 100,
    "yearly": 400,
    "on_change": 400,
}


class FieldSpec(BaseModel):
    """One field of a category: its name, labels, type and how departments may head it."""

    name: str = Field(description="snake_case name used in stored records")
    label_zh: str
    label_en: str
    type: str = Field(description="one of: " + ", ".join(TYPES))
    required: bool = False
    aliases: list[str] = Field(default_factory=list, description="column headers that mean it")
    unit: str | None = None
    allowed_values: list[str] | None = None
    minimum: float | None = None

    @property
    def personal(self) -> bool:
        return self.type in PERSONAL_TYPES

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if not SNAKE.match(self.name):
            raise ValueError(f"field name {self.name!r} must be snake_case ASCII")
        if self.type not in TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}")
        if self.type == "enum" and not self.allowed_values:
            raise ValueError(f"field {self.name}: an enum needs allowed_values")
        return self


class CategorySpec(BaseModel):
    """A category as the operator writes it: identity, source, sharing rules and schema."""

    code: str = Field(description="snake_case code, fixed once created")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    group: str = Field(min_length=1, max_length=30)
    provider: str = Field(min_length=1, max_length=40, description="source department code")
    sharing_type: SharingType
    sensitivity: Sensitivity
    update_frequency: Frequency
    disclosure_days: int | None = Field(
        default=None, ge=1, description="days after which a negative record is no longer shown"
    )
    polarity: Polarity = "neutral"
    key_fields: list[str] = Field(min_length=1, description="fields that identify one fact")
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> CategorySpec:
        if not SNAKE.match(self.code):
            raise ValueError(f"category code {self.code!r} must be snake_case ASCII")
        names = [field.name for field in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        unknown = [key for key in self.key_fields if key not in names]
        if unknown:
            raise ValueError(f"key field {unknown[0]} is not a field of the category")
        by_name = {field.name: field for field in self.fields}
        subject = by_name.get("credit_code")
        if subject is None or subject.type != "credit_code" or not subject.required:
            raise ValueError("a category needs a required credit_code field for its subject")
        seen: dict[str, str] = {}
        for field in self.fields:
            for header in [field.name, field.label_zh, *field.aliases]:
                key = normalize_header(header)
                if key in seen and seen[key] != field.name:
                    raise ValueError(
                        f"header {header!r} would mean both {seen[key]} and {field.name}"
                    )
                seen[key] = field.name
        return self


def normalize_header(header: str) -> str:
    """Fold a column header for matching: case, spaces, full-width brackets and colons."""
    table = str.maketrans({"（": "(", "）": ")", "：": ":", "\u3000": " "})
    return "".join(header.translate(table).split()).lower().strip(":*")


class CategoryOut(CategorySpec):
    model_config = ConfigDict(from_attributes=True)

    version: int
    active: bool
    updated_by: str | None = None
    updated_at: datetime | None = None


class CategoryVersionOut(BaseModel):
    version: int
    changed_by: str | None
    note: str | None
    created_at: datetime
    snapshot: CategorySpec
