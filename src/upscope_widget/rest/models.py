"""Data models of the Upscope REST API: the REST :class:`Visitor`, watch-link permissions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool

__all__ = ["PERMISSION_NAMES", "Naked", "Permissions", "Visitor"]

#: The values ``branding.naked`` accepts: ``True`` hides the Upscope logo, ``"page_only"`` hides
#: all Upscope UI (what an embedded iframe wants), ``False`` shows it all.
Naked = bool | Literal["page_only"]

#: The permission names a watch link accepts, in the documented order.
PERMISSION_NAMES: tuple[str, ...] = (
    "allow_click",
    "allow_draw",
    "allow_scroll",
    "allow_type",
    "allow_audio",
    "allow_console",
    "allow_agent_redirect",
)


class Permissions(BaseModel):
    """What the agent may do in the session a watch link opens.

    Only the fields you set are sent; the service applies its defaults to the others (the
    defaults shown here: everything allowed except ``allow_console``). Values must be real
    ``bool`` values. You may pass a plain mapping such as ``{"allow_type": False}`` instead.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    allow_click: StrictBool = True
    allow_draw: StrictBool = True
    allow_scroll: StrictBool = True
    allow_type: StrictBool = True
    allow_audio: StrictBool = True
    allow_console: StrictBool = False
    allow_agent_redirect: StrictBool = True

    def to_json(self) -> dict[str, bool]:
        """Return the fields that were set explicitly, as sent in the request body."""
        return {name: bool(value) for name, value in self.model_dump(exclude_unset=True).items()}


class Visitor(BaseModel):
    """A visitor as the Upscope **REST API** describes it (snake_case fields).

    Not to be confused with :class:`upscope_widget.protocol.Visitor`, the camelCase visitor of a
    live session's state sent by the embedded iframe. This one comes from
    :meth:`UpscopeClient.find_visitors` / :meth:`UpscopeClient.get_visitor`.

    Only ``short_id`` is required; every field the service sends beyond the known ones is kept
    (``visitor.model_extra``).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    short_id: str
    unique_id: str | None = None
    lookup_code: str | None = None
    call_name: str | None = None
    email: str | None = None
    identities: list[Any] | None = None
    tags: list[Any] | None = None
    is_online: bool | None = None
    is_in_session: bool | None = None
    last_url: str | None = None
    last_seen_at: str | int | float | None = None
    browser_name: str | None = None
    device_name: str | None = None
    device_type: str | None = None
    location_city: str | None = None
    location_country: str | None = None
    location_country_name: str | None = None
    ip_address: str | None = None
