"""Translations: English message ids in code, Chinese (zh-CN) shown by default.

Catalogues are Babel ``.po`` files under ``xinyidai/locale``; they are read directly
(no compiled ``.mo`` to keep in step), once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

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
