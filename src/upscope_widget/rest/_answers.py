"""Reading the service's success answers: the watch URL and visitors, checked."""

from __future__ import annotations

from pydantic import ValidationError

from ..urls import check_url
from ._core import Reply
from .errors import UnexpectedResponseError
from .models import Visitor


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _unexpected(reply: Reply, problem: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"Upscope answered {reply.call.method} {reply.path} with HTTP {reply.status_code} but "
        f"{problem}. Check base_url and version (the API may have changed); the answer is in "
        "the error's .body.",
        status_code=reply.status_code,
        body=reply.body,
        request_method=reply.call.method,
        request_path=reply.path,
    )


def parse_watch_url(reply: Reply) -> str:
    """Return the ``https:`` watch URL of a ``watch_url`` answer, or raise."""
    body = reply.body
    if not reply.is_json or not isinstance(body, dict):
        raise _unexpected(reply, "not with a JSON object")
    if "watch_url" not in body:
        raise _unexpected(reply, "without a 'watch_url'")
    url = body["watch_url"]
    if not isinstance(url, str):
        raise _unexpected(reply, f"its 'watch_url' is a {type(url).__name__}, not a string")
    try:
        return check_url(url, "https", what="its 'watch_url'")
    except ValueError as err:
        # the one URL policy decides; the link would be loaded in an iframe
        message = f"{err}; it is refused because it would be loaded in an iframe"
        raise _unexpected(reply, message) from None



def _visitor(reply: Reply, data: object, where: str) -> Visitor:
    try:
        return Visitor.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(the object)"
        problem = f"{where} is not a valid visitor ({location}: {first['msg']})"
    raise _unexpected(reply, problem)


def parse_visitors(reply: Reply) -> list[Visitor]:
    """Return the visitors of a ``list`` answer, or raise."""
    body = reply.body
    if not reply.is_json or not isinstance(body, dict):
        raise _unexpected(reply, "not with a JSON object")
    visitors = body.get("visitors")
    if not isinstance(visitors, list):
        raise _unexpected(reply, "without a 'visitors' list")
    return [_visitor(reply, item, f"visitors[{i}]") for i, item in enumerate(visitors)]


def parse_visitor(reply: Reply) -> Visitor:
    """Return the visitor of a visitor answer (bare or as ``{"visitor": {...}}``), or raise."""
    body = reply.body
    if not reply.is_json or not isinstance(body, dict):
        raise _unexpected(reply, "not with a JSON object")
    if "short_id" not in body and isinstance(body.get("visitor"), dict):
        return _visitor(reply, body["visitor"], "'visitor'")
    return _visitor(reply, body, "the answer")
