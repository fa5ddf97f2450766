"""Business logic of the catalogue: load the default, read, edit with versions, map headers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog.models import Category, CategoryVersion
from xinyidai.catalog.schemas import CategorySpec, FieldSpec, normalize_header
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed

DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "default_catalog.json"


@lru_cache(maxsize=1)
def default_specs() -> tuple[CategorySpec, ...]:
    """The catalogue XYD ships with (``data/default_catalog.json``), validated."""
    raw = json.loads(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    return tuple(CategorySpec.model_validate(item) for item in raw["categories"])


def spec_of(category: Category) -> CategorySpec:
    """The spec of a stored category, as now in force."""
    return CategorySpec.model_validate(
        {name: getattr(category, name) for name in CategorySpec.model_fields}
    )


def _snapshot(spec: CategorySpec) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def get_by_code(session: Session, *, code: str) -> Category | None:
    """The category with this code, or None."""
    return session.scalar(select(Category).where(Category.code == code))


def get_by_code_or_raise(session: Session, *, code: str, field: str = "category") -> Category:
    """The category with this code; ``NotFound`` naming ``field`` otherwise."""
    category = get_by_code(session, code=code)
    if category is None:
        raise NotFound("no catalogue category {code}", field=field, code=code)
    return category


def list_categories(
    session: Session, *, provider: str | None = None, include_inactive: bool = False
) -> Sequence[Category]:
    """Categories in code order, optionally those of one source department."""
    stmt = select(Category).order_by(Category.code)
    if provider:
        stmt = stmt.where(Category.provider == provider)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    return session.scalars(stmt).all()


def create(
    session: Session, *, spec: CategorySpec, actor: str, note: str | None = None
) -> Category:
    """Add a category at version 1; ``Conflict`` when the code is taken."""
    if get_by_code(session, code=spec.code) is not None:
        raise Conflict("catalogue category {code} already exists", field="code", code=spec.code)
    category = Category(**spec.model_dump(mode="json"), version=1, active=True, updated_by=actor)
    session.add(category)
    session.flush()
    session.add(
        CategoryVersion(
            category_id=category.id,
            version=1,
            snapshot=_snapshot(spec),
            changed_by=actor,
            note=note,
        )
    )
    session.flush()
    return category


def update(
    session: Session, *, code: str, spec: CategorySpec, actor: str, note: str | None = None
) -> Category:
    """Replace a category's spec as a new version; earlier versions stay readable.

    Stored records keep the version they were validated with, so a change never breaks
    them. The code cannot change, and a field that stored data may hold cannot silently
    change its type (add a new field instead).
    """
    category = get_by_code_or_raise(session, code=code)
    if spec.code != code:
        raise ValidationFailed("a category's code cannot change", field="code")
    before = {field.name: field for field in spec_of(category).fields}
    for field in spec.fields:
        old = before.get(field.name)
        if old is not None and old.type != field.type:
            raise ValidationFailed(
                "field {name} cannot change its type from {old} to {new}; add a new field",
                field=f"fields.{field.name}",
                name=field.name,
                old=old.type,
                new=field.type,
            )
    if _snapshot(spec) == _snapshot(spec_of(category)):
        return category
    for name, value in spec.model_dump(mode="json").items():
        setattr(category, name, value)
    category.version += 1
    category.updated_by = actor
    session.add(
        CategoryVersion(
            category_id=category.id,
            version=category.version,
            snapshot=_snapshot(spec),
            changed_by=actor,
            note=note,
        )
    )
    session.flush()
    return category


def set_active(session: Session, *, code: str, active: bool, actor: str) -> Category:
    """Retire a category (no new data accepted) or bring it back; its data stays."""
    category = get_by_code_or_raise(session, code=code)
    category.active = active
    category.updated_by = actor
    session.flush()
    return category


def versions(session: Session, *, code: str) -> Sequence[CategoryVersion]:
    """Every version of a category, newest first."""
    category = get_by_code_or_raise(session, code=code)
    return session.scalars(
        select(CategoryVersion)
        .where(CategoryVersion.category_id == category.id)
        .order_by(CategoryVersion.version.desc())
    ).all()


def spec_at_version(session: Session, *, code: str, version: int) -> CategorySpec:
    """A category exactly as it was at ``version``."""
    category = get_by_code_or_raise(session, code=code)
    row = session.scalar(
        select(CategoryVersion).where(
            CategoryVersion.category_id == category.id, CategoryVersion.version == version
        )
    )
    if row is None:
        raise NotFound(
            "category {code} has no version {version}", field="version", code=code, version=version
        )
    return CategorySpec.model_validate(row.snapshot)


def load_defaults(session: Session, *, actor: str = "system") -> int:
    """Add every shipped category that is missing (edited ones are left as they are)."""
    existing = {code for (code,) in session.execute(select(Category.code))}
    added = 0
    for spec in default_specs():
        if spec.code not in existing:
            create(session, spec=spec, actor=actor, note="default catalogue")
            added += 1
    return added


def parse_spec(data: dict[str, Any]) -> CategorySpec:
    """A spec from untrusted input; ``ValidationFailed`` naming the first bad field."""
    try:
        return CategorySpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or None
        raise ValidationFailed(
            "{reason}", field=location, reason=str(first["msg"]).removeprefix("Value error, ")
        ) from exc


class HeaderMap:
    """Maps a file's column headers onto a category's fields through names and aliases."""

    def __init__(self, spec: CategorySpec) -> None:
        self.spec = spec
        self._lookup: dict[str, FieldSpec] = {}
        for field in spec.fields:
            for header in [field.name, field.label_zh, field.label_en, *field.aliases]:
                self._lookup.setdefault(normalize_header(header), field)

    def field_for(self, header: str) -> FieldSpec | None:
        return self._lookup.get(normalize_header(header))

    def resolve(self, headers: Sequence[str]) -> tuple[dict[int, FieldSpec], list[str]]:
        """Column index → field for the headers it knows, and the headers it does not."""
        mapped: dict[int, FieldSpec] = {}
        unknown: list[str] = []
        taken: set[str] = set()
        for index, header in enumerate(headers):
            field = self.field_for(str(header)) if header is not None else None
            if field is None or field.name in taken:
                if header not in (None, ""):
                    unknown.append(str(header))
                continue
            mapped[index] = field
            taken.add(field.name)
        return mapped, unknown


def markdown(specs: Sequence[CategorySpec]) -> str:
    """The catalogue as a Markdown page: one table of categories, then each one's fields."""
    lines = [
        "# Data catalogue (公共信用信息基础目录)",
        "",
        "The categories XYD ships with. The operator edits them (API, portal or "
        "`xyd catalog put`); every change is a new version. This page is written by "
        "`xyd catalog list --markdown` from the default catalogue.",
        "",
        "| code | 名称 | name | source | sharing | sensitivity | frequency | disclosure (days) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in specs:
        lines.append(
            f"| `{spec.code}` | {spec.name_zh} | {spec.name_en} | {spec.provider} | "
            f"{spec.sharing_type} | {spec.sensitivity} | {spec.update_frequency} | "
            f"{spec.disclosure_days or ''} |"
        )
    for spec in specs:
        lines += [
            "",
            f"## `{spec.code}` {spec.name_zh} — {spec.name_en}",
            "",
            f"Key fields: {', '.join(f'`{k}`' for k in spec.key_fields)}. "
            f"Polarity: {spec.polarity}.",
            "",
            "| field | 名称 | type | required | unit | headers accepted |",
            "|---|---|---|---|---|---|",
        ]
        for field in spec.fields:
            allowed = f" ({'/'.join(field.allowed_values)})" if field.allowed_values else ""
            lines.append(
                f"| `{field.name}` | {field.label_zh} | {field.type}{allowed} | "
                f"{'yes' if field.required else ''} | {field.unit or ''} | "
                f"{', '.join(field.aliases)} |"
            )
    return "\n".join(lines) + "\n"
