"""notebooks/dashboard.ipynb served by a real Voilà, in headless Chromium.

The dashboard's status line is an ipywidgets HTML that a kernel-side observer fills in, so
what it shows is what reached Python; the simulator's own page shows what reached the iframe.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import expect

from support.apps import AppServer, console_collector, simulator_frame, src_env

DASHBOARD = Path(__file__).parents[2] / "notebooks" / "dashboard.ipynb"
TIMEOUT_MS = 60_000


def test_voila_dashboard_state_in_and_buttons_out(browser, tmp_path):
    shutil.copy(DASHBOARD, tmp_path / "dashboard.ipynb")
    connections = tmp_path / "connections"  # also marks the kernels Voilà starts, for cleanup
    connections.mkdir()
    isolated = {
        name: str(tmp_path / name.lower())
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")
    }
    command = [sys.executable, "-m", "voila", "dashboard.ipynb", "--no-browser",
               "--port={port}", "--Voila.ip=127.0.0.1",
               f"--Voila.connection_dir_root={connections}"]
    with AppServer(command, cwd=tmp_path, log_path=tmp_path / "voila.log",
                   env=src_env(**isolated), ready_path="api/status", any_status=True,
                   owned_marker=str(connections)) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 1100})
        try:
            page = context.new_page()
            errors = console_collector(page)
            page.goto(server.url, timeout=TIMEOUT_MS)
            status = page.locator(".widget-html", has_text="Status")
            # state reaches Python: the kernel's observer writes it into the status line
            expect(status).to_contain_text("Status viewerReady", timeout=TIMEOUT_MS)
            frame = simulator_frame(page, server, errors)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "none"

            # an ipywidgets button reaches the iframe through the kernel...
            page.locator("button.widget-button", has_text="Draw").click()
            expect(status).to_contain_text("tool drawing", timeout=TIMEOUT_MS)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "drawing"

            # ...and a custom message goes to the simulated visitor and its reply comes back
            page.locator("button.widget-button", has_text="Ask the visitor").click()
            reply = page.locator(".widget-label", has_text="Visitor:")
            expect(reply).to_contain_text("Can you see the cart?", timeout=TIMEOUT_MS)

            # the session's own toolbar works here too: it posts to the iframe directly
            page.locator(".upscope-tb-button", has_text="Pointer").click()
            expect(status).to_contain_text("tool pointer", timeout=TIMEOUT_MS)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "pointer"
            assert not [e for e in errors if "upscope" in e.lower()], errors
        finally:
            context.close()
