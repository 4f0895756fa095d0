"""Find the session's iframe among a page's frames (a cross-origin frame Playwright can script)."""

from __future__ import annotations

from typing import Any


def find_frame(page: Any, url_prefix: str, ready_js: str) -> Any:
    """The child frame whose URL starts with ``url_prefix`` and where ``ready_js`` is truthy.

    Returns ``None`` when there is none yet (or it is navigating): callers poll, each with its
    own way of letting the browser and the kernel run meanwhile.
    """
    for frame in page.frames:
        if frame.parent_frame is None or not frame.url.startswith(url_prefix):
            continue
        try:
            if frame.evaluate(ready_js):
                return frame
        except Exception:  # the frame navigated or went away while we looked
            return None
    return None


def wait_for_frame(page: Any, url_prefix: str, ready_js: str, tries: int = 300) -> Any:
    """Poll :func:`find_frame`, letting the browser run 100 ms between tries.

    ``page.wait_for_timeout`` (what ``NotebookPage.pump`` does) also lets Playwright deliver
    its events meanwhile. Returns ``None`` if the frame is not there after ``tries`` tries:
    each caller says what failed in its own terms.
    """
    for _ in range(tries):
        frame = find_frame(page, url_prefix, ready_js)
        if frame:
            return frame
        page.wait_for_timeout(100)
    return None


def session_frame(nb: Any, origin: str) -> Any:
    """The widget's iframe showing the protocol test page (``frame.html``) from ``origin``."""
    frame = wait_for_frame(nb.page, origin + "/frame.html", "typeof window.post === 'function'")
    if frame is None:
        raise AssertionError(f"the session iframe from {origin} never loaded\n{nb.diagnostics()}")
    return frame
