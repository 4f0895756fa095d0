"""The widget says at once why the simulator cannot run where outputs live in an opaque origin.

VS Code and Colab cannot run here; what they differ in can. A sandboxed frame without
``allow-same-origin`` gives blob: pages the origin "null", as the URL standard does for VS
Code's ``vscode-webview:`` pages: the real bundle is loaded there, and next to it in a frame
that keeps the page's origin, where the simulator must start as usual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

BUNDLE = Path(__file__).parents[2] / "src" / "upscope_widget" / "static" / "widget.js"

# Loads the bundle as a module made in the frame itself, then runs anywidget's two hooks with
# a minimal model: what a frontend's widget manager does.
MOUNT = """async (src) => {
  const url = URL.createObjectURL(new Blob([src], {type: 'text/javascript'}));
  const widget = (await import(url)).default;
  const values = {_session_id: 'frontend-check-' + Math.random(), url: '', width: '100%',
                  height: 300, toolbar: false, load_timeout: 20,
                  _simulator_page: '<!doctype html><p id="sim">simulated</p>'};
  const model = {get: (k) => values[k], set: (k, v) => { values[k] = v; }, save_changes() {},
                 on() {}, off() {}, send() {}};
  widget.initialize({model});
  const el = document.createElement('div');
  document.body.append(el);
  widget.render({model, el});
  await new Promise((r) => setTimeout(r, 50));
  const alert = el.querySelector('.upscope-frontend-problem');
  return {origin: self.origin, alert: alert ? alert.textContent : null,
          frames: [...el.querySelectorAll('iframe')].map((f) => f.src.slice(0, 5))};
}"""


def mount_in_frame(page: Any, src: str, sandbox: str) -> dict[str, Any]:
    page.set_content(f'<iframe sandbox="{sandbox}" src="{src}"></iframe>')
    frame = page.locator("iframe").element_handle().content_frame()
    frame.wait_for_url(src)
    frame.wait_for_load_state()
    result: dict[str, Any] = frame.evaluate(MOUNT, BUNDLE.read_text())
    return result


def test_simulator_in_an_opaque_origin_says_what_is_missing(browser, origins):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{origins[0]}/echo.html")
        opaque = mount_in_frame(page, f"{origins[0]}/echo.html", "allow-scripts")
        assert opaque["origin"] == "null"
        assert opaque["frames"] == []
        assert opaque["alert"] is not None, opaque
        assert "the simulator cannot run in an output frame whose origin is opaque" in (
            opaque["alert"])
        assert "Use a real watch link" in opaque["alert"]

        # the same bundle where blob: pages keep the page's origin: the simulator starts
        same = mount_in_frame(page, f"{origins[0]}/echo.html", "allow-scripts allow-same-origin")
        assert same["origin"] == origins[0]
        assert same["alert"] is None, same
        assert same["frames"] == ["blob:"]
    finally:
        context.close()
