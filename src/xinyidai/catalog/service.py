"""Business logic of the catalogue: load the default, read, edit with versions, map headers."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, event, func, or_, select
from sqlalchemy.orm import Session

from xinyidai.catalog.models import Category, CategoryVersion
from xinyidai.catalog.schemas import CategorySpec, FieldSpec, SpecError, normalize_header
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.core.pagination import paginate
from xinyidai.iam import service as iam_service

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


NOTE_LIMIT = 500


def _check_note(note: str | None) -> None:
    if note is not None and len(note) > NOTE_LIMIT:
        raise ValidationFailed(
            "must be at most {max_length} characters", field="note", max_length=NOTE_LIMIT
        )


def get_by_code(session: Session, *, code: str) -> Category | None:
    """The category with this code, or None."""
    return session.scalar(select(Category).where(Category.code == code))


def get_by_code_or_raise(session: Session, *, code: str, field: str = "category") -> Category:
    """The category with this code; ``NotFound`` naming ``field`` otherwise."""
    category = get_by_code(session, code=code)
    if category is None:
        raise NotFound("no catalogue category {code}", field=field, code=code)
    return category


def categories_statement(
    *, provider: str | None = None, include_inactive: bool = False
) -> Select[Any]:
    """Categories in code order (in force, or retired ones too), optionally those of one
    source department."""
    stmt = select(Category).order_by(Category.code)
    if provider:
        stmt = stmt.where(Category.provider == provider)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    return stmt


def list_categories(
    session: Session, *, provider: str | None = None, include_inactive: bool = False
) -> Sequence[Category]:
    """Every category of ``categories_statement``."""
    stmt = categories_statement(provider=provider, include_inactive=include_inactive)
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class CatalogSnapshot:
    """Every category, active or retired, as the catalogue holds it at one mark: what the
    hot paths (the access decision, the credit report) read on every request."""

    mark: tuple[str, int, datetime | None, int]
    specs: dict[str, CategorySpec]  # in code order


_SNAPSHOT: CatalogSnapshot | None = None
_SNAPSHOT_LOCK = threading.Lock()


_MARK_KEY = "catalog.mark"


def _mark(session: Session) -> tuple[str, int, datetime | None, int]:
    # Read once per transaction; a flush that touches a category, a commit or a rollback
    # forgets it (see the listeners below).
    known = session.info.get(_MARK_KEY)
    if known is not None and not _edits_categories(session):
        return known  # type: ignore[no-any-return]
    count, newest, versions = session.execute(
        select(func.count(), func.max(Category.updated_at), func.sum(Category.version))
    ).one()
    mark = (str(session.get_bind().url), int(count), newest, int(versions or 0))
    session.info[_MARK_KEY] = mark
    return mark


def _edits_categories(session: Session) -> bool:
    return any(
        isinstance(item, Category) for item in (*session.new, *session.dirty, *session.deleted)
    )


@event.listens_for(Session, "before_flush")
def _forget_mark_on_edit(session: Session, _context: Any, _instances: Any) -> None:
    if _MARK_KEY in session.info and _edits_categories(session):
        del session.info[_MARK_KEY]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_mark(session: Session, *_: Any) -> None:
    session.info.pop(_MARK_KEY, None)


def specs_in_force(session: Session) -> dict[str, CategorySpec]:
    """Every category's spec, retired ones too, in code order: validated once per change of
    the catalogue and shared by the process's requests (treat it as read-only).

    Each transaction reads the catalogue's mark (the database, how many categories, the
    newest ``updated_at``, the sum of their versions: every edit of a spec or new category
    moves it) in one small query, and the specs are read again only when the mark moved, so
    a change committed by any process is seen by the next request. A session's own
    uncommitted edit moves its mark too; every other session then sees a different mark
    and reads the specs again.
    """
    global _SNAPSHOT
    mark = _mark(session)
    current = _SNAPSHOT
    if current is not None and current.mark == mark:
        return current.specs
    categories = list_categories(session, include_inactive=True)
    built = CatalogSnapshot(
        mark=mark,
        specs={c.code: spec_of(c) for c in categories},
    )
    with _SNAPSHOT_LOCK:
        _SNAPSHOT = built
    return built.specs


def disclosure_periods(session: Session) -> dict[str, int | None]:
    """Each category's disclosure period in days (None: no limit), retired ones too."""
    rows = session.execute(select(Category.code, Category.disclosure_days))
    return {code: days for code, days in rows}


def polarities(session: Session) -> dict[str, str]:
    """Each category's polarity (positive, negative, neutral), retired ones too."""
    rows = session.execute(select(Category.code, Category.polarity))
    return {code: polarity for code, polarity in rows}


def search_categories(
    session: Session,
    *,
    q: str | None = None,
    active: bool | None = None,
    page: int = 1,
    size: int = 20,
) -> tuple[list[Category], int]:
    """One page of ``search_statement`` and the total."""
    return paginate(session, search_statement(q=q, active=active), page=page, size=size)


def search_statement(*, q: str | None = None, active: bool | None = None) -> Select[Any]:
    """Categories (in code order) whose code or name contains ``q``.

    ``active`` keeps only categories in force (True) or retired ones (False); None keeps both.
    """
    stmt = select(Category).order_by(Category.code)
    text = (q or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Category.code.ilike(pattern, escape="\\"),
                Category.name_zh.ilike(pattern, escape="\\"),
                Category.name_en.ilike(pattern, escape="\\"),
            )
        )
    if active is not None:
        stmt = stmt.where(Category.active.is_(active))
    return stmt


def create(
    session: Session, *, spec: CategorySpec, actor: str, note: str | None = None
) -> Category:
    """Add a category at version 1; ``Conflict`` when the code is taken."""
    _check_note(note)
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
    _check_note(note)
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


def assign(
    session: Session, *, code: str, provider: str, actor: str, note: str | None = None
) -> Category:
    """Make department ``provider`` the source of a category, as a new version.

    The source department is the one whose data of the category is accepted (every other
    department's is refused) and read as its own; earlier versions keep the department
    that was the source then. Assigning the department already in force changes nothing.
    """
    department = iam_service.clean_department_code(provider, field="provider")
    category = get_by_code_or_raise(session, code=code)
    spec = spec_of(category).model_copy(update={"provider": department})
    return update(session, code=code, spec=spec, actor=actor, note=note)


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
    return session.scalars(versions_statement(category=category)).all()


def versions_statement(*, category: Category) -> Select[Any]:
    """The versions of a category, newest first."""
    return (
        select(CategoryVersion)
        .where(CategoryVersion.category_id == category.id)
        .order_by(CategoryVersion.version.desc())
    )


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


class SpecInvalid(ValidationFailed):
    """A spec with mistakes: names the first (as every ``ValidationFailed``) and lists all."""

    def __init__(self, problems: list[ValidationFailed]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.problems = problems


# Pydantic's error types and the message id that says each in words a person can act on.
_PYDANTIC_REASONS: dict[str, str] = {
    "missing": "this field is required",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must list at least {min_length}",
    "too_long": "must list at most {max_length}",
    "literal_error": "must be one of: {choices}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "bool_parsing": "must be yes or no",
}


def _problem(error: Any) -> ValidationFailed:
    """One pydantic error as a ``ValidationFailed`` with a message id and the full path."""
    location = [str(part) for part in error["loc"]]
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, SpecError):
        path = ".".join([*location, cause.field] if cause.field else location) or None
        return ValidationFailed(cause.reason, field=path, **cause.params)
    path = ".".join(location) or None
    reason = _PYDANTIC_REASONS.get(error["type"])
    if reason is None:
        return ValidationFailed(
            "{reason}", field=path, reason=str(error["msg"]).removeprefix("Value error, ")
        )
    params: dict[str, Any] = {}
    if "{choices}" in reason:
        expected = str(context.get("expected", ""))
        params["choices"] = expected.replace("'", "").replace(" or ", ", ")
    for name in ("max_length", "min_length", "ge", "le"):
        if "{" + name + "}" in reason:
            params[name] = context.get(name, "")
    return ValidationFailed(reason, field=path, **params)


def parse_spec(data: dict[str, Any]) -> CategorySpec:
    """A spec from untrusted input; ``SpecInvalid`` (a ``ValidationFailed``) naming each mistake.

    The first mistake is the error's own message and field (``code``, ``key_fields``,
    ``fields.3.aliases`` …); ``problems`` holds every one pydantic found, each a message id
    translated where it is shown.
    """
    try:
        return CategorySpec.model_validate(data)
    except ValidationError as exc:
        raise SpecInvalid([_problem(error) for error in exc.errors()]) from exc


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
        "A category's `source` is the department code of the department that supplies it "
        "(数据来源单位). Only that department's data of the category is accepted — by "
        "upload, push or resubmission, and at the console a file whose `--provider` or "
        "manifest line names it; any other department is refused (403, code "
        "`not_source_department`, field `category`, the message naming the source) and "
        "nothing is stored. The same department reads the category as its own (basis "
        "`provider_own`, see consent.md); other departments read it as anyone does. The "
        "operator assigns a category to a department with "
        '`POST /api/v1/catalog/categories/{code}/assign` (`{"provider", "note"}`), '
        "`xyd catalog assign CODE DEPARTMENT [--note]` or the source-department field of the "
        "category's edit page in the portal; each assignment is a new version of the "
        "category, so its versions say which department was the source when. Batches and "
        "records already stored keep the department that sent them.",
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
