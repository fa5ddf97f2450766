"""Logging: one line per event, JSON when nobody reads it on a terminal, with the request id.

``configure()`` is called once by every process (``xyd`` commands, the server, the worker).
``XYD_LOG_FORMAT``: ``json``, ``text`` or ``auto`` (the default: JSON unless standard error
is a terminal). Each line carries the request id (``request_id``) of the request it was
written for, if any. The server's access lines (``xinyidai.access``) add the method, the
route's template (never the path: paths hold credit codes), the status, the latency and
who called, as public ids only (user, organization and its kind): no name, no credit code,
no query string reaches a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from typing import Any

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

from xinyidai.core.settings import get_settings

ACCESS_LOGGER = "xinyidai.access"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


class _RequestId(CorrelationIdFilter):
    """The request id as ``request_id`` on every record ("-" outside a request)."""

    def __init__(self) -> None:
        super().__init__(default_value="-")

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        record.request_id = record.__dict__.pop("correlation_id", "-")
        return True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error as it is when a line is written (a test runner or a daemon may have
    replaced it since logging was set up), not as it was."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def wants_json(setting: str, stream: Any = None) -> bool:
    """Whether lines are written as JSON under ``setting`` (``auto``: not on a terminal)."""
    if setting == "json":
        return True
    if setting == "text":
        return False
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def formatter(as_json: bool) -> logging.Formatter:
    if as_json:
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configured() -> bool:
    """Whether this process's logging was set up by ``configure``."""
    return any(getattr(h, "_xyd", False) for h in logging.getLogger().handlers)


def configure(stream: Any = None) -> logging.Handler:
    """Send every logger's records to standard error in the configured format; the handler."""
    settings = get_settings()
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.addFilter(_RequestId())
    handler.setFormatter(formatter(wants_json(settings.log_format, handler.stream)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_xyd", False)]:
        root.removeHandler(old)
    handler._xyd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # httpx logs every request's whole address at INFO: a receiver's address may carry a
    # token, and a test client's a credit code. Its warnings and errors still come through.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    # uvicorn's own loggers write through ours (its access log is replaced by ours).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    return handler


def pseudonym(value: str | None) -> str:
    """A stand-in for a personal value in a log line (a caller's address, what it searched
    for): the same value gives the same stand-in on this node, so a reader of the log can
    follow one caller across lines, but the value cannot be read back, nor a guess tested,
    without the node's secret key."""
    if value is None or value == "":
        return "-"
    from xinyidai.core.settings import get_settings

    key = get_settings().secret_key.encode("utf-8")
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"p:{digest[:16]}"
