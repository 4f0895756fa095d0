"""The toolbar in a real JupyterLab with a real kernel: a click while the kernel is really busy,
keyboard use next to JupyterLab's own shortcuts, the toolbar in JupyterLab's light and dark
themes, and a session grid.

Screenshots go to ``build/screenshots/`` (or ``$UPSCOPE_SCREENSHOTS``):
``toolbar-jupyterlab-light.png`` and ``toolbar-jupyterlab-dark.png``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from support import jupyter
from support.frames import session_frame

SCREENSHOTS = Path(os.environ.get("UPSCOPE_SCREENSHOTS",
                                  Path(__file__).parents[2] / "build" / "screenshots"))

# JupyterLab 4.6 runs comms on a subshell thread, so `time.sleep` would not hold a click up
# (trap 15). This holds the GIL until the test says it has seen what it waits for (a file
# appears), or 90 s: no other thread of the kernel runs meanwhile. Ending on the test's word,
# not after a fixed time, keeps a slow machine from ending the busy spell before the click.
BUSY = """
import os, sys, time
print("busy now", flush=True)  # flush waits for the IOPub thread: the page sees it first
_old = sys.getswitchinterval()
sys.setswitchinterval(60)
try:
    busy_start = time.time()
    while not os.path.exists({release!r}) and time.time() < busy_start + 90:
        pass
    busy_end = time.time()
finally:
    sys.setswitchinterval(_old)
"""


def test_a_click_reaches_the_iframe_while_the_kernel_is_busy(lab_server, make_notebook, origins):
    url = f"{origins[1]}/frame.html"
    release = lab_server.root_dir / "release-the-busy-cell"
    release.unlink(missing_ok=True)
    nb = make_notebook(lab_server, [
        "import time\n"
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=300)\n"
        "heard = []\n"
        "session.on_instruction(lambda *args: heard.append((time.time(), args)))\n"
        "session",
        BUSY.format(release=str(release)),
    ])
    nb.run_cell(0)
    frame = session_frame(nb, origins[1])
    frame.evaluate("postState()")
    draw = nb.page.locator('.upscope-toolbar [data-action="setMode"][data-mode="draw"]')
    draw.wait_for(state="visible", timeout=30_000)
    nb.wait_for("() => !document.querySelector("
                "'.upscope-toolbar [data-action=setMode][data-mode=draw]').disabled",
                what="the toolbar to be live")

    nb.evaluate(jupyter._JS_START_RUN, ["notebook:run-cell", 1])
    nb.wait_for("() => window.__harnessPanel.content.widgets[1].outputArea.node.textContent"
                ".includes('busy now')", what="the busy cell to start", polling=10)
    draw.click()
    got: list[dict[str, Any]] = []
    for _ in range(3000):  # the iframe hears it on its next task; the kernel is still busy
        got = frame.evaluate("window.received")
        if got:
            break
        nb.pump(10)
    release.touch()  # now the busy cell may end
    assert [g["data"] for g in got] == [{"action": "setMode", "mode": "draw"}]
    nb.wait_for(jupyter._JS_RUN_DONE, timeout=120, what="the busy cell to end")

    busy_start, busy_end = nb.kernel.eval("[busy_start, busy_end]")
    arrived = got[0]["at"] / 1000
    assert busy_start <= arrived < busy_end, (busy_start, arrived, busy_end)
    # Python hears of it once, and only after the busy cell let go
    heard = nb.wait_for_kernel("[(t, list(a)) for t, a in heard]", lambda h: len(h) >= 1)
    nb.pump(500)
    heard = nb.kernel.eval("[(t, list(a)) for t, a in heard]")
    assert [a for _, a in heard] == [["setMode", {"mode": "draw"}, "toolbar"]]
    assert heard[0][0] >= busy_end
    assert nb.kernel.eval("[(e.kind, e.source) for e in session.log if e.direction == 'out']") \
        == [["setMode", "toolbar"]]
    assert len(frame.evaluate("window.received")) == 1  # and the iframe got it once


def test_toolbar_follows_jupyterlabs_light_and_dark_themes(lab_server, make_notebook):
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        "session = UpscopeSession.simulate(seed=7, height=420)\n"
        "session",
        "await session.wait_for_status('viewerReady', timeout=30)\n"
        "session.set_mode('draw')\n"
        "await session.wait_for(lambda s: s.control_tool == 'drawing', timeout=30)",
    ])
    nb.run_all(timeout=120)
    toolbar = nb.page.locator(".upscope-toolbar")
    toolbar.wait_for(state="visible")
    nb.wait_for("() => document.querySelector('.upscope-toolbar [data-mode=draw]')"
                ".getAttribute('aria-pressed') === 'true'", what="the toolbar to show drawing")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    widget = nb.page.locator(".upscope-widget").first
    lightness = {}
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        nb.evaluate("t => { window.jupyterapp.commands.execute('apputils:change-theme', "
                    "{theme: t}); }", theme)
        nb.wait_for("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30,
                    what=f"the {theme} theme")
        nb.wait_for("""() => { const bg = getComputedStyle(document.querySelector(
            '.upscope-toolbar')).backgroundColor; const want = getComputedStyle(document.body)
            .getPropertyValue('--jp-layout-color2').trim(); const probe =
            document.createElement('div'); probe.style.color = want; document.body.append(probe);
            const ok = getComputedStyle(probe).color === bg; probe.remove(); return ok; }""",
                    what="the toolbar to take the theme's colors")
        lightness[name] = nb.evaluate("""() => { const [r, g, b] = getComputedStyle(
            document.querySelector('.upscope-toolbar')).backgroundColor.match(/\\d+/g)
            .map(Number); return (r + g + b) / 765; }""")
        widget.screenshot(path=str(SCREENSHOTS / f"toolbar-jupyterlab-{name}.png"))
    assert lightness["light"] > 0.7 and lightness["dark"] < 0.3, lightness


def test_a_session_grid_in_jupyterlab(lab_server, make_notebook):
    # In a real JupyterLab, anywidget imports the module once per model: the grid finds the
    # sessions' bridges through the page-wide registry, not through its own module.
    nb = make_notebook(lab_server, [
        "from upscope_widget import SessionGrid, UpscopeSession\n"
        "names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing']\n"
        "sessions = [UpscopeSession.simulate(seed=i, height=420, visitor={'callName': n, "
        "'shortId': f'v{i}'}) for i, n in enumerate(names)]\n"
        "grid = SessionGrid(sessions)\n"
        "grid",
        "for s in sessions:\n"
        "    await s.wait_for_status('viewerReady', timeout=60)\n"
        "sessions[1].simulator.raise_error('connection:user_not_online')\n"
        "await sessions[1].wait_for(lambda s: s.last_error is not None, timeout=30)",
    ])
    nb.run_all(timeout=180)
    nb.wait_for("""() => { const c = [...document.querySelectorAll('.upscope-grid-card')];
        return c.length === 3 && c.every(e => e.innerText.includes('viewerReady'))
          && c[0].innerText.includes('Ada Lovelace')
          && c[1].innerText.includes('connection:user_not_online')
          && c.every(e => e.querySelector('iframe.upscope-frame')); }""",
                timeout=60, what="three live cards")
    assert nb.evaluate("() => document.querySelectorAll('iframe.upscope-frame').length") == 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    nb.page.locator(".upscope-grid-widget").screenshot(
        path=str(SCREENSHOTS / "grid-jupyterlab.png"))

    nb.page.locator(".upscope-grid-card").first.click()
    draw = nb.page.locator('.upscope-grid-panel [data-action="setMode"][data-mode="draw"]')
    draw.click(timeout=30_000)
    nb.wait_for_kernel("sessions[0].control_tool", lambda v: v == "drawing", timeout=30)
    assert nb.kernel.eval("sessions[1].control_tool") is None
    assert nb.kernel.eval(
        "[(e.kind, e.source) for e in sessions[0].log if e.direction == 'out']"
    ) == [["setMode", "toolbar"]]
    nb.page.get_by_role("button", name="← Back to the grid").click()
    nb.wait_for("() => document.querySelectorAll('.upscope-grid-picture iframe').length === 3",
                what="every iframe back in its card")
    assert nb.evaluate("() => document.querySelectorAll('iframe.upscope-frame').length") == 3


CELLS = """() => window.__harnessPanel.content.widgets.map(
    w => [w.model.type, w.model.sharedModel.getSource()])"""


def test_keyboard_use_of_the_toolbar_inside_jupyterlab(lab_server, make_notebook, origins):
    # JupyterLab's notebook shortcuts live on the same keys (a, b, d d, m, Enter, Escape):
    # keys typed into the toolbar must reach it and never edit the notebook.
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=300)\n"
        "session",
        "x = 1",
    ])
    nb.run_cell(0)
    frame = session_frame(nb, origins[1])
    frame.evaluate("postState()")
    nb.wait_for("() => { const b = document.querySelector("
                "'.upscope-toolbar [data-action=setMode][data-mode=pointer]'); "
                "return b && !b.disabled; }", what="the toolbar to be live")
    cells = nb.evaluate(CELLS)

    page = nb.page
    page.locator('.upscope-toolbar [data-mode="pointer"]').focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # Tab stays among the toolbar's controls
    assert nb.evaluate("() => !!document.activeElement.closest('.upscope-toolbar')")
    page.locator('.upscope-toolbar [data-mode="cursor"]').focus()
    page.keyboard.press(" ")
    page.locator('.upscope-toolbar [data-action="setCurrentUrl"]').click()
    page.keyboard.press("Control+A")
    page.keyboard.type("https://shop.example/a/b/dd/mmm?y=zz")
    page.keyboard.press("Enter")
    page.locator('.upscope-toolbar [data-action="endSession"]').focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # disarms the end (and must not leave the toolbar's reach)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    want = [{"action": "setMode", "mode": "pointer"}, {"action": "setMode", "mode": "cursor"},
            {"action": "setCurrentUrl", "url": "https://shop.example/a/b/dd/mmm?y=zz"},
            {"action": "endSession"}]
    for _ in range(3000):
        got = [r["data"] for r in frame.evaluate("window.received")]
        if len(got) >= len(want):
            break
        nb.pump(10)
    assert got == want
    assert nb.evaluate(CELLS) == cells, "keys typed into the toolbar edited the notebook"
    heard = nb.wait_for_kernel(
        "[(e.kind, e.source) for e in session.log if e.direction == 'out']",
        lambda h: len(h) >= len(want), timeout=30)
    assert heard == [[w["action"], "toolbar"] for w in want]
