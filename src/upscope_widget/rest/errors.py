"""The exceptions raised by the Upscope REST client.

Every exception derives from :class:`UpscopeAPIError` and keeps what is known about the failed
call: ``status_code`` (``None`` when no HTTP answer arrived), ``body`` (the service's answer:
parsed JSON when it was JSON, else text), ``request_method`` and ``request_path`` (the URL path
without the query string). None of them ever holds the API key: wherever the service's answer
is kept, an echoed key reads ``***``. None of them is unbounded either: at most
``MAX_BODY_BYTES`` of an answer is read, and at most ``MAX_TEXT_CHARS`` of a text answer kept.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APINotEnabledError",
    "AuthenticationError",
    "ContactTeamError",
    "InvalidAPIKeyError",
    "MissingAPIKeyError",
    "NoSubscriptionError",
    "PlanLimitError",
    "RateLimitedError",
    "UnexpectedResponseError",
    "UpscopeAPIError",
    "UpscopeConnectionError",
    "UpscopeHTTPError",
    "UpscopeTimeoutError",
    "VisitorNotFoundError",
]


class UpscopeAPIError(Exception):
    """Base class of every error raised by :mod:`upscope_widget.rest`.

    Attributes:
        status_code: The HTTP status of the service's answer, ``None`` if there was none
            (timeout, connection error, missing key).
        body: The service's answer: parsed JSON if it was JSON, else the text (cut after
            ``MAX_TEXT_CHARS`` characters, with a note saying so). The API key, if the
            service echoed it, reads ``***`` (in JSON strings and keys too).
        request_method: ``"GET"`` or ``"POST"``, ``None`` if no request was made.
        request_path: The URL path of the request (no host, no query string, no key).
        attempts: How many times the request was sent (more than 1 only for retried GETs).

    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_method: str | None = None,
        request_path: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.request_method = request_method
        self.request_path = request_path
        self.attempts = attempts

    @property
    def message(self) -> str:
        """The human-readable explanation (the same as ``str(error)``)."""
        return str(self.args[0]) if self.args else ""


class MissingAPIKeyError(UpscopeAPIError, ValueError):
    """No REST API key was given: pass ``api_key=`` or set ``UPSCOPE_API_KEY``.

    Also a :class:`ValueError`, so ``except ValueError`` catches it too.
    """


class UpscopeHTTPError(UpscopeAPIError):
    """The service answered with an HTTP status that is not a success.

    Raised as such for statuses without a more specific class (400, 403, 5xx, redirects...);
    the more specific classes below derive from it.

    Attributes:
        error_code: The ``"error"`` string of the service's JSON answer, if there was one
            (an echoed API key in it reads ``***``).

    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_method: str | None = None,
        request_path: str | None = None,
        attempts: int = 1,
        error_code: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            body=body,
            request_method=request_method,
            request_path=request_path,
            attempts=attempts,
        )
        self.error_code = error_code


class AuthenticationError(UpscopeHTTPError):
    """HTTP 401: the service refused the API key or the account.

    Raised as such for a 401 whose ``error`` string is not one of the known ones; that string is
    kept in ``error_code``.
    """


class InvalidAPIKeyError(AuthenticationError):
    """401 ``invalid_api_key``: the key is wrong; check ``api_key`` / ``UPSCOPE_API_KEY``."""


class NoSubscriptionError(AuthenticationError):
    """401 ``no_subscription``: the Upscope account has no active subscription."""


class APINotEnabledError(AuthenticationError):
    """401 ``api_not_enabled``: the REST API is not enabled for the Upscope account."""


class ContactTeamError(AuthenticationError):
    """401 ``please_contact_team``: Upscope asks you to contact their team about the account."""


class VisitorNotFoundError(UpscopeHTTPError):
    """HTTP 404 on a visitor's URL: no visitor has this short id.

    Attributes:
        visitor_id: The visitor id that was asked for.

    """

    def __init__(self, message: str, *, visitor_id: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.visitor_id = visitor_id


class PlanLimitError(UpscopeHTTPError):
    """HTTP 402: the Upscope plan's limits are exceeded."""


class RateLimitedError(UpscopeHTTPError):
    """HTTP 429: too many requests.

    Attributes:
        retry_after: Seconds to wait before trying again, from the ``Retry-After`` header
            (seconds or HTTP-date); ``None`` if the service did not say.

    """

    def __init__(self, message: str, *, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class UpscopeTimeoutError(UpscopeAPIError):
    """The service did not answer within the client's ``timeout``.

    The timeout bounds each request as a whole, from connecting to the last byte of the
    answer, so a service that sends its answer a byte at a time cannot hold a call longer.
    """


class UpscopeConnectionError(UpscopeAPIError):
    """The service could not be reached, or its answer broke off or broke HTTP.

    For example: a refused connection, a DNS failure, a dropped connection, a malformed status
    line, or response headers beyond httpx's size limit.
    """


class UnexpectedResponseError(UpscopeAPIError):
    """A success status, but the answer is not the documented JSON.

    For example: not JSON, no ``watch_url``, a value of the wrong type, a ``watch_url`` that is
    not an ``https:`` URL, an answer larger than ``MAX_BODY_BYTES``, JSON nested deeper than
    ``MAX_JSON_DEPTH``, or an answer compressed in a way the client did not ask for.
    """
