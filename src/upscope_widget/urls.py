"""Which URLs the widget accepts, and why others are refused."""

from __future__ import annotations

from urllib.parse import urlsplit

#: Hosts where plain ``http:`` is allowed: the page cannot be intercepted on the way.
LOCAL_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")

_ALLOWED_WATCH = "an absolute https: URL, or http: only for localhost, 127.0.0.1 or [::1]"


def check_watch_url(url: object) -> str:
    """Return ``url`` if it may be loaded in the session's iframe; raise ``ValueError`` if not.

    A watch link shows a live view of someone's browser, so it must travel over TLS: ``https:``
    only, except plain ``http:`` on the local machine (test pages, the simulator's tooling).
    ``javascript:``, ``data:``, ``file:``, ``blob:`` and relative URLs are refused.
    """
    if not isinstance(url, str):
        raise ValueError(f"url must be a string ({_ALLOWED_WATCH}), got {url!r}")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return url.strip()
    if scheme == "http" and _netloc_host(parts.netloc) in LOCAL_HOSTS:
        return url.strip()
    if scheme == "http":
        raise ValueError(
            f"url {url!r} uses plain http: for a remote host; allowed: {_ALLOWED_WATCH}"
        )
    raise ValueError(f"url {url!r} is not allowed; allowed: {_ALLOWED_WATCH}")


def origin_of(url: str) -> str:
    """Return the origin (``scheme://host[:port]``) of an accepted watch URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = _netloc_host(parts.netloc)
    port = parts.port
    default = {"https": 443, "http": 80}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def check_page_url(url: str) -> str:
    """Return ``url`` if it is an absolute ``http:``/``https:`` URL for the visitor's page."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url.strip()
    raise ValueError(
        f"url {url!r} is not allowed; allowed: an absolute http: or https: URL "
        "such as 'https://shop.example/cart'"
    )


def _netloc_host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]
