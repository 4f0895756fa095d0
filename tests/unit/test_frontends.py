"""What the kernel can tell about the frontend, and the marimo echo's message."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from upscope_widget import NoFrontendError, UpscopeSession, _frontends
from upscope_widget.session import LOAD_FAILURE_HELP


def run_python(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **env}, timeout=60, check=True)
    return done.stdout.strip()


def test_a_plain_python_is_no_notebook_even_under_vs_code():
    code = "from upscope_widget import _frontends as f; print(f.environment())"
    assert run_python(code) == "python"
    # a terminal of VS Code sets VSCODE_PID too: outside a kernel it says nothing
    assert run_python(code, VSCODE_PID="4242") == "python"


def kernel_environment(**env: str) -> dict[str, object]:
    """Ask a real IPython kernel, started with ``env``, what it makes of its frontend."""
    from jupyter_client.manager import start_new_kernel

    base = {k: v for k, v in os.environ.items() if not k.startswith("VSCODE_")}
    manager, client = start_new_kernel(kernel_name="python3", env={**base, **env})
    try:
        out: list[str] = []
        client.execute_interactive(
            "import json\n"
            "from upscope_widget import UpscopeSession, _frontends\n"
            "s = UpscopeSession.simulate()\n"
            "print(json.dumps({'env': _frontends.environment(), "
            "'hint': _frontends.frontend_hint(), 'ui': s._ui_text['loadFailure']}))",
            timeout=60,
            output_hook=lambda m: out.append(m["content"].get("text", "")),
        )
        return json.loads("".join(out))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_kernel_started_by_vs_code_gets_the_vs_code_hint():
    vscode = kernel_environment(VSCODE_PID="4242")
    assert vscode["env"] == "vscode"
    hint = vscode["hint"]
    assert "VS Code" in hint and "ipywidgets 8" in hint and "trusted" in hint
    # the loading-failure state shows it after the usual sentences
    assert vscode["ui"] == [*LOAD_FAILURE_HELP, hint]
    plain = kernel_environment()
    assert plain["env"] == "jupyter"
    assert plain["ui"] == list(LOAD_FAILURE_HELP)


def test_not_marimo_outside_a_marimo_notebook():
    import marimo  # noqa: F401 - imported, yet no marimo notebook runs this

    assert _frontends.in_marimo() is False
    assert UpscopeSession.simulate()._marimo is False


def test_reactive_echo_only_for_reactive_fields():
    session = UpscopeSession.simulate()
    assert _frontends.reactive_echo(session, {"data_bounce_speed", "size"}) is None
    message = _frontends.reactive_echo(session, {"session_status"})
    assert message is not None
    assert message["kind"] == _frontends.REACTIVE
    assert set(message["state"]) == set(_frontends.REACTIVE_FIELDS)


def test_no_frontend_error_carries_the_hint(monkeypatch):
    monkeypatch.delenv("VSCODE_PID", raising=False)
    monkeypatch.setattr("upscope_widget.session.FRONTEND_GRACE", 0.1)
    session = UpscopeSession.simulate()
    with pytest.raises(NoFrontendError) as caught:
        asyncio.run(session.wait_for_status("viewerReady", timeout=1))
    assert _frontends.frontend_hint() in str(caught.value)
