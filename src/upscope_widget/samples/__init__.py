"""Saved session logs shipped with the package, for trying the analysis tools.

``shop_session()`` is a real recording of a session on the built-in simulator (about 40 s of
the Acme Outfitters shop: start-up with the visitor's consent, the agent pointing and drawing,
a question and an answer, a new tab, a refused tab switch and a refused click, an audio call,
confetti, the end). It was recorded through the real widget in headless Chromium by
``python tests/browser/test_replay_widget.py`` in the project's repository.
"""

from __future__ import annotations

from importlib.resources import as_file, files

from ..log import SessionLog

__all__ = ["SHOP_SESSION", "shop_session"]

SHOP_SESSION = "shop_session.jsonl"
"""The file name of the shop recording inside this package."""


def shop_session() -> SessionLog:
    """Load the shipped recording of a simulated shop session."""
    with as_file(files(__name__).joinpath(SHOP_SESSION)) as path:
        return SessionLog.load(path)
