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
