"""What the sync and async clients share: configuration, requests, answers, errors, retries.

Nothing here does I/O; the clients send the requests this module builds and hand the answers
back to it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from . import _validation as check
from .errors import (
    APINotEnabledError,
    AuthenticationError,
    ContactTeamError,
    InvalidAPIKeyError,
    MissingAPIKeyError,
    NoSubscriptionError,
    PlanLimitError,
    RateLimitedError,
    UnexpectedResponseError,
    UpscopeAPIError,
    UpscopeConnectionError,
    UpscopeHTTPError,
    UpscopeTimeoutError,
    VisitorNotFoundError,
)

logger = logging.getLogger("upscope_widget.rest")

DEFAULT_BASE_URL = "https://api.upscope.io"
DEFAULT_VERSION = "v1.3"
API_KEY_ENV = "UPSCOPE_API_KEY"
BASE_URL_ENV = "UPSCOPE_API_BASE_URL"

_AUTH_ERRORS: dict[str, tuple[type[AuthenticationError], str]] = {
    "invalid_api_key": (
        InvalidAPIKeyError,
        "Upscope rejected the REST API key. Check the key passed as api_key or set in "
        f"{API_KEY_ENV}: it must be the REST API key from your Upscope account settings.",
    ),
    "no_subscription": (
        NoSubscriptionError,
        "The Upscope account has no active subscription. Start or renew one in Upscope's "
        "billing settings, then try again.",
    ),
    "api_not_enabled": (
        APINotEnabledError,
        "The REST API is not enabled for this Upscope account. Enable it in the Upscope "
        "account settings (or ask Upscope support to), then try again.",
    ),
    "please_contact_team": (
        ContactTeamError,
        "Upscope asks you to contact their team about this account before using the REST API. "
        "Contact Upscope support.",
    ),
}


def resolve_api_key(api_key: str | SecretStr | None) -> SecretStr:
    """Return the key from the argument or ``UPSCOPE_API_KEY``, checked, never echoed."""
    if isinstance(api_key, SecretStr):
        api_key = api_key.get_secret_value()
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV)
    if api_key is not None and not isinstance(api_key, str):
        raise ValueError(f"api_key must be a str, got a {type(api_key).__name__}")
    key = (api_key or "").strip()
    if not key:
        raise MissingAPIKeyError(
            "No Upscope REST API key: pass api_key=... to the client, or set the "
            f"{API_KEY_ENV} environment variable to the REST API key from your Upscope "
            "account settings."
        )
    if not all(0x21 <= ord(c) <= 0x7E for c in key):
        # Never show the key, not even in part.
        raise ValueError(
            "The Upscope API key contains whitespace, control or non-ASCII characters "
            "that cannot be sent in an HTTP header; check api_key / "
            f"{API_KEY_ENV} for stray characters."
        )
    return SecretStr(key)


def resolve_base_url(base_url: str | None) -> str:
    """Return the base URL from the argument, ``UPSCOPE_API_BASE_URL`` or the default."""
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return check.base_url(base_url)


def resolve_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """Return ``timeout`` as an :class:`httpx.Timeout`; a number must be > 0."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = check.non_negative_float("timeout", timeout)
    if seconds <= 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return httpx.Timeout(seconds)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delay-seconds or HTTP-date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Call:
    """One API call: method, path below ``/{version}`` (already percent-encoded), data."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    visitor_id: str | None = None

    @property
    def idempotent(self) -> bool:
        """Whether the call may be retried (only GETs)."""
        return self.method == "GET"


@dataclass(frozen=True)
class Reply:
    """A success answer: its status and its body (parsed JSON, or text if not JSON)."""

    call: Call
    path: str
    status_code: int
    body: Any
    is_json: bool


def _body_of(response: httpx.Response) -> tuple[Any, bool]:
    content = response.content
    try:
        return json.loads(content), True
    except ValueError:
        return response.text, False


def watch_url_call(
    visitor_id: object,
    *,
    agent_id: object,
    agent_name: object,
    naked: object,
    permissions: object,
    metadata: object,
    retry_url: object,
    on_end_url: object,
) -> Call:
    """Validate the arguments of ``watch_url`` and return its call."""
    segment = check.path_segment("visitor_id", visitor_id)
    body = check.watch_url_body(
        agent_id=agent_id,
        agent_name=agent_name,
        naked=naked,
        permissions=permissions,
        metadata=metadata,
        retry_url=retry_url,
        on_end_url=on_end_url,
    )
    return Call("POST", f"/visitors/{segment}/watch_url", json=body, visitor_id=str(visitor_id))


def find_visitors_call(search: object, *, max_results: object) -> Call:
    """Validate the arguments of ``find_visitors`` and return its call."""
    params = {"search": check.non_empty_str("search", search)}
    if max_results is not None:
        params["max_results"] = str(check.positive_int("max_results", max_results))
    return Call("GET", "/list", params=params)


def get_visitor_call(short_id: object) -> Call:
    """Validate the argument of ``get_visitor`` and return its call."""
    segment = check.path_segment("short_id", short_id)
    return Call("GET", f"/visitors/{segment}", visitor_id=str(short_id))


class Core:
    """The configuration of a client and everything it does that is not I/O."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None,
        base_url: str | None,
        version: str,
        timeout: float | httpx.Timeout,
        max_retries: int,
        backoff: float,
        max_backoff: float,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.version = check.version(version)
        self.timeout = resolve_timeout(timeout)
        self.max_retries = check.non_negative_int("max_retries", max_retries)
        self.backoff = check.non_negative_float("backoff", backoff)
        self.max_backoff = check.non_negative_float("max_backoff", max_backoff)
        self._api_key = resolve_api_key(api_key)

    def describe(self, cls_name: str) -> str:
        """Return the client's ``repr`` (no key)."""
        return f"{cls_name}(base_url={self.base_url!r}, version={self.version!r}, api_key='***')"

    def path(self, call: Call) -> str:
        """Return the URL path of ``call`` (base URL's path included, no query string)."""
        return urlsplit(self.url(call)).path

    def url(self, call: Call) -> str:
        """Return the URL of ``call`` without its query string."""
        return f"{self.base_url}/{self.version}{call.path}"

    def build_request(self, http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
        """Return the request of ``call``; the key goes only in its ``X-Api-Key`` header."""
        return http.build_request(
            call.method,
            self.url(call),
            params=call.params,
            json=call.json,
            headers={
                "X-Api-Key": self._api_key.get_secret_value(),
                "Accept": "application/json",
            },
            timeout=self.timeout,
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with the API key, should it appear, replaced by ``***``."""
        return text.replace(self._api_key.get_secret_value(), "***")

    def transport_error(self, call: Call, exc: httpx.HTTPError, attempts: int) -> UpscopeAPIError:
        """Return the error for an exception of httpx (which is not kept: it holds the key)."""
        path = self.path(call)
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        reason = self.redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        where = f"{call.method} {path} at {self.base_url}"
        if isinstance(exc, httpx.TimeoutException):
            return UpscopeTimeoutError(
                f"Upscope did not answer {where} within the timeout ({reason}){tried}. Try "
                "again later, or raise the client's timeout.",
                request_method=call.method,
                request_path=path,
                attempts=attempts,
            )
        if isinstance(exc, httpx.DecodingError):
            return UnexpectedResponseError(
                f"Upscope's answer to {where} could not be decoded ({reason}).",
                request_method=call.method,
                request_path=path,
                attempts=attempts,
            )
        return UpscopeConnectionError(
            f"Could not reach Upscope for {where} ({reason}){tried}. Check the network, a "
            "proxy, and base_url; then try again.",
            request_method=call.method,
            request_path=path,
            attempts=attempts,
        )

    def outcome(
        self, call: Call, response: httpx.Response, attempts: int
    ) -> Reply | UpscopeAPIError:
        """Return the reply of a 2xx answer, or the error an other answer stands for."""
        path = self.path(call)
        body, is_json = _body_of(response)
        status = response.status_code
        if 200 <= status < 300:
            return Reply(call, path, status, body, is_json)
        error_code = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error_code, str):
            error_code = None
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        label = f"HTTP {status}" + (f" {error_code}" if error_code else "")
        where = f"[{label} on {call.method} {path}]{tried}"
        common: dict[str, Any] = {
            "status_code": status,
            "body": body,
            "request_method": call.method,
            "request_path": path,
            "attempts": attempts,
            "error_code": error_code,
        }
        if status == 401:
            cls, advice = _AUTH_ERRORS.get(
                error_code or "",
                (
                    AuthenticationError,
                    "Upscope refused the request's authentication. Check the API key "
                    f"(api_key / {API_KEY_ENV}) and the account; .error_code and .body hold "
                    "the service's reason.",
                ),
            )
            return cls(self.redact(f"{advice} {where}"), **common)
        if status == 404 and call.visitor_id is not None:
            return VisitorNotFoundError(
                self.redact(
                    f"Upscope has no visitor with id {call.visitor_id!r}. Check the visitor's "
                    "short id (find_visitors() can look it up); if every call answers 404, "
                    f"check base_url and version. {where}"
                ),
                visitor_id=call.visitor_id,
                **common,
            )
        if status == 402:
            return PlanLimitError(
                self.redact(
                    "The Upscope plan's limits are exceeded. Upgrade the plan or wait for the "
                    f"limit to reset; contact Upscope if unsure. {where}"
                ),
                **common,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            wait = f"in {retry_after:g} s" if retry_after is not None else "later"
            return RateLimitedError(
                self.redact(f"Too many requests to Upscope; try again {wait}. {where}"),
                retry_after=retry_after,
                **common,
            )
        if 500 <= status < 600:
            advice = "Upscope had a server error; try again later."
            if not call.idempotent:
                advice += (
                    " The request was not repeated (to avoid making a second link); it may or "
                    "may not have taken effect."
                )
        elif 300 <= status < 400:
            advice = (
                "Upscope answered with a redirect, which this client does not follow (the key "
                f"would go along); check base_url ({self.base_url}) and version ({self.version})."
            )
        elif status == 404:
            advice = f"Not found: check base_url ({self.base_url}) and version ({self.version})."
        else:
            advice = "Upscope rejected the request; see the error's .body for its reason."
        snippet = ""
        if error_code is None and body not in ("", None):
            text = body if isinstance(body, str) else json.dumps(body)
            snippet = f" Answer: {text[:200]!r}."
        return UpscopeHTTPError(self.redact(f"{advice}{snippet} {where}"), **common)

    def retry_delay(self, call: Call, error: UpscopeAPIError) -> float | None:
        """Return the seconds to wait before sending ``call`` again, ``None`` not to retry.

        Only GETs are retried, on timeouts, connection errors, 429 and 5xx, at most
        ``max_retries`` times. The wait doubles from ``backoff`` up to ``max_backoff``; a 429's
        ``Retry-After`` is honoured, and one longer than ``max_backoff`` ends the
        retries at once.
        """
        if not call.idempotent or error.attempts > self.max_retries:
            return None
        retryable = isinstance(error, (UpscopeTimeoutError, UpscopeConnectionError)) or (
            isinstance(error, UpscopeHTTPError)
            and error.status_code is not None
            and (error.status_code == 429 or 500 <= error.status_code < 600)
        )
        if not retryable:
            return None
        delay = min(self.max_backoff, self.backoff * 2.0 ** (error.attempts - 1))
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            if error.retry_after > self.max_backoff:
                return None
            delay = max(delay, error.retry_after)
        logger.info(
            "Upscope %s %s failed (%s); retrying in %.2f s (retry %d of %d)",
            call.method,
            self.path(call),
            type(error).__name__ if error.status_code is None else f"HTTP {error.status_code}",
            delay,
            error.attempts,
            self.max_retries,
        )
        return delay


class ClientBase:
    """What the sync and async clients share: their settings, and a repr without the key."""

    _core: Core

    def __repr__(self) -> str:
        """Show the base URL and version, never the key."""
        return self._core.describe(type(self).__name__)

    @property
    def base_url(self) -> str:
        """The service's address, without a trailing slash."""
        return self._core.base_url

    @property
    def version(self) -> str:
        """The API version path segment, e.g. ``"v1.3"``."""
        return self._core.version
