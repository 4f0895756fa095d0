"""``SessionGrid``: several live sessions at once, as cards; one click enlarges one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ._lazy import lazy_module
from .errors import ERROR_DESCRIPTIONS
from .session import UpscopeSession

if TYPE_CHECKING:
    from . import protocol
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

_STATIC = Path(__file__).parent / "static"


class SessionGrid(anywidget.AnyWidget):
    """Several sessions as live cards, one click enlarging one in the same output.

    Each card shows the status, latency, visitor, page, last error, and a small live picture
    of the page. One click enlarges a session (with its toolbar); another returns to the grid.

    Each session keeps its one iframe: the grid shows that same iframe, scaled down, rather
    than a second connection. A session that is also shown in its own output is live in one
    place at a time; the other shows a card with a button to move it.

    Args:
        sessions: the sessions to show (``UpscopeSession`` objects, each once).
        min_card_width: the narrowest a card may get, in pixels (the grid fits as many
            columns as the width allows).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    _grid_sessions = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _ui_text = traitlets.Dict().tag(sync=True)
    min_card_width = traitlets.Int(
        280, help="The narrowest a card may get, in pixels."
    ).tag(sync=True)

    def __init__(
        self, sessions: Iterable[UpscopeSession], *, min_card_width: int = 280, **kwargs: Any
    ) -> None:
        if isinstance(sessions, UpscopeSession) or not isinstance(sessions, Iterable):
            raise ValueError(
                f"sessions must be a list of UpscopeSession objects, got {sessions!r}"
            )
        chosen = list(sessions)
        if not chosen:
            raise ValueError("sessions is empty: give at least one UpscopeSession")
        for s in chosen:
            if not isinstance(s, UpscopeSession):
                raise ValueError(
                    f"sessions must hold UpscopeSession objects only, got {s!r} "
                    f"({type(s).__name__})"
                )
        ids = [s._session_id for s in chosen]
        if len(set(ids)) != len(ids):
            raise ValueError("a session appears twice in sessions: each may be shown once")
        if isinstance(min_card_width, bool) or not isinstance(min_card_width, int) or not (
            120 <= min_card_width <= 2000
        ):
            raise ValueError(
                f"min_card_width={min_card_width!r} is not allowed: use pixels, an int from "
                "120 to 2000"
            )
        self._sessions = tuple(chosen)
        super().__init__(
            _grid_sessions=ids,
            _ui_text={"errors": dict(ERROR_DESCRIPTIONS)},
            min_card_width=min_card_width,
            **kwargs,
        )

    @property
    def sessions(self) -> tuple[UpscopeSession, ...]:
        """The sessions shown, in order."""
        return self._sessions

    def __len__(self) -> int:
        return len(self._sessions)

    def __repr__(self) -> str:
        lines = [f"<SessionGrid of {len(self._sessions)} sessions>"]
        lines += [f"  {s!r}" for s in self._sessions]
        return "\n".join(lines)

    def _repr_mimebundle_(
        self, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return the live grid, with static cards and text for where widgets can't run."""
        shown: Any = super()._repr_mimebundle_(**kwargs)
        if shown is None:
            return None
        # anywidget answers (data, metadata); a plain ipywidget answers data alone
        data, metadata = shown if isinstance(shown, tuple) else (shown, {})
        bundle = dict(data)
        bundle["text/plain"] = repr(self)
        cards = "".join(s._static_card() for s in self._sessions)
        bundle["text/html"] = (
            '<div class="upscope-static-grid" style="display:flex;flex-wrap:wrap;gap:8px">'
            f"{cards}</div>"
        )
        return bundle, metadata

    def summary(self) -> list[dict[str, Any]]:
        """One row per session: status, page, visitor, connected, last error (no watch link)."""
        return [
            {
                "status": s.session_status,
                "current_url": s.current_url,
                "visitor": protocol.visitor_label(s.visitor) or None,
                "connected": s.connected,
                "data_bounce_speed": s.data_bounce_speed,
                "last_error": s.last_error.code if s.last_error is not None else None,
            }
            for s in self._sessions
        ]
