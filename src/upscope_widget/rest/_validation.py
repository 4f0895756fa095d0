"""Checks of user input, done before anything is sent to the service."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from ..urls import check_url
from .models import PERMISSION_NAMES, Naked, Permissions

_ALLOWED_PERMISSIONS = ", ".join(PERMISSION_NAMES)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def non_empty_str(name: str, value: object) -> str:
    """Return ``value`` if it is a string with non-space characters, else raise ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {_short(value)}")
    return value


def path_segment(name: str, value: object) -> str:
    """Return ``value`` percent-encoded as one URL path segment (``/`` and ``..`` included)."""
    text = non_empty_str(name, value)
    if text in {".", ".."}:
        raise ValueError(f"{name} must be an id, not the path segment {text!r}")
    return quote(text, safe="")


def naked_value(value: object) -> Naked:
    """Return ``value`` if it is ``True``, ``False`` or ``"page_only"``, else raise ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value == "page_only":
        return "page_only"
    raise ValueError(f"naked must be True, False or 'page_only', got {_short(value)}")


def https_url(name: str, value: object) -> str:
    """Return ``value`` if it is an absolute ``https:`` URL (the one URL policy), else raise."""
    return check_url(value, "https", what=name)


def permissions_json(value: object) -> dict[str, bool]:
    """Return the ``permissions`` object to send, or raise ValueError naming the bad entry."""
    if isinstance(value, Permissions):
        return value.to_json()
    if not isinstance(value, Mapping):
        raise ValueError(
            "permissions must be a mapping of permission name to True/False, "
            f"got {_short(value)}; allowed names: {_ALLOWED_PERMISSIONS}"
        )
    for key, flag in value.items():
        if key not in PERMISSION_NAMES:
            raise ValueError(
                f"unknown permission {_short(key)}; allowed names: {_ALLOWED_PERMISSIONS}"
            )
        if not isinstance(flag, bool):
            raise ValueError(f"permission {key!r} must be True or False, got {_short(flag)}")
    try:
        return Permissions.model_validate(dict(value)).to_json()
    except ValidationError as exc:  # pragma: no cover - the checks above catch everything
        message = f"invalid permissions {_short(value)}: {exc.errors()[0]['msg']}"
    raise ValueError(message)


def metadata_json(value: object) -> dict[str, str | int | float | bool]:
    """Return the ``metadata`` object to send, or raise ValueError naming the bad entry."""
    if not isinstance(value, Mapping):
        raise ValueError(
            "metadata must be a flat mapping of str keys to str, int, float or bool values, "
            f"got {_short(value)}"
        )
    result: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"metadata keys must be non-empty strings, got {_short(key)}")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"metadata[{key!r}] must be a finite number, got {item!r}")
        if not isinstance(item, (str, int, float, bool)):
            raise ValueError(
                f"metadata[{key!r}] must be a str, int, float or bool (no nesting, no None), "
                f"got {_short(item)}"
            )
        result[key] = item
    return result


def watch_url_body(
    *,
    agent_id: object,
    agent_name: object,
    naked: object,
    permissions: object,
    metadata: object,
    retry_url: object,
    on_end_url: object,
) -> dict[str, Any]:
    """Return the documented JSON body of ``POST .../watch_url``, unset optional fields omitted."""
    branding: dict[str, Any] = {"naked": naked_value(naked)}
    if retry_url is not None:
        branding["retry_url"] = https_url("retry_url", retry_url)
    if on_end_url is not None:
        branding["on_end_url"] = https_url("on_end_url", on_end_url)
    body: dict[str, Any] = {
        "agent": {
            "id": non_empty_str("agent_id", agent_id),
            "name": non_empty_str("agent_name", agent_name),
        },
        "branding": branding,
    }
    if permissions is not None:
        body["permissions"] = permissions_json(permissions)
    if metadata is not None:
        body["metadata"] = metadata_json(metadata)
    return body


def agent_pair(agent: object) -> tuple[str, str]:
    """Return ``agent`` if it is a tuple ``(agent_id, agent_name)`` of non-empty strings."""
    if (
        not isinstance(agent, tuple)
        or len(agent) != 2
        or not all(isinstance(part, str) and part.strip() for part in agent)
    ):
        raise ValueError(
            "agent must be a tuple (agent_id, agent_name) of two non-empty strings, "
            f"e.g. ('42', 'Ada Lovelace'); got {_short(agent)}"
        )
    return agent[0], agent[1]


def base_url(value: object) -> str:
    """Return the base URL without a trailing slash; ``http:`` only for loopback hosts.

    The one URL policy applies (the watch-link rules: the API key never crosses a network in
    clear text), and a base URL has no query string or fragment.
    """
    text = check_url(value, "watch", what="base_url")
    if "?" in text or "#" in text:
        raise ValueError(
            f"base_url must not contain a query string or fragment; got {_short(value)}"
        )
    return text.rstrip("/")


def version(value: object) -> str:
    """Return the API version path segment such as ``"v1.3"``."""
    if (
        isinstance(value, str)
        and value not in {".", ".."}
        and value
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in value)
    ):
        return value
    raise ValueError(f"version must be an API version such as 'v1.3', got {_short(value)}")


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {_short(value)}")
    return value


def non_negative_int(name: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {_short(value)}")
    return value


def non_negative_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number of at least 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a number >= 0, got {_short(value)}")
    return float(value)
