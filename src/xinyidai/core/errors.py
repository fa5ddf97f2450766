"""The errors every layer raises; the API turns each into its one shape.

``{"error": {"code": ..., "message": ..., "field": ...}}`` — ``message`` is an English
message id translated at the edge into the caller's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xinyidai.core.i18n import gettext


class XydError(Exception):
    """Base of every error a caller can cause or needs to see."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        error_code: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.field = field
        self.params = params
        if error_code is not None:
            self.code = error_code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the error (``Retry-After``)."""
        return {}

    def translated(self, locale: str | None = None) -> str:
        return gettext(self.message, locale, **self.params)

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "error": {"code": self.code, "message": self.translated(locale), "field": self.field}
        }


class ValidationFailed(XydError):
    status = 422
    code = "invalid"


class NotFound(XydError):
    status = 404
    code = "not_found"


class Conflict(XydError):
    status = 409
    code = "conflict"


# RFC 6750's error codes a bearer challenge may carry.
BEARER_ERRORS = ("invalid_request", "invalid_token", "insufficient_scope")


class Unauthorized(XydError):
    """401, with the ``WWW-Authenticate`` challenge RFC 9110 asks of it (bearer tokens;
    the error code, when there is one, as RFC 6750's ``error``)."""

    status = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        challenge = 'Bearer realm="xyd"'
        if self.code in BEARER_ERRORS:
            challenge += f', error="{self.code}"'
        return {"WWW-Authenticate": challenge}


class Forbidden(XydError):
    status = 403
    code = "forbidden"


class TooManyRequests(XydError):
    """Too many attempts; ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    status = 429
    code = "too_many_requests"

    def __init__(
        self,
        message: str,
        *,
        retry_after: int | None = None,
        field: str | None = None,
        error_code: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message, field=field, error_code=error_code, **params)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class PayloadTooLarge(XydError):
    status = 413
    code = "payload_too_large"


class RefusedAtCommit(Forbidden):
    """A rule checked as the transaction commits refused it (a letter's last use taken by a
    request that committed first): the whole unit of work is rolled back, then ``record``
    writes what must outlive it (the refusal's audit event) in a transaction of its own.

    ``core.db.commit`` does both; every edge commits through it.
    """

    def __init__(
        self,
        message: str,
        *,
        record: Callable[[Any], object] | None = None,
        field: str | None = None,
        error_code: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message, field=field, error_code=error_code, **params)
        self.record = record


class Unavailable(XydError):
    """Something the node needs is missing or down (a font, a service): not the caller's fault."""

    status = 503
    code = "unavailable"
