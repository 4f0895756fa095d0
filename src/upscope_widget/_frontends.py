"""Where a session is shown: marimo's reactivity, and what VS Code and Colab need.

anywidget runs in JupyterLab, Notebook 7, Voilà, marimo, VS Code and Colab, but the frontends
differ in ways this widget feels:

* **marimo** re-runs the cells that read a UI element when the element's value changes *from
  the frontend*. The session's state reaches Python as custom messages, which re-run nothing.
  So, in marimo only, the kernel asks the frontend to echo a few state properties into the
  synced trait ``_reactive``; that is a change from the frontend, and marimo re-runs the cells
  that read the ``mo.ui.anywidget`` element. The echo is off everywhere else: in Jupyter a
  traitlet write from JS stalls later writes under ipykernel 7.4 (see ``_bridge``).
* **VS Code** and **Colab** show outputs in their own frames with their own widget managers.
  Where a frame's blob: pages would get an opaque origin, ``js/frontends.ts`` says so at
  once; when nothing arrives, :func:`frontend_hint` (in ``NoFrontendError``) and
  :func:`load_failure_hints` (in the loading-failure state) say what to check there.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Literal

#: kernel -> frontend, marimo only: ``{"kind", "state": {snake_case name: value}}``; the
#: frontend writes ``state`` into the synced ``_reactive`` trait (js/marimo.ts).
REACTIVE = "reactive"

#: The state properties whose changes re-run marimo cells. Not every property: the simulator's
#: ``data_bounce_speed`` drifts every second or so, and ``size`` follows the viewer's layout.
REACTIVE_FIELDS: tuple[str, ...] = (
    "session_status",
    "connected",
    "current_url",
    "active_connection_id",
    "connections",
    "control_tool",
    "mode",
    "color",
    "audio_state",
    "muted",
    "is_video_on",
    "agent_idleness",
    "observers_count",
    "visitor",
)

Environment = Literal["marimo", "colab", "vscode", "jupyter", "python"]


def in_marimo() -> bool:
    """Whether this code runs in a marimo notebook or app (``marimo edit`` / ``marimo run``)."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an old or partial marimo: treat as not marimo
        return False


def _kernel_namespace() -> dict[str, Any] | None:
    """Return the running IPython kernel's user namespace, or None outside a kernel."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    if shell is None or not any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__):
        return None
    namespace = getattr(shell, "user_ns", None)
    return namespace if isinstance(namespace, dict) else {}


def environment() -> Environment:
    """Guess the frontend this kernel serves, from what the kernel can see.

    Colab imports ``google.colab`` into every kernel; VS Code's Jupyter extension defines
    ``__vsc_ipynb_file__`` in the notebook's namespace and starts kernels with ``VSCODE_PID``
    set. (A JupyterLab started from a VS Code terminal inherits ``VSCODE_PID`` too, so only
    :func:`frontend_hint` uses this, and it words the hint as an "if".)
    """
    if in_marimo():
        return "marimo"
    namespace = _kernel_namespace()
    if namespace is None:
        return "python"
    if "google.colab" in sys.modules:
        return "colab"
    if "__vsc_ipynb_file__" in namespace or os.environ.get("VSCODE_PID"):
        return "vscode"
    return "jupyter"


_HINTS: dict[Environment, str] = {
    "colab": (
        "In Google Colab, third-party widgets need Colab's custom widget manager: run "
        "`from google.colab import output; output.enable_custom_widget_manager()` in a cell, "
        "then run the cell that shows the session again. If the widget shows but its status "
        "stays empty, Colab's output frame is not passing the session's messages on: see "
        "'Colab' in the frontends page of the docs for what to check."
    ),
    "vscode": (
        "If this notebook is open in VS Code: widgets need the Jupyter extension (ms-toolsai."
        "jupyter) with a kernel that has ipywidgets 8 installed, and the output must be "
        "trusted. If the widget shows but its status stays empty, VS Code's output webview is "
        "not passing the session's messages on: see 'VS Code' in the frontends page of the "
        "docs for what to check."
    ),
    "marimo": (
        "In marimo, show the session wrapped (`session = mo.ui.anywidget(UpscopeSession(...))` "
        "as the last expression of a cell), and do not await it: marimo hands the widget's "
        "messages to Python only between cell runs, so nothing arrives while a cell waits. "
        "Let another cell read the session instead (it runs again on every change), or "
        "register a callback such as session.on_state_change."
    ),
    "jupyter": (
        "If it is displayed, check that its output shows the session and not 'Error displaying "
        "widget' (reload the page then); a notebook run headless (nbclient, papermill) has no "
        "frontend at all."
    ),
    "python": (
        "This Python is not a notebook kernel: a session can only be shown in a notebook "
        "(JupyterLab, Notebook 7, Voilà, marimo, VS Code or Colab)."
    ),
}


def frontend_hint() -> str:
    """One or two sentences saying what to check when no frontend shows a session here."""
    return _HINTS[environment()]


def load_failure_hints() -> list[str]:
    """List what the loading-failure state adds here: the VS Code or Colab hint, or nothing."""
    env = environment()
    return [_HINTS[env]] if env in ("colab", "vscode") else []


def reactive_echo(session: Any, changed: set[str]) -> dict[str, Any] | None:
    """Build the message asking a marimo frontend to echo the reactive state (or None).

    None when none of :data:`REACTIVE_FIELDS` changed: nothing for marimo to re-run.
    """
    if not changed.intersection(REACTIVE_FIELDS):
        return None
    state = {name: getattr(session, name) for name in REACTIVE_FIELDS}
    return {"kind": REACTIVE, "state": state}
