"""``import upscope_widget`` stays light: pydantic and the protocol's models load with the first
session (in the thread that makes it), and every public name still imports from the package."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import upscope_widget
listed = {"EmbeddedSessionState", "ReplaySession", "UpscopeSession"} <= set(dir(upscope_widget))
after_import = "pydantic.main" in sys.modules
from upscope_widget import UpscopeSession
after_from = "pydantic.main" in sys.modules
session = UpscopeSession("https://watch.example.com/w/abc")
after_session = "pydantic.main" in sys.modules
from upscope_widget import *  # noqa: F403
from upscope_widget import EmbeddedSessionState, StateUpdateEvent
state = EmbeddedSessionState.model_validate({"sessionStatus": "active"}, by_alias=True)
print(json.dumps([listed, after_import, after_from, after_session, state.session_status,
                  StateUpdateEvent.__name__, sorted(upscope_widget.__all__) == sorted(
                      n for n in upscope_widget.__all__ if hasattr(upscope_widget, n))]))
"""


def test_pydantic_loads_with_the_first_session_not_with_the_import():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    listed, after_import, after_from, after_session, status, event, all_there = json.loads(
        out.stdout.strip().splitlines()[-1]
    )
    assert listed, "dir(upscope_widget) (what tab completion lists) misses the lazy names"
    assert (after_import, after_from) == (False, False), "the import loaded pydantic"
    assert after_session is True, "the session did not load the protocol's models"
    assert status == "active" and event == "StateUpdateEvent"
    assert all_there, "a name in upscope_widget.__all__ cannot be imported"
