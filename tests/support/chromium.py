"""Find the system Chromium for Playwright; `playwright install` cannot download here."""

from __future__ import annotations

import os

from upscope_widget.headless import LAUNCH_ARGS as _FLAGS
from upscope_widget.headless import system_chromium

#: The package's own flags for headless Chromium (one list for the package and the tests).
LAUNCH_ARGS = list(_FLAGS)

INSTALL_HINT = (
    "Chromium was not found. Install Debian's build with "
    "`sudo apt-get update && sudo apt-get install -y chromium`, "
    "or point UPSCOPE_TEST_CHROMIUM at a Chromium/Chrome executable."
)


def find_chromium() -> str:
    """Return the Chromium executable, or raise RuntimeError saying how to install it."""
    explicit = os.environ.get("UPSCOPE_TEST_CHROMIUM")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise RuntimeError(f"UPSCOPE_TEST_CHROMIUM={explicit!r} is not an executable file. "
                           + INSTALL_HINT)
    path = system_chromium()
    if path is None:
        raise RuntimeError(INSTALL_HINT)
    return path
