"""Find the system Chromium for Playwright; `playwright install` cannot download here."""

from __future__ import annotations

import os
import shutil

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

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
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(INSTALL_HINT)
