"""What an agent may do on its own: tools that need a person's approval, URLs, a rate limit.

:class:`AgentPolicy` is a plain value, checked when it is made. It knows nothing of sessions:
:meth:`AgentPolicy.url_refusal` and :class:`RateLimit` answer with the sentence a model reads
(or ``None``), so that they are unit-tested on their own, and the runner that applies them to
agent calls (source ``"agent"`` and ``"mcp"``) stays small. A person's own calls never pass here.

URLs are read the way the browser reads them (``ada-url``, as :mod:`upscope_widget.urls`), so a
URL that a pattern seems to allow cannot load from another host.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ada_url

from .._json import short_repr
from ..urls import check_url
from .tools import TOOLS

#: The tools that ask a person first unless a policy says otherwise.
DEFAULT_APPROVE: frozenset[str] = frozenset({"end_session", "run_console_command"})
#: The default rate limit: this many agent calls ...
DEFAULT_MAX_CALLS = 60
#: ... per this many seconds.
DEFAULT_PER_SECONDS = 60.0
#: Seconds a request for approval waits for an answer before the call is denied.
DEFAULT_APPROVAL_TIMEOUT = 60.0
#: The tool whose ``url`` argument ``allowed_urls`` limits.
URL_TOOL = "set_current_url"


def _positive(name: str, value: object) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name}={short_repr(value)} is not allowed: use a positive, finite "
                         "number")
    return float(value)


def _tool_names(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"approve={short_repr(value)} is not allowed: use a set of tool names "
                         f"such as {{'end_session'}}; the tools: {', '.join(sorted(TOOLS))}")
    names = list(value)
    unknown = [n for n in names if not isinstance(n, str) or n not in TOOLS]
    if unknown:
        raise ValueError(f"approve names {', '.join(short_repr(n) for n in unknown)}, which "
                         f"{'is not a tool' if len(unknown) == 1 else 'are not tools'}; the "
                         f"tools: {', '.join(sorted(TOOLS))}")
    return frozenset(names)


@dataclass(frozen=True)
class UrlPattern:
    """One ``allowed_urls`` entry: scheme and host exactly, ``*`` anything within the path."""

    text: str
    scheme: str
    host: str
    rest: re.Pattern[str]

    @classmethod
    def parse(cls, pattern: object) -> UrlPattern:
        """Return the pattern for ``pattern``, or raise ``ValueError`` naming what is wrong."""
        example = "such as 'https://shop.example/*'"
        if not isinstance(pattern, str):
            raise ValueError(f"allowed_urls entry {short_repr(pattern)} is not allowed: use an "
                             f"https: URL pattern, {example}")
        try:
            # the pattern must itself be a URL the package accepts, apart from its stars
            check_url(pattern.replace("*", "x"), "https", what="allowed_urls entry")
        except ValueError:
            raise ValueError(f"allowed_urls entry {short_repr(pattern)} is not allowed: a pattern "
                             f"is an absolute https: URL with its host written out, {example}"
                             ) from None
        parsed = ada_url.URL(pattern)
        if "*" in parsed.host:
            raise ValueError(f"allowed_urls entry {pattern!r} is not allowed: the host must be "
                             f"written out ('*' only within the path), {example}")
        rest = (parsed.pathname or "/") + parsed.search + parsed.hash
        regex = ".*".join(re.escape(part) for part in rest.split("*"))
        return cls(pattern, parsed.protocol, parsed.host, re.compile(regex, re.DOTALL))

    def matches(self, url: str) -> bool:
        """Whether ``url`` (already checked as a page URL) is one this pattern allows."""
        parsed = ada_url.URL(url)
        rest = (parsed.pathname or "/") + parsed.search + parsed.hash
        return (parsed.protocol == self.scheme and parsed.host == self.host
                and not parsed.username and not parsed.password
                and self.rest.fullmatch(rest) is not None)


def _patterns(value: object) -> tuple[UrlPattern, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"allowed_urls={short_repr(value)} is not allowed: use a list of https: "
                         "URL patterns such as ['https://shop.example/*'], or None for every "
                         "URL the URL policy allows")
    return tuple(UrlPattern.parse(p) for p in value)


@dataclass(frozen=True, init=False)
class AgentPolicy:
    """What agent calls (``run_tool_call(s)``, the MCP endpoint) may do without a person.

    Args:
        approve: tool names that wait for a person's **Allow** (default: ``end_session`` and
            ``run_console_command``).
        allowed_urls: glob patterns of the whole URL where ``set_current_url`` may send the
            visitor: scheme and host exactly, ``*`` anything within the path, query and
            fragment. ``None`` (default): every URL the URL policy allows.
        max_calls: at most this many agent calls ...
        per_seconds: ... within any window of this many seconds (default 60 per 60 s).
        approval_timeout: seconds a request for approval waits; then the call is denied.

    Raises ``ValueError`` naming the bad value and what is allowed. A person's own method calls
    and toolbar clicks are never held by a policy. :meth:`unrestricted` turns it all off.
    """

    approve: frozenset[str]
    allowed_urls: tuple[UrlPattern, ...] | None
    max_calls: int | None
    per_seconds: float | None
    approval_timeout: float

    def __init__(
        self,
        approve: Iterable[str] = DEFAULT_APPROVE,
        allowed_urls: Iterable[str] | None = None,
        max_calls: int | None = DEFAULT_MAX_CALLS,
        per_seconds: float | None = DEFAULT_PER_SECONDS,
        approval_timeout: float = DEFAULT_APPROVAL_TIMEOUT,
    ) -> None:
        if (max_calls is None) != (per_seconds is None):
            raise ValueError(f"max_calls={max_calls!r} and per_seconds={per_seconds!r}: give both "
                             "(a rate limit) or neither (no limit)")
        if max_calls is not None and (isinstance(max_calls, bool)
                                      or not isinstance(max_calls, int) or max_calls <= 0):
            raise ValueError(f"max_calls={short_repr(max_calls)} is not allowed: use a positive "
                             "whole number")
        set_ = object.__setattr__
        set_(self, "approve", _tool_names(approve))
        set_(self, "allowed_urls", _patterns(allowed_urls))
        set_(self, "max_calls", max_calls)
        set_(self, "per_seconds", None if per_seconds is None
             else _positive("per_seconds", per_seconds))
        set_(self, "approval_timeout", _positive("approval_timeout", approval_timeout))

    @classmethod
    def unrestricted(cls) -> AgentPolicy:
        """Return a policy that holds nothing back: no approval, every URL, no rate limit."""
        return cls(approve=(), allowed_urls=None, max_calls=None, per_seconds=None)

    def needs_approval(self, tool: str) -> bool:
        """Whether a call of ``tool`` waits for a person's answer."""
        return tool in self.approve

    def url_refusal(self, tool: str, arguments: dict[str, Any]) -> str | None:
        """Return the sentence refusing the call's URL, or ``None`` if it may go."""
        if tool != URL_TOOL or self.allowed_urls is None:
            return None
        url = arguments.get("url")
        if isinstance(url, str) and any(p.matches(url) for p in self.allowed_urls):
            return None
        allowed = ", ".join(p.text for p in self.allowed_urls) or "(none)"
        return f"{tool}: {url} is outside the allowed URLs: {allowed}"

    def __repr__(self) -> str:
        urls = None if self.allowed_urls is None else [p.text for p in self.allowed_urls]
        return (f"AgentPolicy(approve={sorted(self.approve)}, allowed_urls={urls}, "
                f"max_calls={self.max_calls}, per_seconds={self.per_seconds}, "
                f"approval_timeout={self.approval_timeout})")


@dataclass
class RateLimit:
    """A sliding window: at most ``max_calls`` calls within any ``per_seconds`` seconds."""

    max_calls: int
    per_seconds: float
    clock: Callable[[], float] = time.monotonic
    _calls: deque[float] = field(default_factory=deque)

    def take(self) -> str | None:
        """Count a call and return ``None``, or return the sentence refusing it (not counted)."""
        now = self.clock()
        while self._calls and self._calls[0] <= now - self.per_seconds:
            self._calls.popleft()
        if len(self._calls) >= self.max_calls:
            wait = max(1, math.ceil(self._calls[0] + self.per_seconds - now))
            return (f"rate limit: {self.max_calls} calls per {self.per_seconds:g} s; "
                    f"try again in {wait} s")
        self._calls.append(now)
        return None
