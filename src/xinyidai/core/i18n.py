"""Translations: English message ids in code, Chinese (zh-CN) shown by default.

Catalogues are Babel ``.po`` files under ``xinyidai/locale``; they are read directly
(no compiled ``.mo`` to keep in step), once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")

_current: ContextVar[str] = ContextVar("xyd_locale", default=DEFAULT_LOCALE)


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the marker
    """Mark a message id for extraction; it is translated where it is shown."""
    return message


def normalize_locale(value: str | None) -> str:
    """Map ``zh``, ``zh-CN``, ``en-US``… onto a supported locale (default zh_CN)."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> str:
    """The supported language the caller prefers most by its ``Accept-Language`` header,
    weights (``q``) honoured as RFC 9110 says: the highest weight first, ties in the order
    given, ``q=0`` meaning "not this one", ``*`` anything (the default). A header naming no
    supported language, or malformed, gives the default (Chinese)."""
    if not header:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        if tag and 0 < weight <= 1:
            ranked.append((-weight, position, tag.lower()))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return DEFAULT_LOCALE
        if tag == "zh" or tag.startswith("zh-"):
            return "zh_CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def catalog(locale: str) -> Mapping[str, str]:
    """The msgid → msgstr map of one locale; English is the identity."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and isinstance(message.id, str)
    }


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(normalize_locale(locale))


def gettext(message: str, locale: str | None = None, **params: object) -> str:
    """Translate ``message`` into ``locale`` (default: the current one) and fill ``{params}``."""
    text = catalog(normalize_locale(locale or current_locale())).get(message, message)
    return text.format(**params) if params else text


_ = gettext


# --------------------------------------------------------------------------- input faults

# What a request's input fault says, by pydantic's error type, with the values of its
# context (``ge``, ``max_length``, …). A type not listed keeps pydantic's English message.
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("this field is required"),
    "extra_forbidden": N_("this field is not accepted here"),
    "json_invalid": N_("the body is not valid JSON: {error}"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "list_type": N_("must be a list"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must be at least {min_length} characters"),
    "string_too_long": N_("must be at most {max_length} characters"),
    "string_pattern_mismatch": N_("must match the pattern {pattern}"),
    "too_short": N_("must have at least {min_length} items"),
    "too_long": N_("must have at most {max_length} items"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_parsing_size": N_("is too large"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "decimal_type": N_("must be a number"),
    "decimal_parsing": N_("must be a number"),
    "decimal_max_digits": N_("must have at most {max_digits} digits"),
    "decimal_max_places": N_("must have at most {decimal_places} decimal places"),
    "decimal_whole_digits": N_("must have at most {whole_digits} digits before the point"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "enum": N_("must be one of: {expected}"),
    "literal_error": N_("must be one of: {expected}"),
    "date_type": N_("must be a date (YYYY-MM-DD)"),
    "date_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": N_("must be a date (YYYY-MM-DD)"),
    "datetime_type": N_("must be a date and time (ISO 8601)"),
    "datetime_parsing": N_("must be a date and time (ISO 8601)"),
    "datetime_from_date_parsing": N_("must be a date and time (ISO 8601)"),
    "timezone_aware": N_("must be a date and time with its time zone"),
    "url_type": N_("must be a URL"),
    "url_parsing": N_("must be a URL"),
    "url_scheme": N_("must be a URL starting with {expected_schemes}"),
    "uuid_type": N_("must be a UUID"),
    "uuid_parsing": N_("must be a UUID"),
}


def validation_reason(error: Mapping[str, Any], locale: str) -> str:
    """Why an input was refused, from one of pydantic's errors, in ``locale``: a value
    error raised by our own validators in its message id's translation (with its values
    when it carries them, as ``CreditCodeError`` does), pydantic's own by its type."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        raised = context.get("error")
        reason, params = getattr(raised, "reason", None), getattr(raised, "params", None)
        if isinstance(reason, str) and isinstance(params, dict):
            return gettext(reason, locale, **params)
        text = str(raised) if raised is not None else str(error.get("msg", ""))
        return gettext(text.removeprefix("Value error, "), locale)
    template = VALIDATION_MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "invalid input"))
    try:
        return gettext(template, locale, **{k: _shown(v) for k, v in context.items()})
    except (KeyError, IndexError, ValueError):
        return str(error.get("msg", "invalid input"))


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
