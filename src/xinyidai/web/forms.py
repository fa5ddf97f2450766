"""What a portal form shows again after bad input: the values typed and each field's error."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData

from xinyidai.core.errors import XydError
from xinyidai.core.i18n import N_, gettext

__all__ = ["N_"]


# Never sent back into a page, even after an error.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "csrf_token"})


@dataclass
class FormState:
    """Values to refill and errors keyed by field name, translated when the page renders."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormData) -> FormState:
        values = {
            key: value.strip()
            for key, value in form.items()
            if isinstance(value, str) and key not in SECRET_FIELDS
        }
        return cls(values=values)

    def fail(self, exc: XydError, *, default_field: str = "_form") -> FormState:
        """Put the error next to its field (or at the top of the form)."""
        self.errors[exc.field or default_field] = (exc.message, dict(exc.params))
        return self

    def error(self, name: str) -> str | None:
        """The error of field ``name`` in the current locale, or None."""
        if name not in self.errors:
            return None
        message, params = self.errors[name]
        return gettext(message, None, **params)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    @property
    def ok(self) -> bool:
        return not self.errors


def text(form: FormData, name: str) -> str:
    """A text field of ``form`` (empty when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
