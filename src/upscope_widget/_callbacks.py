"""Observer callbacks: a failing callback never stops the others, and its traceback is shown."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets


class Callbacks(ipywidgets.CallbackDispatcher):  # type: ignore[misc]
    """``ipywidgets.CallbackDispatcher`` that hands a failing callback's traceback to ``report``.

    The stock dispatcher prints the traceback into the output of whatever message is being
    handled, which for a widget's comm message is no cell at all: the user never sees it.
    """

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__()
        self._report = report

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Call every registered callback in order.

        The callbacks registered when the dispatch starts are called, in order, except those
        removed meanwhile (by an earlier callback, or by one in a nested dispatch): a removed
        callback is never called again. One added meanwhile waits for the next dispatch.
        """
        if not self.callbacks:  # per event: most sessions observe few
            return
        for callback in list(self.callbacks):
            # the copy keeps the loop safe from changes; a callback removed since must not run
            if callback not in self.callbacks:
                continue
            try:
                callback(*args, **kwargs)
            except Exception:
                name = getattr(callback, "__qualname__", repr(callback))
                self._report(f"callback {name} raised:\n{traceback.format_exc()}")

    def register(self, callback: Callable[..., Any], remove: bool) -> None:
        """(Un)register ``callback``; raise ``TypeError`` if it is not callable."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self.register_callback(callback, remove=remove)
