"""The catalogue as it goes in and out: a category's spec and its fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xinyidai.catalog.fields import PERSONAL_TYPES, TYPES
from xinyidai.core.bounds import Flag

SharingType = Literal["unconditional", "conditional", "not_shared"]
Sensitivity = Literal["public", "restricted", "confidential", "personal"]
Frequency = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "on_change"]
Polarity = Literal["positive", "neutral", "negative"]

SNAKE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class SpecError(ValueError):
    """Why a spec is wrong: an English message id, its parameters and the part it concerns.

    ``field`` is relative to the model that raised it (``name`` inside a field spec,
    ``fields.3.aliases`` inside a category); ``catalog.service.parse_spec`` turns it into a
    ``ValidationFailed`` naming the full path, translated where it is shown.
    """

    def __init__(self, reason: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(reason.format(**params) if params else reason)
        self.reason = reason
        self.field = field
        self.params = params


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


# A hundred years: longer than any disclosure period a rule sets.
MAX_DISCLOSURE_DAYS = 36_500


class FieldSpec(BaseModel):
    """One field of a category: its name, labels, type and how departments may head it."""

    name: str = Field(description="snake_case name used in stored records")
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)
    type: str = Field(description="one of: " + ", ".join(TYPES))
    required: Flag = False
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
            raise SpecError(
                "field name {name} must be snake_case ASCII: a-z, 0-9 and _, "
                "starting with a letter, at most 40 characters",
                field="name",
                name=repr(self.name),
            )
        if self.type not in TYPES:
            raise SpecError(
                "field {name}: unknown type {type}", field="type", name=self.name, type=self.type
            )
        if self.type == "enum" and not self.allowed_values:
            raise SpecError(
                "field {name}: an enum needs allowed values", field="allowed_values", name=self.name
            )
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
        default=None,
        ge=1,
        le=MAX_DISCLOSURE_DAYS,
        description="days after which a negative record is no longer shown",
    )
    polarity: Polarity = "neutral"
    key_fields: list[str] = Field(min_length=1, description="fields that identify one fact")
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> CategorySpec:
        if not SNAKE.match(self.code):
            raise SpecError(
                "category code {code} must be snake_case ASCII: a-z, 0-9 and _, "
                "starting with a letter, at most 40 characters",
                field="code",
                code=repr(self.code),
            )
        names = [field.name for field in self.fields]
        for position, name in enumerate(names):
            if name in names[:position]:
                raise SpecError(
                    "field names must be unique: {name} is used twice",
                    field=f"fields.{position}.name",
                    name=name,
                )
        by_name = {field.name: field for field in self.fields}
        subject = by_name.get("credit_code")
        if subject is None or subject.type != "credit_code" or not subject.required:
            where = "fields"
            if subject is not None:
                part = "type" if subject.type != "credit_code" else "required"
                where = f"fields.{names.index('credit_code')}.{part}"
            raise SpecError(
                "a category needs a required credit_code field for its subject", field=where
            )
        unknown = [key for key in self.key_fields if key not in names]
        if unknown:
            raise SpecError(
                "key field {name} is not a field of the category",
                field="key_fields",
                name=unknown[0],
            )
        seen: dict[str, str] = {}
        for position, field in enumerate(self.fields):
            headers = [
                ("name", field.name),
                ("label_zh", field.label_zh),
                *(("aliases", alias) for alias in field.aliases),
            ]
            for part, header in headers:
                key = normalize_header(header)
                if key in seen and seen[key] != field.name:
                    raise SpecError(
                        "header {header} would mean both {first} and {second}",
                        field=f"fields.{position}.{part}",
                        header=repr(header),
                        first=seen[key],
                        second=field.name,
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
