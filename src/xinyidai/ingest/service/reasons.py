"""A rejected row's faults in the reader's language: each field by its catalogue label, each
reason from its stored message id and values. The portal and the API show the same words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.i18n import N_, gettext, normalize_locale
from xinyidai.ingest.models import Rejection

WHOLE_ROW = N_("whole row")


@dataclass(frozen=True)
class Problem:
    """One fault of a rejected row as shown: the field's label and the reason, translated."""

    field: str
    reason: str


def field_labels(session: Session, *, category: str, locale: str) -> dict[str, str]:
    """The catalogue's label of each field of ``category`` in ``locale``."""
    row = catalog_service.get_by_code(session, code=category)
    key = "label_zh" if normalize_locale(locale) == "zh_CN" else "label_en"
    return {f["name"]: str(f.get(key) or f["name"]) for f in (row.fields if row else [])}


def reason(error: dict[str, Any], labels: dict[str, str], locale: str) -> str:
    """One fault's reason in ``locale``: from its message id when stored, else as stored."""
    message, params = error.get("message"), error.get("params")
    if isinstance(message, str) and isinstance(params, dict):
        if isinstance(params.get("field"), str):
            params = {**params, "field": labels.get(params["field"], params["field"])}
        try:
            return gettext(message, locale, **params)
        except (KeyError, IndexError, ValueError):
            pass
    return gettext(str(error.get("reason") or ""), locale)


def problems(rejection: Rejection, labels: dict[str, str], locale: str) -> list[Problem]:
    """Every fault of a rejected row, in ``locale``."""
    errors = rejection.errors or [{"field": rejection.field, "reason": rejection.reason}]
    whole_row = gettext(WHOLE_ROW, locale)
    return [
        Problem(
            field=labels.get(e.get("field") or "", e.get("field") or whole_row),
            reason=reason(e, labels, locale),
        )
        for e in errors
    ]
