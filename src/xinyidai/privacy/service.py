"""Grading and classification (分级分类) from the catalogue, and desensitization of views.

A category's **classification** is its sharing type and its **grade** its sensitivity level,
both from the catalogue. A field is graded as its category, except personal information of
natural persons (the catalogue's personal field types, and the fields the rules list), which
is graded ``personal`` — unless the rules list it as published by law with its category
(``published``: a legal representative's name among the registration facts, as the
enterprise credit publicity system shows them), which keeps its category's grade. A view
is entitled to a set of levels (the access decision in ``consent`` says which); a field
whose grade is among them is shown raw, any other is shown through its type's rule. The
rules are data (``data/rules.json``, or the file of ``settings.privacy.rules_file``) that
anyone may read through the API, the portal and the CLI.

Every view of a field applies this one grading: the records and the credit report through
the access decision's views, the registry's facts (the public directory, the profile's
identity and its PDF) through ``registry_facts``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.fields import PERSONAL_TYPES, TYPES
from xinyidai.catalog.schemas import CategorySpec, FieldSpec, Sensitivity
from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.privacy import masking
from xinyidai.privacy.schemas import (
    MASKED,
    RAW,
    WITHHELD,
    CategoryGrade,
    CategoryView,
    DirectoryEntryOut,
    FieldGrade,
    FieldView,
    RuleSet,
)
from xinyidai.registry.models import Enterprise

DEFAULT_RULES = Path(__file__).resolve().parent / "data" / "rules.json"

# The catalogue's sensitivity levels, least to most sensitive.
LEVELS: tuple[str, ...] = get_args(Sensitivity)
PERSONAL = "personal"
PUBLIC = "public"
ALL_LEVELS = frozenset(LEVELS)


def rules_path() -> Path:
    """Where the rules in force are read from."""
    return get_settings().privacy.rules_file or DEFAULT_RULES


def _check(rule_set: RuleSet) -> RuleSet:
    for name, rule in rule_set.types.items():
        if name not in TYPES:
            raise ValidationFailed(
                "rules name an unknown field type {type}", field=f"types.{name}", type=name
            )
        if rule.method == "bucket":
            edges = [float(edge) for edge in rule.edges]
            if not edges or edges != sorted(edges):
                raise ValidationFailed(
                    "bucket edges must be given in ascending order", field=f"types.{name}.edges"
                )
    for position, published in enumerate(rule_set.published):
        if rule_set.field_rule(published.category, published.field) is not None:
            raise ValidationFailed(
                "{category}.{name} is both published and graded as another type",
                field=f"published.{position}",
                category=published.category,
                name=published.field,
            )
    for position, field_rule in enumerate(rule_set.fields):
        if field_rule.as_type not in rule_set.types:
            raise ValidationFailed(
                "field rule {position} grades as {type}, which has no rule",
                field=f"fields.{position}.as_type",
                position=position,
                type=field_rule.as_type,
            )
    return rule_set


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> RuleSet:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return _check(RuleSet.model_validate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(
            "the desensitization rules are invalid: {reason}",
            field=".".join(str(p) for p in first["loc"]) or None,
            reason=first["msg"],
        ) from exc


def rules() -> RuleSet:
    """The rules in force (re-read when the file changes)."""
    path = rules_path()
    return _load(str(path), path.stat().st_mtime_ns)


def rules_document() -> dict[str, Any]:
    """The rules as the file holds them, for the operator to read."""
    return rules().model_dump(mode="json", by_alias=True)


# --------------------------------------------------------------------------- grading


def _grade(category: CategorySpec, field: FieldSpec, rule_set: RuleSet) -> FieldGrade:
    override = rule_set.field_rule(category.code, field.name)
    published = rule_set.is_published(category.code, field.name)
    rule_type: str | None = field.type if field.type in rule_set.types else None
    grade: str = category.sensitivity
    when = None
    if field.type in PERSONAL_TYPES and not published:
        grade = PERSONAL
    if override is not None:
        rule_type = override.as_type
        when = override.when
        if override.as_type in PERSONAL_TYPES:
            grade = PERSONAL
    method = rule_set.types[rule_type].method if rule_type else None
    return FieldGrade(
        name=field.name,
        label_zh=field.label_zh,
        label_en=field.label_en,
        type=field.type,
        grade=grade,
        rule_type=rule_type,
        method=method,
        when=when,
        published=published,
    )


def is_public(spec: CategorySpec) -> bool:
    """Whether anyone may see the category: public level, shared unconditionally."""
    return spec.sensitivity == PUBLIC and spec.sharing_type == "unconditional"


# Grades of the category specs in force under the rules in force, by the spec's identity:
# the catalogue shares one spec object per category version across a process's requests
# (``catalog.service.specs_in_force``), so a report grades each category once per change
# of the catalogue or of the rules, not once per request. Each entry keeps its spec and rule
# set alive and is used only while both are the very objects in force.
_GRADED: dict[int, tuple[CategorySpec, RuleSet, CategoryGrade]] = {}
_GRADED_MAX = 1024


def classify(spec: CategorySpec) -> CategoryGrade:
    """A category's classification and grade, with every field's grade and rule."""
    rule_set = rules()
    cached = _GRADED.get(id(spec))
    if cached is not None and cached[0] is spec and cached[1] is rule_set:
        return cached[2]
    graded = _classify(spec, rule_set)
    if len(_GRADED) >= _GRADED_MAX:
        _GRADED.clear()
    _GRADED[id(spec)] = (spec, rule_set, graded)
    return graded


def _classify(spec: CategorySpec, rule_set: RuleSet) -> CategoryGrade:
    return CategoryGrade(
        code=spec.code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        sharing_type=spec.sharing_type,
        level=spec.sensitivity,
        public=is_public(spec),
        fields=[_grade(spec, field, rule_set) for field in spec.fields],
    )


def grading(session: Session) -> list[CategoryGrade]:
    """The grading of every category in force, in catalogue order."""
    return [
        classify(catalog_service.spec_of(category))
        for category in catalog_service.list_categories(session)
    ]


def level_rank(level: str) -> int:
    """0 for public up to 3 for personal."""
    return LEVELS.index(level)


# --------------------------------------------------------------------------- views


def view_of(
    spec: CategorySpec, *, raw_levels: frozenset[str], withhold: bool = False
) -> CategoryView:
    """What each field of ``spec`` shows to a view entitled to ``raw_levels``.

    ``withhold`` hides every value (a verification answers yes or no, nothing more).
    """
    graded = classify(spec)
    full = raw_levels >= ALL_LEVELS
    fields: dict[str, FieldView] = {}
    for field in graded.fields:
        if withhold:
            view = WITHHELD
        elif field.grade in raw_levels or field.rule_type is None:
            view = RAW
        else:
            view = MASKED
        fields[field.name] = FieldView(
            name=field.name,
            type=field.type,
            grade=field.grade,
            view=view,
            rule_type=field.rule_type if view == MASKED else None,
            when=field.when if view == MASKED else None,
        )
    other = WITHHELD if withhold or not full else RAW
    return CategoryView(category=spec.code, level=spec.sensitivity, fields=fields, other=other)


def show(data: dict[str, Any], view: CategoryView) -> dict[str, Any]:
    """A record's data as ``view`` shows it: raw, desensitized, or without withheld fields."""
    rule_set = rules()
    shown: dict[str, Any] = {}
    for name, value in data.items():
        field = view.fields.get(name)
        if field is None:
            if view.other == RAW:
                shown[name] = value
            continue
        if field.view == WITHHELD:
            continue
        if (
            field.view == MASKED
            and field.rule_type
            and (field.when is None or field.when.holds(data))
        ):
            shown[name] = masking.apply_rule(value, rule_set.types[field.rule_type])
        else:
            shown[name] = value
    return shown


# --------------------------------------------------------------------------- registry facts

REGISTRATION = "registration"

# The registry's columns and the fields of the registration category they are: a registry
# fact is graded, and shown, as that field.
REGISTRY_FIELDS: dict[str, str] = {
    "status": "status",
    "region_code": "region_code",
    "industry_code": "industry_code",
    "legal_representative": "legal_representative",
    "registered_capital": "registered_capital",
    "established_on": "established_on",
    "address": "address",
}


def registry_facts(subject: Enterprise, view: CategoryView | None) -> dict[str, Any]:
    """The registry's facts of ``subject`` as ``view`` (of the registration category) shows
    them: the code, name and kind, which name the subject, always; every other fact raw,
    desensitized or None, as the registration field it is — None for all of them when the
    view is None (the registration is not granted). Every view of these facts (the
    directory, the profile's identity, its PDF) goes through here, so that one field gets
    one rule."""
    data = {field: getattr(subject, column) for column, field in REGISTRY_FIELDS.items()}
    shown = show(data, view) if view is not None else {}
    return {
        "credit_code": subject.credit_code,
        "name": subject.name,
        "kind": subject.kind,
        **{column: shown.get(field) for column, field in REGISTRY_FIELDS.items()},
    }


def public_view(session: Session, *, category: str) -> CategoryView | None:
    """What anyone, signed in or not, may see of a category: a public one (``is_public``)
    with its public-level fields raw and the rest desensitized; None for any other."""
    found = catalog_service.get_by_code(session, code=category)
    if found is None:
        return None
    spec = catalog_service.spec_of(found)
    if not found.active or not is_public(spec):
        return None
    return view_of(spec, raw_levels=frozenset({PUBLIC}))


def directory_entries(session: Session, subjects: Sequence[Enterprise]) -> list[DirectoryEntryOut]:
    """Credit subjects as the public registry directory shows them: their registry facts
    under the registration category's public view (``registry_facts``)."""
    view = public_view(session, category=REGISTRATION)
    return [
        DirectoryEntryOut(
            **registry_facts(subject, view),
            created_at=subject.created_at,
            updated_at=subject.updated_at,
        )
        for subject in subjects
    ]
