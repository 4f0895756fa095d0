"""notebooks/marimo_demo.py served by a real `marimo run`, in headless Chromium.

The session is wrapped in ``mo.ui.anywidget``. The status cell reads ``session`` and prints
what the kernel holds, so what it shows proves three things: the simulator's state reached
Python, the cell re-ran when it did (marimo re-runs nothing for custom messages alone), and a
button's instruction reached the simulated page and came back.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import expect

from support.apps import AppServer, console_collector, simulator_frame, src_env

DEMO = Path(__file__).parents[2] / "notebooks" / "marimo_demo.py"
TIMEOUT_MS = 60_000


def test_marimo_run_state_in_instruction_out_and_reactive_cells(browser, tmp_path):
    app = tmp_path / "marimo_demo.py"
    shutil.copy(DEMO, app)
    command = [sys.executable, "-m", "marimo", "-q", "run", str(app), "-p", "{port}",
               "--headless", "--no-token", "--host", "127.0.0.1"]
    with AppServer(command, cwd=tmp_path, log_path=tmp_path / "marimo.log",
                   env=src_env()) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        try:
            page = context.new_page()
            errors = console_collector(page)
            page.goto(server.url)
            status = page.locator("span.paragraph", has_text="Status:")
            # Shown first while no state has arrived; viewerReady only after the echo re-ran it.
            expect(status).to_contain_text("viewerReady", timeout=TIMEOUT_MS)
            frame = simulator_frame(page, server, errors)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "none"
            assert "tool: None" in status.inner_text()

            # an instruction out: a marimo button calls session.set_mode("draw") in the kernel
            marimo_button = page.get_by_test_id("marimo-plugin-button")
            marimo_button.filter(has_text="Draw").click()
            expect(status).to_contain_text("tool: drawing", timeout=TIMEOUT_MS)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "drawing"

            marimo_button.filter(has_text="Go to the cart").click()
            expect(status).to_contain_text("page: https://shop.example/cart", timeout=TIMEOUT_MS)
            assert frame.evaluate("document.getElementById('addr-url').textContent") == (
                "https://shop.example/cart"
            )
            assert not [e for e in errors if "upscope" in e.lower()], errors
        finally:
            context.close()
