"""Read-only traits that mirror the session, with change detection that is type-strict.

Only traitlets' public hooks are used: a trait type's ``get``/``set`` (what its descriptor
calls) and ``HasTraits.notify_change``. The values live in a dict of our own on the instance,
not in traitlets' private ``_trait_values``, and changes are announced through
``notify_change`` rather than the private ``_notify_trait``. traitlets' own ``set`` would not
do: it decides whether to notify with ``old == new``, which misses ``1`` -> ``True``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets
import traitlets

from .errors import ReadOnlyStateError

_WIDGET_NOTIFY = ipywidgets.Widget.notify_change

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

#: The instance attribute holding every SessionTrait's value, by trait name.
_VALUES = "_upscope_values"

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


def _values(obj: traitlets.HasTraits) -> dict[str, Any]:
    values: dict[str, Any] | None = obj.__dict__.get(_VALUES)
    if values is None:
        values = obj.__dict__[_VALUES] = {}
    return values


class SessionTrait(traitlets.TraitType[Any, Any]):
    """A trait only the session sets. Assigning it raises an error naming the instruction."""

    allow_none = True
    default_value = None
    info_text = "a value reported by the session (read-only)"

    def get(self, obj: traitlets.HasTraits, cls: Any = None) -> Any:
        """Return the value the session last set (``None`` before it set one)."""
        values = obj.__dict__.get(_VALUES)
        return None if values is None else values.get(self.name)

    def set(self, obj: traitlets.HasTraits, value: Any) -> None:
        """Refuse outside :func:`applying`; notify on any type-strict change."""
        name = str(self.name)
        if not obj.__dict__.get("_upscope_applying", False):
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
        update(obj, ((name, value),))


def update(obj: traitlets.HasTraits, items: Iterable[tuple[str, Any]]) -> None:
    """Set SessionTraits of ``obj`` (by name), then tell observers of each that changed.

    Every value is in place before the first observer runs, so an observer of one trait reads
    the others as of the same snapshot (what ``hold_trait_notifications`` would give, without
    its cross-validation round, which these traits do not need). Each change is announced once,
    in the order given. Only the session calls this, for its own traits.
    """
    values = _values(obj)
    changes = []
    for name, value in items:
        old = values.get(name)
        values[name] = value
        if not strict_equal(old, value):
            changes.append(traitlets.Bunch(name=name, old=old, new=value, owner=obj,
                                           type="change"))
    # These traits are never synced: ipywidgets' notify_change would only read the comm and
    # the synced keys to decide to send nothing (four trait reads per change, on every
    # snapshot of a burst). Straight to traitlets' observers, unless something else hooks in
    # (a subclass, or hold_trait_notifications, which sets it on the instance).
    notify = obj.notify_change
    if getattr(notify, "__func__", None) is _WIDGET_NOTIFY:
        notify = functools.partial(traitlets.HasTraits.notify_change, obj)
    for change in changes:
        notify(change)


@contextmanager
def applying(obj: traitlets.HasTraits) -> Iterator[None]:
    """Let the session set its own read-only traits inside this block."""
    previous = obj.__dict__.get("_upscope_applying", False)
    obj._upscope_applying = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        obj._upscope_applying = previous  # type: ignore[attr-defined]
