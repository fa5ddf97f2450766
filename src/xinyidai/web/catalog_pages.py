"""The information catalogue in the portal: every member reads it, the operator edits it.

The catalogue is published (the API reads it without signing in), so every signed-in
member of an active organization may read these pages; only operator members who are
not read-only create, edit, retire and restore categories. Each save is a new version
made by ``catalog.service``; the form here only turns HTML fields into a spec and puts
the service's errors back next to the fields they name.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.fields import TYPES
from xinyidai.catalog.models import Category
from xinyidai.catalog.schemas import CategorySpec, Frequency, Polarity, Sensitivity, SharingType
from xinyidai.core.api import SessionDep
from xinyidai.core.bounds import Int
from xinyidai.core.errors import NotFound, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.web.auth import CheckedForm, OperatorPage, PageNotFound, portal_roles
from xinyidai.web.forms import N_, FormState
from xinyidai.web.templating import render

router = APIRouter(prefix="/catalog", include_in_schema=False)

PAGE_SIZE = 20
MAX_ROWS = 300
# The list's filter: categories in force, or retired.
CATEGORY_FILTERS = {"active": True, "retired": False}

CatalogReader = Annotated[Principal, Depends(portal_roles(*OrgKind))]

SHARING_TYPES: tuple[str, ...] = get_args(SharingType)
SENSITIVITIES: tuple[str, ...] = get_args(Sensitivity)
FREQUENCIES: tuple[str, ...] = get_args(Frequency)
POLARITIES: tuple[str, ...] = get_args(Polarity)

SHARING_LABELS = {
    "unconditional": N_("Shared unconditionally"),
    "conditional": N_("Shared on conditions"),
    "not_shared": N_("Not shared"),
}
SENSITIVITY_LABELS = {
    "public": N_("Public"),
    "restricted": N_("Restricted"),
    "confidential": N_("Confidential"),
    "personal": N_("Personal information"),
}
FREQUENCY_LABELS = {
    "realtime": N_("Real time"),
    "daily": N_("Daily"),
    "weekly": N_("Weekly"),
    "monthly": N_("Monthly"),
    "quarterly": N_("Quarterly"),
    "yearly": N_("Yearly"),
    "on_change": N_("When it changes"),
}
POLARITY_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
TYPE_LABELS = {
    "string": N_("Text"),
    "text": N_("Long text"),
    "integer": N_("Whole number"),
    "decimal": N_("Decimal number"),
    "money": N_("Money"),
    "percent": N_("Percentage"),
    "date": N_("Date"),
    "boolean": N_("Yes or no"),
    "enum": N_("One of a list"),
    "credit_code": N_("Unified social credit code"),
    "region_code": N_("Region code (GB/T 2260)"),
    "industry_code": N_("Industry code (GB/T 4754)"),
    "person_name": N_("Name of a person"),
    "id_card": N_("Resident identity number"),
    "phone": N_("Phone number"),
    "address": N_("Address"),
}
DONE_MESSAGES = {
    "created": N_("The category was created at version 1."),
    "saved": N_("Saved: the category is now at version {version}."),
    "unchanged": N_("Nothing was changed, so no new version was made."),
    "retired": N_("The category is retired: no new data is accepted for it. What is stored stays."),
    "restored": N_("The category accepts data again."),
}
STATE_FILTERS = {"": N_("All"), "active": N_("In force"), "retired": N_("Retired")}

SCALARS = (
    "code",
    "name_zh",
    "name_en",
    "group",
    "provider",
    "sharing_type",
    "sensitivity",
    "update_frequency",
    "disclosure_days",
    "polarity",
    "key_fields",
    "note",
)
ROW_PARTS = (
    "name",
    "label_zh",
    "label_en",
    "aliases",
    "type",
    "required",
    "unit",
    "allowed_values",
    "minimum",
)
_ROW_KEY = re.compile(r"^fields\.(\d{1,4})\.([a-z_]+)$")
_LIST_SPLIT = re.compile(r"[,，\n]")

LABELS: dict[str, Any] = {
    "SHARING_LABELS": SHARING_LABELS,
    "SENSITIVITY_LABELS": SENSITIVITY_LABELS,
    "FREQUENCY_LABELS": FREQUENCY_LABELS,
    "POLARITY_LABELS": POLARITY_LABELS,
    "TYPE_LABELS": TYPE_LABELS,
}


def _category_or_404(session: SessionDep, code: str) -> Category:
    try:
        return catalog_service.get_by_code_or_raise(session, code=code)
    except NotFound as exc:
        raise PageNotFound() from exc


def _may_edit(principal: Principal) -> bool:
    return principal.organization_kind == OrgKind.OPERATOR and principal.can_write


def _actor(principal: Principal) -> str:
    return principal.username or principal.organization_public_id


# --- reading -----------------------------------------------------------------------------


@router.get("")
def catalog_list(
    request: Request,
    principal: CatalogReader,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query()] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Every category, in force or retired, searchable by code or name, paged."""
    state = state if state in CATEGORY_FILTERS else ""
    active = CATEGORY_FILTERS.get(state)
    stmt = catalog_service.search_statement(q=q, active=active)
    return render(
        request,
        "catalog/list.html",
        page=page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE)),
        filters={"q": q or "", "state": state},
        state_filters=STATE_FILTERS,
        may_edit=_may_edit(principal),
        **LABELS,
    )


def _text_list(values: list[str] | None) -> str:
    return ", ".join(values or [])


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


@router.get("/new")
def new_category(request: Request, principal: OperatorPage, session: SessionDep) -> Response:
    """The form for a new category, starting with the subject's credit code field."""
    form = FormState(
        values={
            "polarity": "neutral",
            "key_fields": "credit_code",
            "fields.0.name": "credit_code",
            "fields.0.label_zh": "统一社会信用代码",
            "fields.0.label_en": "Unified social credit code",
            "fields.0.type": "credit_code",
            "fields.0.required": "on",
            "fields.0.aliases": "统一社会信用代码, 社会信用代码, 信用代码",
        }
    )
    return _form_page(request, session, form=form, rows=[0], category=None)


@router.get("/{code}")
def category_detail(
    code: str,
    request: Request,
    principal: CatalogReader,
    session: SessionDep,
    version: Annotated[str | None, Query(max_length=10)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One category: its properties, fields, key fields and every version it has had."""
    category = _category_or_404(session, code)
    history = catalog_service.versions(session, code=code)
    shown = catalog_service.spec_of(category)
    viewing = None
    if version not in (None, ""):
        if not version.isdigit():
            raise PageNotFound()
        viewing = next((row for row in history if row.version == int(version)), None)
        if viewing is None:
            raise PageNotFound()
        shown = catalog_service.spec_at_version(session, code=code, version=viewing.version)
    flash = DONE_MESSAGES.get(done or "")
    return render(
        request,
        "catalog/detail.html",
        category=category,
        spec=shown,
        history=history,
        viewing=viewing,
        flash=flash,
        flash_params={"version": category.version},
        may_edit=_may_edit(principal),
        **LABELS,
    )


# --- the form ----------------------------------------------------------------------------


def _values_of(spec: CategorySpec) -> dict[str, str]:
    """What the form shows for a spec: one text per input."""
    values = {
        "code": spec.code,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "group": spec.group,
        "provider": spec.provider,
        "sharing_type": spec.sharing_type,
        "sensitivity": spec.sensitivity,
        "update_frequency": spec.update_frequency,
        "disclosure_days": "" if spec.disclosure_days is None else str(spec.disclosure_days),
        "polarity": spec.polarity,
        "key_fields": _text_list(spec.key_fields),
    }
    for i, field in enumerate(spec.fields):
        prefix = f"fields.{i}."
        values[prefix + "name"] = field.name
        values[prefix + "label_zh"] = field.label_zh
        values[prefix + "label_en"] = field.label_en
        values[prefix + "aliases"] = _text_list(field.aliases)
        values[prefix + "type"] = field.type
        if field.required:
            values[prefix + "required"] = "on"
        values[prefix + "unit"] = field.unit or ""
        values[prefix + "allowed_values"] = _text_list(field.allowed_values)
        values[prefix + "minimum"] = _number_text(field.minimum)
    return values


def _rows_in(form: FormData) -> list[int]:
    """The row numbers the submitted field table holds, in order (at most ``MAX_ROWS``)."""
    rows = {
        int(match.group(1))
        for key in form
        if (match := _ROW_KEY.match(key)) and int(match.group(1)) < MAX_ROWS
    }
    return sorted(rows)


def _split(value: str) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(value) if part.strip()]


def _spec_data(state: FormState, code: str, rows: list[int]) -> tuple[dict[str, Any], list[int]]:
    """The spec the form describes, and which form row each field of it came from.

    Blank rows (the "add a field" row left empty) and rows marked for removal are left out.
    A select left on "—" is left out too, so the service says the value is required.
    """
    get = state.get
    data: dict[str, Any] = {
        "code": code,
        "name_zh": get("name_zh"),
        "name_en": get("name_en"),
        "group": get("group"),
        "provider": get("provider"),
        "disclosure_days": get("disclosure_days") or None,
        "key_fields": _split(get("key_fields")),
    }
    for name in ("sharing_type", "sensitivity", "update_frequency", "polarity"):
        if get(name):
            data[name] = get(name)
    fields: list[dict[str, Any]] = []
    positions: list[int] = []
    for i in rows:
        prefix = f"fields.{i}."
        if get(prefix + "remove") == "on":
            continue
        if not any(get(prefix + part) for part in ROW_PARTS if part != "required"):
            continue
        field: dict[str, Any] = {
            "name": get(prefix + "name"),
            "label_zh": get(prefix + "label_zh"),
            "label_en": get(prefix + "label_en"),
            "aliases": _split(get(prefix + "aliases")),
            "required": get(prefix + "required") == "on",
            "unit": get(prefix + "unit") or None,
            "allowed_values": _split(get(prefix + "allowed_values")) or None,
            "minimum": get(prefix + "minimum") or None,
        }
        if get(prefix + "type"):
            field["type"] = get(prefix + "type")
        fields.append(field)
        positions.append(i)
    data["fields"] = fields
    return data, positions


def _form_field(error_field: str | None, data: dict[str, Any], positions: list[int]) -> str | None:
    """The form input a service error belongs to.

    The spec numbers its fields from 0 without the skipped rows; the form numbers its rows.
    ``fields.<name>`` (a field that may not change its type) points at that row's type.
    """
    if not error_field or not error_field.startswith("fields."):
        return error_field
    parts = error_field.split(".")
    if parts[1].isdigit():
        position = int(parts[1])
        if position < len(positions):
            parts[1] = str(positions[position])
        return ".".join(parts)
    for position, field in enumerate(data["fields"]):
        if field.get("name") == parts[1]:
            return f"fields.{positions[position]}.type"
    return "fields"


def _fail(state: FormState, exc: XydError, data: dict[str, Any], positions: list[int]) -> FormState:
    problems = exc.problems if isinstance(exc, catalog_service.SpecInvalid) else [exc]
    for problem in problems:
        where = _form_field(problem.field, data, positions) or "_form"
        state.errors.setdefault(where, (problem.message, dict(problem.params)))
    return state


def _choices(session: SessionDep) -> dict[str, list[str]]:
    """Groups and source departments already in use, offered as suggestions."""
    categories = catalog_service.list_categories(session, include_inactive=True)
    return {
        "groups": sorted({c.group for c in categories}),
        "providers": sorted({c.provider for c in categories}),
    }


def _form_page(
    request: Request,
    session: SessionDep,
    *,
    form: FormState,
    rows: list[int],
    category: Category | None,
    status: int = 200,
    more_rows: int = 0,
) -> Response:
    """The form with the rows given, ending in one empty "add a field" row (plus ``more_rows``)."""
    last_blank = bool(rows) and not any(
        form.get(f"fields.{rows[-1]}.{part}") for part in ROW_PARTS if part != "required"
    )
    extra = more_rows + (0 if last_blank else 1)
    start = (max(rows) + 1) if rows else 0
    return render(
        request,
        "catalog/form.html",
        status=status,
        form=form,
        rows=rows + list(range(start, start + extra)),
        category=category,
        types=TYPES,
        sharing_types=SHARING_TYPES,
        sensitivities=SENSITIVITIES,
        frequencies=FREQUENCIES,
        polarities=POLARITIES,
        **_choices(session),
        **LABELS,
    )


def _submitted(form: FormData) -> tuple[FormState, list[int]]:
    state = FormState.from_form(form)
    return state, _rows_in(form)


@router.post("/new")
def create_category(
    request: Request, principal: OperatorPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Add a category (version 1)."""
    state, rows = _submitted(form)
    if state.get("action") == "add_row":
        return _form_page(request, session, form=state, rows=rows, category=None, more_rows=1)
    data, positions = _spec_data(state, state.get("code"), rows)
    try:
        spec = catalog_service.parse_spec(data)
        catalog_service.create(
            session, spec=spec, actor=_actor(principal), note=state.get("note") or None
        )
    except XydError as exc:
        session.rollback()
        return _form_page(
            request,
            session,
            form=_fail(state, exc, data, positions),
            rows=rows,
            category=None,
            status=exc.status,
        )
    return RedirectResponse(f"/catalog/{spec.code}?done=created", status_code=303)


@router.get("/{code}/edit")
def edit_category(
    code: str, request: Request, principal: OperatorPage, session: SessionDep
) -> Response:
    """The category's current spec in the form."""
    category = _category_or_404(session, code)
    spec = catalog_service.spec_of(category)
    return _form_page(
        request,
        session,
        form=FormState(values=_values_of(spec)),
        rows=list(range(len(spec.fields))),
        category=category,
    )


@router.post("/{code}/edit")
def save_category(
    code: str,
    request: Request,
    principal: OperatorPage,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Save the form as the category's next version (nothing when nothing changed)."""
    category = _category_or_404(session, code)
    state, rows = _submitted(form)
    state.values["code"] = code
    if state.get("action") == "add_row":
        return _form_page(request, session, form=state, rows=rows, category=category, more_rows=1)
    data, positions = _spec_data(state, code, rows)
    before = category.version
    try:
        spec = catalog_service.parse_spec(data)
        saved = catalog_service.update(
            session, code=code, spec=spec, actor=_actor(principal), note=state.get("note") or None
        )
    except XydError as exc:
        session.rollback()
        category = _category_or_404(session, code)
        return _form_page(
            request,
            session,
            form=_fail(state, exc, data, positions),
            rows=rows,
            category=category,
            status=exc.status,
        )
    done = "saved" if saved.version != before else "unchanged"
    return RedirectResponse(f"/catalog/{code}?done={done}", status_code=303)


def _set_active(session: SessionDep, principal: Principal, code: str, *, active: bool) -> None:
    _category_or_404(session, code)
    catalog_service.set_active(session, code=code, active=active, actor=_actor(principal))


@router.post("/{code}/retire")
def retire_category(
    code: str, request: Request, principal: OperatorPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Stop accepting data for the category; what is stored stays."""
    _set_active(session, principal, code, active=False)
    return RedirectResponse(f"/catalog/{code}?done=retired", status_code=303)


@router.post("/{code}/restore")
def restore_category(
    code: str, request: Request, principal: OperatorPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Accept data for a retired category again."""
    _set_active(session, principal, code, active=True)
    return RedirectResponse(f"/catalog/{code}?done=restored", status_code=303)
