"""The one URL policy: which URLs the package accepts, read the way the browser reads them.

Python's ``urllib.parse`` and the browser's WHATWG URL parser disagree on backslashes,
percent-encoded and international hosts, ports and control characters, so a check made with
the first can pass a URL that the iframe then loads from another host. Every URL is therefore
parsed here with ``ada-url`` (the WHATWG parser Node.js uses), and the origin shown is the one
that loads. ``js/urls.ts`` applies the same rules in the browser; a test runs one table of URLs
through both and requires the same verdict.

The rules, in order (both sides):

1. a string of at most :data:`MAX_URL_CHARS` characters, once leading and trailing ASCII
   whitespace is trimmed;
2. no spaces, control characters or backslashes inside (the parser would encode, drop or
   reinterpret them, so what a person reads would not be what loads);
3. absolute, written ``scheme://…``;
4. parsed by the WHATWG parser, with a host and without a user name or password;
5. the scheme the purpose allows: a *watch link* (and the REST API's base URL) must be
   ``https:``, or ``http:`` only for :data:`LOCAL_HOSTS`; a *page* (``setCurrentUrl``, the
   simulator's pages) may be ``http:`` or ``https:``; ``"https"`` (the REST client's callback
   URLs, the links the service answers with) allows ``https:`` alone.
"""

from __future__ import annotations

import re
from typing import Literal

import ada_url

#: Hosts where plain ``http:`` is allowed: the page cannot be intercepted on the way.
LOCAL_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
#: The longest URL accepted (browsers accept more; no watch link or page address needs it).
MAX_URL_CHARS = 8192

Purpose = Literal["watch", "page", "https"]

_ALLOWED = {
    "watch": "an absolute https: URL, or http: only for localhost, 127.0.0.1 or [::1]",
    "page": "an absolute http: or https: URL such as 'https://shop.example/cart'",
    "https": "an absolute https: URL such as 'https://support.example.com/done'",
}
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_WHITESPACE = " \t\n\r\f"


def check_url(url: object, purpose: Purpose, what: str = "url") -> str:
    """Return ``url`` (trimmed) if it is acceptable for ``purpose``; else raise ``ValueError``.

    The message names the value and says what is allowed.
    """
    allowed = _ALLOWED[purpose]
    if not isinstance(url, str):
        raise ValueError(f"{what} must be a string ({allowed}), got {_show(url)}")
    text = url.strip(_WHITESPACE)
    if len(text) > MAX_URL_CHARS:
        raise ValueError(
            f"{what} {_show(text)} is {len(text)} characters long; the limit is "
            f"{MAX_URL_CHARS}. Allowed: {allowed}"
        )
    reason = _refusal(text, purpose)
    if reason is not None:
        raise ValueError(f"{what} {_show(url)} is not allowed: {reason}. Allowed: {allowed}")
    return text


def check_watch_url(url: object) -> str:
    """Return the watch link (trimmed) if it may be loaded in the session's iframe.

    A watch link shows a live view of someone's browser, so it must travel over TLS: ``https:``
    only, except plain ``http:`` on the local machine (test pages). ``javascript:``, ``data:``,
    ``file:``, ``blob:`` and relative URLs are refused. Raises ``ValueError`` otherwise.
    """
    return check_url(url, "watch")


def check_page_url(url: object) -> str:
    """Return ``url`` (trimmed) if it is an absolute ``http:``/``https:`` URL for a page."""
    return check_url(url, "page")


def origin_of(url: str) -> str:
    """Return the origin (``scheme://host[:port]``) the browser gives an accepted URL."""
    return str(ada_url.URL(url).origin)


def _refusal(text: str, purpose: Purpose) -> str | None:
    """Why ``text`` is refused for ``purpose`` (a short clause), or ``None``."""
    if _FORBIDDEN.search(text):
        return "it contains a space, a control character or a backslash"
    if not _ABSOLUTE.match(text):
        return "it is not an absolute URL (scheme://host/…)"
    try:
        parsed = ada_url.URL(text)
    except ValueError:
        return "the browser cannot parse it (check the host and the port)"
    scheme = parsed.protocol
    if scheme not in ("http:", "https:"):
        return f"{scheme} URLs are refused"
    if not parsed.hostname:
        return "it has no host"
    if parsed.username or parsed.password:
        return "it carries a user name or password"
    if purpose == "watch" and scheme == "http:" and parsed.hostname not in LOCAL_HOSTS:
        return "it uses plain http: for a remote host"
    if purpose == "https" and scheme != "https:":
        return "it is not https:"
    return None


def _show(value: object) -> str:
    from ._json import short_repr

    return short_repr(value, 200)
