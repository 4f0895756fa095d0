"""What the sync and async clients share: configuration, requests, answers, errors, retries.

Nothing here does I/O; the clients send the requests this module builds and hand the answers
back to it.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

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

#: The most of an answer the clients read, in bytes (after decompression too): 1 MiB. Reading
#: stops there, and the call fails (``UnexpectedResponseError`` for a success status).
MAX_BODY_BYTES = 1024 * 1024
#: The most characters of a text (non-JSON) answer an error keeps in ``.body``; the rest is
#: replaced by a note saying how much was left out.
MAX_TEXT_CHARS = 16 * 1024
#: JSON nested deeper than this many arrays / objects is not parsed (Upscope's answers are
#: a few levels deep); the answer is kept as text and the call fails.
MAX_JSON_DEPTH = 64

# A Retry-After the client uses: at most this many ASCII digits (about 317 years), or an
# HTTP-date of at most this many ASCII characters. Anything else counts as not given.
_RETRY_AFTER_DIGITS = 10
_RETRY_AFTER_CHARS = 64
# The most characters of the answer quoted in an error message.
_QUOTED_CHARS = 200
# Charsets a text answer is decoded with; any other (rot13, base64, unknown...) falls back to
# UTF-8, because some codecs registered in Python are not text encodings and raise.
_TEXT_CHARSETS = frozenset(
    {
        "ascii",
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-le",
        "utf-32-be",
    }
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)

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


def total_seconds(timeout: httpx.Timeout) -> float | None:
    """Return the deadline of one whole request: the largest of ``timeout``'s limits.

    A number given as ``timeout`` sets every limit of httpx (connect, write, read, pool) and so
    is the deadline itself. ``None`` (no deadline) only if every limit is ``None``.
    """
    limits = [
        t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t is not None
    ]
    return max(limits) if limits else None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, or ``None``.

    Only delay-seconds of at most 10 ASCII digits or a valid HTTP-date count; anything else
    (absurdly long, non-ASCII, negative, fractional, a date out of range) is ``None``, as if
    the header were missing.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _RETRY_AFTER_CHARS or not text.isascii():
        return None
    if text.isdigit():
        return float(int(text)) if len(text) <= _RETRY_AFTER_DIGITS else None
    try:
        when = parsedate_to_datetime(text)
        if when is None:  # pragma: no cover - older Pythons returned None
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        return max(0.0, (when - now).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _shown(text: str, limit: int = 60) -> str:
    """Return ``repr(text)``, cut to about ``limit`` characters, for an error message."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _decode_text(content: bytes, content_type: str | None) -> str:
    """Return ``content`` as text: its charset if that is a known text encoding, else UTF-8."""
    encoding = "utf-8"
    found = _CHARSET.search(content_type or "")
    if found:
        try:
            name = codecs.lookup(found.group(1)).name
        except LookupError:
            name = ""
        if name in _TEXT_CHARSETS or name.startswith(("iso8859-", "cp", "mac-", "koi8")):
            encoding = name
    try:
        return content.decode(encoding, errors="replace")
    except (LookupError, UnicodeError, ValueError, TypeError):  # pragma: no cover - guarded above
        return content.decode("utf-8", errors="replace")


class _TooDeep(Exception):
    pass


def _clean_json(value: Any, redact: Callable[[str], str], depth: int = 0) -> Any:
    """Return the parsed JSON ``value`` with every string (keys too) redacted; check its depth."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, dict)) and depth >= MAX_JSON_DEPTH:
        raise _TooDeep
    if isinstance(value, list):
        return [_clean_json(item, redact, depth + 1) for item in value]
    if isinstance(value, dict):
        return {redact(k): _clean_json(v, redact, depth + 1) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Answer:
    """What was read of an answer: at most ``MAX_BODY_BYTES`` of its (decoded) body.

    ``problem`` says why the body cannot be used (too large, undecodable), ``None`` if it can.
    """

    status_code: int
    headers: httpx.Headers
    content: bytes
    problem: str | None = None
    cut: bool = False


class BodyReader:
    """Collects the body of one answer chunk by chunk, decompressing it, up to the size cap.

    The clients ask for an uncompressed answer (``Accept-Encoding: identity``) and read the raw
    bytes, so that the cap holds on the wire and after decompression: a gzip bomb stops at
    1 MiB instead of filling the memory. ``decoded``: the body was read and decompressed
    already (by an ``http_client``'s response hook, or a mock transport), so it is only capped.
    """

    def __init__(self, response: httpx.Response, *, decoded: bool = False) -> None:
        self._status = response.status_code
        self._headers = response.headers
        self._content = bytearray()
        self._wire = 0
        self._problem: str | None = None
        self._cut = False
        self._inflate: Any = None
        self.done = False
        declared = response.headers.get("Content-Length", "").strip()
        self._declared = (
            int(declared)
            if declared.isascii() and declared.isdigit() and len(declared) < 20
            else None
        )
        codings = [
            c.strip().lower()
            for c in response.headers.get("Content-Encoding", "").split(",")
            if c.strip() and c.strip().lower() != "identity" and not decoded
        ]
        if codings in (["gzip"], ["x-gzip"]):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif codings == ["deflate"]:
            self._inflate = _Deflate()
        elif codings:
            shown = _shown(", ".join(codings))
            self._problem = (
                f"is compressed as {shown}, which this client does not decode (it asks for "
                "an uncompressed answer)"
            )
            self.done = True

    def feed(self, chunk: bytes) -> bool:
        """Take the next raw chunk; return ``False`` once nothing more should be read."""
        if self.done:
            return False
        self._wire += len(chunk)
        room = MAX_BODY_BYTES + 1 - len(self._content)
        if self._inflate is not None:
            try:
                data = self._inflate.decompress(chunk, room)
            except zlib.error as exc:
                self._problem = f"could not be decoded (Content-Encoding: {exc})"
                self.done = True
                return False
        else:
            data = chunk[:room]
        self._content += data
        if len(self._content) > MAX_BODY_BYTES or self._wire > MAX_BODY_BYTES:
            del self._content[MAX_BODY_BYTES:]
            declared = (
                f"; it announced {self._declared} bytes" if self._declared is not None else ""
            )
            self._problem = (
                f"is larger than 1 MiB ({MAX_BODY_BYTES} bytes), the most this client "
                f"reads{declared}; the rest was not read"
            )
            self._cut = True
            self.done = True
        return not self.done

    def answer(self) -> Answer:
        """Return what was read."""
        self.done = True
        return Answer(self._status, self._headers, bytes(self._content), self._problem, self._cut)


class _Deflate:
    """``Content-Encoding: deflate``: zlib-wrapped as the RFC says, or raw as some servers send."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj()
        self._first = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._inflate.decompress(data, max_length)
            except zlib.error:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflate.decompress(data, max_length)


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
        #: The deadline of one request (each attempt), answer included; ``None``: none.
        self.total_timeout = total_seconds(self.timeout)
        self.max_retries = check.non_negative_int("max_retries", max_retries)
        self.backoff = check.non_negative_float("backoff", backoff)
        self.max_backoff = check.non_negative_float("max_backoff", max_backoff)
        self._api_key = resolve_api_key(api_key)
        key = self._api_key.get_secret_value()
        # The key as sent, and as it reads inside a URL (a server echoing a request URL), in
        # any case: servers lowercase what they echo, and write percent escapes in either case
        # ("%2F" or "%2f"), which matters for keys holding "/", "+" or "=".
        forms = sorted({key, quote(key, safe="")}, key=len, reverse=True)
        self._secret = re.compile("|".join(map(re.escape, forms)), re.IGNORECASE | re.ASCII)

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
                # Compressed answers could inflate past the size cap before it is checked.
                "Accept-Encoding": "identity",
            },
            timeout=self.timeout,
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with the API key, should it appear, replaced by ``***``.

        Every form of the key is replaced: as sent, percent-encoded, and either in any case.
        """
        return self._secret.sub("***", text)

    def _kept_text(self, text: str, *, cut: bool) -> str:
        """Return the text kept of a text answer: redacted, at most ``MAX_TEXT_CHARS`` long."""
        # Redacted before it is cut, so that no cut leaves half a key. The end of a body cut at
        # MAX_BODY_BYTES (maybe inside a key) is never kept: 1 MiB decodes to far more than
        # MAX_TEXT_CHARS characters in every charset _decode_text uses.
        text = self.redact(text)
        if cut:
            kept = text[:MAX_TEXT_CHARS]
            return f"{kept}... [the answer is larger than 1 MiB; the rest was not read]"
        if len(text) > MAX_TEXT_CHARS:
            left_out = len(text) - MAX_TEXT_CHARS
            return f"{text[:MAX_TEXT_CHARS]}... [{left_out} more characters not kept]"
        return text

    def _body(self, answer: Answer) -> tuple[Any, bool, str | None]:
        """Return the body to keep (redacted JSON, or capped text), whether JSON, and a problem."""
        content_type = answer.headers.get("Content-Type")
        problem = answer.problem
        if problem is None and answer.content.strip():
            try:
                parsed = json.loads(answer.content)
            except RecursionError:
                problem = f"is JSON nested more than {MAX_JSON_DEPTH} levels deep"
            except ValueError:
                pass
            else:
                try:
                    return _clean_json(parsed, self.redact), True, None
                except _TooDeep:
                    problem = f"is JSON nested more than {MAX_JSON_DEPTH} levels deep"
        text = _decode_text(answer.content, content_type)
        return self._kept_text(text, cut=answer.cut), False, problem

    def _within(self) -> str:
        if self.total_timeout is None:
            return "in time"
        return f"within {self.total_timeout:g} s"

    def deadline_error(self, call: Call, attempts: int) -> UpscopeTimeoutError:
        """Return the error for a request that passed its deadline (``timeout``)."""
        path = self.path(call)
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        if not call.idempotent:
            tried += (
                " The request was not repeated (to avoid making a second link); it may or may "
                "not have taken effect."
            )
        return UpscopeTimeoutError(
            f"Upscope did not answer {call.method} {path} at {self.base_url} {self._within()}, "
            "the client's timeout, which bounds the whole request, answer included."
            f"{tried} Try again later, or raise the client's timeout.",
            request_method=call.method,
            request_path=path,
            attempts=attempts,
        )

    def transport_error(self, call: Call, exc: httpx.HTTPError, attempts: int) -> UpscopeAPIError:
        """Return the error for an exception of httpx (which is not kept: it holds the key)."""
        path = self.path(call)
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        detail = self.redact(str(exc))  # before it is cut, so that no half key is left
        if len(detail) > _QUOTED_CHARS:
            detail = detail[:_QUOTED_CHARS] + "..."
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        where = f"{call.method} {path} at {self.base_url}"
        if isinstance(exc, httpx.TimeoutException):
            return UpscopeTimeoutError(
                f"Upscope did not answer {where} {self._within()}, the client's timeout "
                f"({reason}){tried}. Try again later, or raise the client's timeout.",
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
        if isinstance(exc, httpx.RemoteProtocolError):
            problem = f"Upscope's answer to {where} broke off or broke the HTTP protocol"
        else:
            problem = f"Could not reach Upscope for {where}"
        return UpscopeConnectionError(
            f"{problem} ({reason}){tried}. Check the network, a proxy, and base_url; then "
            "try again.",
            request_method=call.method,
            request_path=path,
            attempts=attempts,
        )

    def outcome(self, call: Call, answer: Answer, attempts: int) -> Reply | UpscopeAPIError:
        """Return the reply of a usable 2xx answer, or the error an other answer stands for.

        Whatever is kept of the answer (the body, the error code, the message) has the key
        redacted and a bounded size.
        """
        path = self.path(call)
        body, is_json, problem = self._body(answer)
        status = answer.status_code
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        if 200 <= status < 300:
            if problem is None:
                return Reply(call, path, status, body, is_json)
            return UnexpectedResponseError(
                self.redact(
                    f"Upscope answered {call.method} {path} with HTTP {status}, but the answer "
                    f"{problem}. Check base_url and version; the start of the answer is in "
                    f"the error's .body.{tried}"
                ),
                status_code=status,
                body=body,
                request_method=call.method,
                request_path=path,
                attempts=attempts,
            )
        error_code = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error_code, str):
            error_code = None
        label = f"HTTP {status}" + (f" {_shown(error_code)}" if error_code else "")
        where = f"[{label} on {call.method} {path}]{tried}"
        note = f" The answer {problem}." if problem else ""
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
            return cls(self.redact(f"{advice}{note} {where}"), **common)
        if status == 404 and call.visitor_id is not None:
            return VisitorNotFoundError(
                self.redact(
                    f"Upscope has no visitor with id {_shown(call.visitor_id, 80)}. Check the "
                    "visitor's short id (find_visitors() can look it up); if every call "
                    f"answers 404, check base_url and version.{note} {where}"
                ),
                visitor_id=call.visitor_id,
                **common,
            )
        if status == 402:
            return PlanLimitError(
                self.redact(
                    "The Upscope plan's limits are exceeded. Upgrade the plan or wait for the "
                    f"limit to reset; contact Upscope if unsure.{note} {where}"
                ),
                **common,
            )
        if status == 429:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            wait = f"in {retry_after:g} s" if retry_after is not None else "later"
            return RateLimitedError(
                self.redact(f"Too many requests to Upscope; try again {wait}.{note} {where}"),
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
            snippet = f" Answer: {text[:_QUOTED_CHARS]!r}."
        return UpscopeHTTPError(self.redact(f"{advice}{note}{snippet} {where}"), **common)

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
