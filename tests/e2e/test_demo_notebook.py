"""The demo notebook, run cell by cell in a real JupyterLab 4 and Notebook 7 on the simulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from support.jupyter import open_notebook

DEMO = Path(__file__).parents[2] / "notebooks" / "demo.ipynb"

# What each instruction must have done to the simulated session, read from the session log:
# the snake_case state property it changed, or the event it brought back.
EFFECTS = {
    "setMode": "control_tool",
    "switchColor": "color",
    "toggleAudio": "audio_state",
    "setMuted": "muted",
    "beginVideo": "is_video_on",
    "endVideo": "is_video_on",
    "toggleVideo": "is_video_on",
    "setCurrentUrl": "current_url",
    "historyBack": "current_url",
    "historyForward": "current_url",
    "setActiveConnection": "active_connection_id",
    "requestFullTab": "mode",
    "stopFullTab": "mode",
    "runConsoleCommand": "error",
    "sendCustomMessage": "customMessage",
    "endSession": "sessionEnded",
    # answered with a snapshot (their effect is drawn in the page, not in the state)
    "reloadPage": "snapshot",
    "forceRefresh": "snapshot",
    "requestControl": "snapshot",
    "emojiConfetti": "snapshot",
}

CHECK = """
import json
entries = list(session.log)
result = {}
for i, e in enumerate(entries):
    if e.direction != "out":
        continue
    later = [x for x in entries[i + 1:] if x.direction == "in"]
    seen = set()
    for x in later:
        if x.kind == "upscope.sessionState.update":
            seen.add("snapshot")
            seen.update(x.changed)
        else:
            seen.add(x.kind)
    result.setdefault(e.kind, set()).update(seen)
print(json.dumps({k: sorted(v) for k, v in result.items()}))
"""


def test_demo_runs_cell_by_cell(jupyter_server, page):
    shutil.copy(DEMO, jupyter_server.root_dir / "demo.ipynb")
    nb = open_notebook(page, jupyter_server, "demo.ipynb")
    try:
        cells = nbformat.read(DEMO, as_version=4).cells
        assert nb.cell_count() == len(cells)
        for index, cell in enumerate(cells):
            if cell.cell_type == "code":
                nb.run_cell(index, timeout=120)
        answered = json.loads(nb.kernel.execute(CHECK).strip())
        missing = set(EFFECTS) - set(answered)
        assert not missing, f"instructions never sent: {missing}"
        for action, effect in EFFECTS.items():
            assert effect in answered[action], f"{action} brought no {effect}: {answered[action]}"
        assert nb.kernel.eval("session.ended_reason") == "ended"
        assert nb.kernel.eval("session.session_status") == "terminated"
        assert nb.kernel.eval("headless") is False
        assert nb.kernel.eval("session.rejected_messages") == 0
        assert nb.kernel.eval("len(replies)") >= 2
        assert nb.kernel.eval("session.simulated") is True
        # what the user sees: one iframe, the status bar says the session ended
        assert nb.evaluate("document.querySelectorAll('iframe.upscope-frame').length") == 1
        nb.wait_for("document.querySelector('.upscope-status').textContent === 'terminated'",
                    what="the status bar to say terminated")
        feed = nb.evaluate("[...document.querySelectorAll('.jp-OutputArea-output')]"
                           ".map(e => e.innerText).join('\\n')")
        assert "changed: control_tool='drawing'" in feed
        assert "error remote_control:element_not_allowed" in feed
    finally:
        nb.close()
