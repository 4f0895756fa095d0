"""Notices: the warnings and callback errors shown under the widget, and the logger's share.

The list is synced to every view whole on each change, so it is bounded in count and in the
length of each text. :class:`Notices` keeps it and hands each new version to ``publish`` (the
session's synced trait); it never touches a widget itself.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from .errors import UpscopeProtocolWarning

LOGGER = logging.getLogger("upscope_widget")
MAX_NOTICES = 20
MAX_NOTICE_CHARS = 4000


def cap(text: str) -> str:
    """Return ``text`` cut to :data:`MAX_NOTICE_CHARS` (with an ellipsis when cut)."""
    return text if len(text) <= MAX_NOTICE_CHARS else text[: MAX_NOTICE_CHARS - 1] + "…"


class Notices:
    """The bounded list of notices, and the one load-failure notice that a late state removes.

    Args:
        publish: called with the whole new list after every change.
    """

    def __init__(self, publish: Callable[[list[dict[str, str]]], None]) -> None:
        self._items: list[dict[str, str]] = []
        self._publish = publish
        self._load: dict[str, str] | None = None

    @property
    def items(self) -> list[dict[str, str]]:
        """The notices, oldest first (copies)."""
        return [dict(n) for n in self._items]

    def add(self, level: str, text: str) -> None:
        """Show ``text`` (``level`` ``"warning"`` or ``"error"``) and log it."""
        text = cap(text)
        (LOGGER.error if level == "error" else LOGGER.warning)("%s", text)
        self._set([*self._items, {"level": level, "text": text}])

    def protocol_problem(self, text: str) -> None:
        """Warn (``UpscopeProtocolWarning``) and show ``text``.

        ``text`` is something the session or a page sent that the protocol does not allow.
        """
        text = cap(text)
        # warn_explicit without a registry: Python's warnings registry would keep one entry per
        # distinct text forever; the session reports each problem once by itself.
        warnings.warn_explicit(text, UpscopeProtocolWarning, __file__, 0, registry=None)
        self.add("warning", text)

    @property
    def load_failed(self) -> bool:
        """Whether the load-failure notice shows."""
        return self._load is not None

    def load_failure(self, text: str) -> None:
        """Show the load-failure notice (once)."""
        if self._load is not None:
            return
        notice = {"level": "warning", "text": text}
        LOGGER.warning("%s", text)
        self._load = notice
        self._set([*self._items, notice])

    def drop_load_failure(self) -> None:
        """Drop the load-failure notice: a state came after all."""
        if self._load is not None:
            load, self._load = self._load, None
            self._set([n for n in self._items if n is not load])

    def dismiss(self) -> None:
        """Close every notice (the user dismissed them)."""
        self._load = None
        self._set([])

    def _set(self, items: list[dict[str, str]]) -> None:
        self._items = items[-MAX_NOTICES:]
        self._publish(list(self._items))


class KernelLog:
    """The logger methods ipywidgets calls as ``widget.log.warning(...)``.

    ipywidgets' ``Widget.log`` is a logger; the session's ``log`` is its :class:`SessionLog`.
    Mixed into that log, these send ipywidgets' own messages (an unknown comm method, a
    rejected trait update) to the package's logger instead of raising ``AttributeError``.
    """

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at DEBUG on the ``upscope_widget`` logger."""
        LOGGER.debug(msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at INFO on the ``upscope_widget`` logger."""
        LOGGER.info(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at WARNING on the ``upscope_widget`` logger."""
        LOGGER.warning(msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR on the ``upscope_widget`` logger."""
        LOGGER.error(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR with the traceback on the ``upscope_widget`` logger."""
        LOGGER.exception(msg, *args, **kwargs)
