"""Read-only traits that mirror the session, with change detection that is type-strict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import traitlets

from .errors import ReadOnlyStateError

#: The instruction that changes each state trait, named in the error raised on assignment.
INSTRUCTION_FOR: dict[str, str] = {
    "active_connection_id": "set_active_connection(connection_id)",
    "audio_state": "toggle_audio(on)",
    "color": "switch_color(color)",
    "control_tool": "set_mode(mode)",
    "current_url": "set_current_url(url), history_back(), history_forward() or reload_page()",
    "is_video_on": "begin_video(), end_video() or toggle_video()",
    "video_agent_state": "begin_video(), end_video() or toggle_video()",
    "muted": "set_muted(muted)",
    "mode": "request_full_tab() or stop_full_tab()",
    "session_status": "end_session()",
    "state": "the session's instruction methods (set_mode, switch_color, …)",
}


_JSON_SCALARS = (str, int, float, bool, type(None))


def strict_equal(a: Any, b: Any) -> bool:
    """Equality of JSON data that tells ``True`` from ``1`` and ``1.0`` from ``1``.

    Anything else (a state model, an error) is the same only if it is the same object: each
    snapshot brings new ones, and comparing them field by field would cost more than it tells.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return isinstance(a, _JSON_SCALARS) and bool(a == b)


class SessionTrait(traitlets.TraitType[Any, Any]):
    """A trait only the session sets. Assigning it raises an error naming the instruction."""

    allow_none = True
    default_value = None
    info_text = "a value reported by the session (read-only)"

    def set(self, obj: traitlets.HasTraits, value: Any) -> None:
        """Refuse outside :func:`applying`; notify on any type-strict change."""
        name = str(self.name)
        if not getattr(obj, "_upscope_applying", False):
            instruction = INSTRUCTION_FOR.get(name)
            hint = (
                f"use {instruction} instead"
                if instruction
                else "it is reported by the session and no instruction sets it"
            )
            raise ReadOnlyStateError(
                f"{type(obj).__name__}.{name} is read-only: it mirrors the live session; "
                f"{hint}."
            )
        old = obj._trait_values.get(name, self.default_value)
        obj._trait_values[name] = value
        if not strict_equal(old, value):
            obj._notify_trait(name, old, value)


@contextmanager
def applying(obj: traitlets.HasTraits) -> Iterator[None]:
    """Let the session set its own read-only traits inside this block."""
    previous = getattr(obj, "_upscope_applying", False)
    obj._upscope_applying = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        obj._upscope_applying = previous  # type: ignore[attr-defined]
