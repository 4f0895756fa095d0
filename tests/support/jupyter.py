"""Drive a real JupyterLab 4 / Notebook 7 server, a notebook page in Chromium, and its kernel.

The pieces, from the bottom up:

* :class:`JupyterServer` starts ``jupyter lab`` or ``jupyter notebook`` (Notebook 7) on
  127.0.0.1 with every Jupyter/IPython directory isolated in a temporary folder, a kernelspec
  that runs the tests' own Python, and optionally TCP_NODELAY on the kernel websockets.
* :func:`write_notebook` writes an ``.ipynb`` into the server's root dir.
* :func:`open_notebook` opens it in a Playwright page and waits for an idle kernel; the
  :class:`NotebookPage` it returns runs cells, reads outputs, and has a :class:`KernelHandle`
  (``.kernel``) on the *same* kernel for executing code and reading values from the test.

Everything that waits while the browser must make progress waits through Playwright
(``page.wait_for_function`` / ``page.wait_for_timeout``), never ``time.sleep``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol

import nbformat
from jupyter_client.blocking.client import BlockingKernelClient

from support.processes import ServerProcess, ServerStartError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

__all__ = [
    "NODELAY_LOG_MARKER",
    "SRC_DIR",
    "CellExecutionError",
    "JupyterHarnessError",
    "JupyterServer",
    "KernelExecutionError",
    "KernelHandle",
    "MakeNotebook",
    "NotebookPage",
    "NotebookTimeoutError",
    "ServerKind",
    "ServerStartError",
    "open_notebook",
    "write_notebook",
]

ServerKind = Literal["lab", "notebook"]

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC_DIR = REPO_ROOT / "src"
"""Put on the kernel's PYTHONPATH so ``import upscope_widget`` works without an install."""

NODELAY_LOG_MARKER = "upscope-harness-nodelay:"
"""Prefix of the server log line the TCP_NODELAY patch writes for each kernel websocket."""

_NODELAY_LINE = re.compile(re.escape(NODELAY_LOG_MARKER) + r" kernel=(\S+) TCP_NODELAY=(\S+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EVAL_MARKER = "__upscope_harness_eval__:"

_KERNELSPEC_NAME = "python3"

# Written into the isolated config dir when nodelay=True. Tornado calls `open` on the handler
# instance after the websocket upgrade, so patching the class attribute is enough; the guard
# keeps a config file that is loaded twice from wrapping twice.
_NODELAY_PATCH = f'''
# Written by tests/support/jupyter.py (nodelay=True): kernel websockets get TCP_NODELAY, so
# Nagle's algorithm plus the peer's delayed ACK cannot add ~40 ms to small messages.
import socket as _socket

from jupyter_server.services.kernels.websocket import KernelWebsocketHandler as _Handler

if not getattr(_Handler.open, "_upscope_harness_nodelay", False):
    _harness_original_open = _Handler.open

    async def _harness_open_with_nodelay(self, *args, **kwargs):
        self.set_nodelay(True)
        try:
            sock = self.ws_connection.stream.socket
            value = sock.getsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY)
        except Exception as err:  # report rather than break the websocket
            value = "unknown:" + type(err).__name__
        self.log.warning(
            "{NODELAY_LOG_MARKER} kernel=%s TCP_NODELAY=%s",
            getattr(self, "kernel_id", "?"),
            value,
        )
        return await _harness_original_open(self, *args, **kwargs)

    _harness_open_with_nodelay._upscope_harness_nodelay = True
    _Handler.open = _harness_open_with_nodelay
'''

_BASE_CONFIG = """
# Written by tests/support/jupyter.py: nothing may reach out to the network.
c = get_config()  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.news_url = None
"""


class JupyterHarnessError(RuntimeError):
    """Base class of the errors this harness raises."""


class NotebookTimeoutError(JupyterHarnessError, TimeoutError):
    """Something the harness waited for did not happen in time."""


class KernelExecutionError(JupyterHarnessError):
    """Code run through :meth:`KernelHandle.execute` raised in the kernel."""

    def __init__(self, code: str, ename: str, evalue: str, traceback: Sequence[str]) -> None:
        self.code = code
        self.ename = ename
        self.evalue = evalue
        self.traceback = _strip_ansi("\n".join(traceback))
        super().__init__(
            f"{ename}: {evalue}\n--- code ---\n{code}\n--- traceback ---\n{self.traceback}"
        )


class CellExecutionError(JupyterHarnessError):
    """A notebook cell run from the page produced an error output."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(message)


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def write_notebook(directory: str | os.PathLike[str], name: str, cells: Sequence[str]) -> Path:
    """Write a notebook of code cells (one source string each) and return its path.

    ``name`` may contain subfolders (created as needed); ``.ipynb`` is appended if missing.
    The notebook asks for the ``python3`` kernelspec, which :class:`JupyterServer` points at
    the tests' own interpreter.
    """
    if not name.endswith(".ipynb"):
        name += ".ipynb"
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {
        "name": _KERNELSPEC_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]  # type: ignore[no-untyped-call]
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return path


class JupyterServer:
    """A real ``jupyter lab`` / ``jupyter notebook`` (7) server, isolated, on 127.0.0.1.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). All of
    ``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``, ``IPYTHONDIR``,
    ``JUPYTERLAB_SETTINGS_DIR`` and ``JUPYTERLAB_WORKSPACES_DIR`` point into ``base_dir``
    (a fresh temp dir unless given). The ``python3`` kernelspec there runs ``sys.executable``
    with ``SRC_DIR`` on ``PYTHONPATH``; ``JUPYTER_PREFER_ENV_PATH=0`` makes it win over the
    venv's own ``python3`` spec.

    Args:
        root_dir: the server's root (notebooks are opened relative to it).
        kind: ``"lab"`` (JupyterLab 4) or ``"notebook"`` (Notebook 7).
        nodelay: patch ``KernelWebsocketHandler.open`` to call ``set_nodelay(True)``.
        base_dir: where the isolated dirs and ``server.log`` go; kept after :meth:`stop`
            if given, else a temp dir removed on :meth:`stop`.
        windowing_mode: notebook ``windowingMode`` user setting; ``"none"`` (default) keeps
            every cell attached and rendered so DOM queries are deterministic. ``None`` keeps
            JupyterLab's default.
        kernel_env: extra environment variables for the kernel only.
        extra_args: extra command-line arguments for the server.
        startup_timeout: seconds to wait for ``GET /api/status``.
    """

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        kind: ServerKind = "lab",
        *,
        nodelay: bool = False,
        base_dir: str | os.PathLike[str] | None = None,
        windowing_mode: str | None = "none",
        kernel_env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        if kind not in ("lab", "notebook"):
            raise ValueError(f"kind must be 'lab' or 'notebook', not {kind!r}")
        self._root_dir = Path(root_dir).resolve()
        self._kind: ServerKind = kind
        self._nodelay = nodelay
        self._given_base_dir = Path(base_dir).resolve() if base_dir is not None else None
        self._windowing_mode = windowing_mode
        self._kernel_env = dict(kernel_env or {})
        self._extra_args = list(extra_args)
        self._startup_timeout = startup_timeout
        self._token = secrets.token_hex(24)
        self._base_dir: Path | None = None
        self._server: ServerProcess | None = None

    # -- properties -------------------------------------------------------------------------

    @property
    def kind(self) -> ServerKind:
        """``"lab"`` or ``"notebook"``."""
        return self._kind

    @property
    def nodelay(self) -> bool:
        """Whether kernel websockets get TCP_NODELAY (say so in benchmark output)."""
        return self._nodelay

    @property
    def token(self) -> str:
        """The random auth token."""
        return self._token

    @property
    def root_dir(self) -> Path:
        """The server's root directory; write notebooks here."""
        return self._root_dir

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT/`` (with trailing slash, no token)."""
        if self._server is None or self._server.port is None:
            raise JupyterHarnessError("the server is not started")
        return f"http://127.0.0.1:{self._server.port}/"

    @property
    def base_dir(self) -> Path:
        """Folder holding the isolated Jupyter dirs and ``server.log``."""
        if self._base_dir is None:
            raise JupyterHarnessError("the server is not started")
        return self._base_dir

    @property
    def runtime_dir(self) -> Path:
        """``JUPYTER_RUNTIME_DIR``: kernel connection files are ``kernel-<id>.json`` here."""
        return self.base_dir / "runtime"

    @property
    def config_dir(self) -> Path:
        """``JUPYTER_CONFIG_DIR`` of the server."""
        return self.base_dir / "config"

    @property
    def data_dir(self) -> Path:
        """``JUPYTER_DATA_DIR`` of the server (holds the harness kernelspec)."""
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        """The server's combined stdout/stderr (kernels' stderr lands here too)."""
        return self.base_dir / "server.log"

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> JupyterServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until ``GET /api/status`` answers.

        Raises:
            ServerStartError: the process died or did not answer in time (log tail included).
        """
        if self._server is not None:
            raise JupyterHarnessError("the server is already started")
        self._root_dir.mkdir(parents=True, exist_ok=True)
        if self._given_base_dir is not None:
            self._given_base_dir.mkdir(parents=True, exist_ok=True)
            self._base_dir = self._given_base_dir
        else:
            self._base_dir = Path(tempfile.mkdtemp(prefix=f"jupyter-{self._kind}-"))
        self._prepare_dirs()
        # Kernels run in sessions of their own; any that outlive the server carry our unique
        # runtime dir in their argv (`-f <runtime_dir>/kernel-<id>.json`).
        self._server = ServerProcess(
            f"jupyter {self._kind}", self._command, cwd=self._root_dir,
            env=self._server_env(), log_path=self.log_path, probe=self._probe,
            startup_timeout=self._startup_timeout, owned_marker=str(self.runtime_dir),
        )
        try:
            self._server.start()
        except ServerStartError:
            self._server = None
            self._cleanup_base_dir()
            raise

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, then SIGKILL) and its kernels."""
        if self._server is not None:
            self._server.stop()
        self._cleanup_base_dir()

    def _cleanup_base_dir(self) -> None:
        if self._given_base_dir is None and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)

    def _prepare_dirs(self) -> None:
        base = self.base_dir
        for sub in ("config", "data", "runtime", "ipython", "lab-settings", "lab-workspaces"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        config = _BASE_CONFIG + (_NODELAY_PATCH if self._nodelay else "")
        (self.config_dir / "jupyter_server_config.py").write_text(config)

        spec_dir = self.data_dir / "kernels" / _KERNELSPEC_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        python_path = os.pathsep.join(
            p for p in (str(SRC_DIR), os.environ.get("PYTHONPATH", "")) if p
        )
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "env": {
                "PYTHONPATH": python_path,
                "UPSCOPE_HARNESS_KERNEL": "1",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                **self._kernel_env,
            },
            "metadata": {"debugger": False},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))

        settings = base / "lab-settings"
        user_settings: dict[str, dict[str, Any]] = {
            # Nothing may try the network or pop a toast over the notebook.
            "@jupyterlab/apputils-extension/notification": {
                "fetchNews": "false",
                "checkForUpdates": False,
            },
        }
        if self._windowing_mode is not None:
            user_settings["@jupyterlab/notebook-extension/tracker"] = {
                "windowingMode": self._windowing_mode
            }
        for plugin, values in user_settings.items():
            target = settings / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values, indent=1))

    def _server_env(self) -> dict[str, str]:
        base = self.base_dir
        env = dict(os.environ)
        for leaky in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JPY_PARENT_PID"):
            env.pop(leaky, None)
        env.update(
            JUPYTER_CONFIG_DIR=str(base / "config"),
            JUPYTER_DATA_DIR=str(base / "data"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            IPYTHONDIR=str(base / "ipython"),
            JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
            # In a venv, Jupyter searches the env's share/jupyter before JUPYTER_DATA_DIR, so
            # the venv's `python3` kernelspec would shadow ours without this.
            JUPYTER_PREFER_ENV_PATH="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _command(self, port: int) -> list[str]:
        if self._kind == "lab":
            module, app = "jupyterlab", "LabApp"
        else:
            module, app = "notebook", "JupyterNotebookApp"
        return [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self._token}",
            f"--ServerApp.root_dir={self._root_dir}",
            f"--{app}.expose_app_in_browser=True",
            *self._extra_args,
        ]

    def _probe(self, port: int) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/status?token={self._token}", timeout=2
            ) as resp:
                return resp.status == 200, f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as err:
            return False, repr(err)

    # -- logs -------------------------------------------------------------------------------

    def log_text(self) -> str:
        """The whole server log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, JupyterHarnessError):
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _log_excerpt(self, lines: int = 40) -> str:
        where = self.log_path if self._base_dir is not None else "?"
        return f"\n--- last {lines} lines of {where} ---\n{self.log_tail(lines)}"

    def nodelay_reports(self) -> dict[str, str]:
        """Kernel id -> TCP_NODELAY value read back from the socket by the nodelay patch.

        Only a ``nodelay=True`` server writes these lines; ``"1"`` means the option is set on
        that kernel websocket's socket.
        """
        return {m.group(1): m.group(2) for m in _NODELAY_LINE.finditer(self.log_text())}

    # -- REST -------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the REST API (``path`` like ``"api/sessions"``) and return decoded JSON."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise JupyterHarnessError(
                f"{method} {path} -> HTTP {err.code}: {detail}" + self._log_excerpt(20)
            ) from err
        return json.loads(raw) if raw else None

    def sessions(self) -> list[dict[str, Any]]:
        """``GET /api/sessions``."""
        result: list[dict[str, Any]] = self.api("GET", "api/sessions")
        return result

    def notebook_url(self, path: str) -> str:
        """URL that opens ``path`` (relative to root_dir) in this server's UI, with token.

        Lab gets ``?reset`` so it does not restore an old workspace.
        """
        quoted = urllib.parse.quote(path.lstrip("/"))
        if self._kind == "lab":
            return f"{self.url}lab/tree/{quoted}?reset&token={self._token}"
        return f"{self.url}notebooks/{quoted}?token={self._token}"

    def connection_file(self, kernel_id: str) -> Path:
        """``$runtime_dir/kernel-<id>.json`` of a running kernel."""
        return self.runtime_dir / f"kernel-{kernel_id}.json"

    def connect_kernel(self, kernel_id: str, timeout: float = 30.0) -> KernelHandle:
        """A :class:`KernelHandle` on a kernel this server runs."""
        return KernelHandle(self, kernel_id, timeout=timeout)

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        return f"JupyterServer(kind={self._kind!r}, nodelay={self._nodelay}, {where})"


class KernelHandle:
    """A ``BlockingKernelClient`` (:attr:`client`) on a server's kernel, plus helpers.

    Messages it sends share the kernel with the browser: ``execute`` uses
    ``store_history=False`` and ``stop_on_error=False`` so it neither bumps the notebook's
    execution count nor aborts cells the browser has queued.
    """

    def __init__(self, server: JupyterServer, kernel_id: str, timeout: float = 30.0) -> None:
        self.server = server
        self.kernel_id = kernel_id
        self.connection_file = server.connection_file(kernel_id)
        if not self.connection_file.exists():
            raise JupyterHarnessError(
                f"no connection file {self.connection_file} for kernel {kernel_id}; "
                f"runtime dir has {sorted(p.name for p in server.runtime_dir.glob('*'))}"
            )
        self.client = BlockingKernelClient(connection_file=str(self.connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        try:
            # Returns once a kernel_info reply came back and IOPub delivers messages.
            self.client.wait_for_ready(timeout=timeout)
        except RuntimeError as err:
            self.close()
            raise NotebookTimeoutError(
                f"kernel {kernel_id} did not answer kernel_info within {timeout}s (a busy "
                f"kernel answers only after its running cell): {err}" + server._log_excerpt(20)
            ) from err

    def execute(self, code: str, timeout: float = 30.0) -> str:
        """Run ``code`` in the kernel and return what it printed to stdout.

        Blocks this thread (the browser keeps running; Playwright events queue up).

        Raises:
            KernelExecutionError: the code raised (the message has the traceback).
            NotebookTimeoutError: no reply within ``timeout`` seconds, e.g. the kernel is busy
                with a cell that never finishes.
        """
        stdout: list[str] = []
        errors: list[dict[str, Any]] = []

        def on_output(msg: dict[str, Any]) -> None:
            kind = msg["header"]["msg_type"]
            content = msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content["text"])
            elif kind == "error":
                errors.append(content)

        try:
            reply = self.client.execute_interactive(
                code,
                timeout=timeout,
                output_hook=on_output,
                store_history=False,
                allow_stdin=False,
                stop_on_error=False,
            )
        except TimeoutError as err:
            raise NotebookTimeoutError(
                f"kernel {self.kernel_id} gave no reply within {timeout}s to:\n{code}"
            ) from err
        content = reply["content"]
        if content.get("status") != "ok":
            err_content = errors[-1] if errors else content
            raise KernelExecutionError(
                code,
                str(err_content.get("ename", content.get("status"))),
                str(err_content.get("evalue", "")),
                list(err_content.get("traceback", [])),
            )
        return "".join(stdout)

    def eval(self, expr: str, timeout: float = 30.0) -> Any:
        """Evaluate a Python expression in the kernel and return it JSON-decoded."""
        code = f"print({_EVAL_MARKER!r} + __import__('json').dumps((\n{expr}\n)))"
        out = self.execute(code, timeout=timeout)
        for line in reversed(out.splitlines()):
            if line.startswith(_EVAL_MARKER):
                return json.loads(line[len(_EVAL_MARKER) :])
        raise JupyterHarnessError(f"no value printed for {expr!r}; stdout was {out!r}")

    def close(self) -> None:
        """Stop the client's channels (the kernel keeps running)."""
        self.client.stop_channels()


# JavaScript run in the page. `window.__harnessPanel` is the NotebookPanel found by the
# ready check; the helpers below refer to it rather than to whatever widget has focus.
_JS_READY = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.content || !w.sessionContext) {
    return false;
  }
  const sc = w.sessionContext;
  if (!w.context.isReady || !sc.isReady || !sc.session || !sc.session.kernel) return false;
  if (sc.kernelDisplayStatus !== 'idle') return false;
  window.__harnessPanel = w;
  return true;
}"""

_JS_DIAGNOSE = """(path) => {
  const app = window.jupyterapp;
  if (!app) {
    return 'window.jupyterapp is undefined (app not loaded yet, or expose_app_in_browser off)';
  }
  const w = app.shell && app.shell.currentWidget;
  if (!w) return 'jupyterapp.shell.currentWidget is null';
  const sc = w.sessionContext;
  return JSON.stringify({
    wantedPath: path,
    currentWidget: w.title && w.title.label,
    contextPath: w.context && w.context.path,
    contextReady: w.context && w.context.isReady,
    hasSessionContext: !!sc,
    isReady: sc && sc.isReady,
    kernel: sc && sc.session && sc.session.kernel
      ? sc.session.kernel.name + ' ' + sc.session.kernel.id : null,
    kernelDisplayStatus: sc && sc.kernelDisplayStatus,
  });
}"""

_JS_CELLS_PRELUDE = """
  const panel = window.__harnessPanel;
  const cells = panel.content.widgets;
  const isCode = (c) => c.model.type === 'code';
  const isRunning = (c) => {
    if (!isCode(c)) return false;
    if (c.model.executionState === 'running') return true;
    const prompt = c.node.querySelector('.jp-InputPrompt');
    return !!prompt && prompt.textContent.includes('[*]');
  };
"""

_JS_START_RUN = (
    """([command, index]) => {"""
    + _JS_CELLS_PRELUDE
    + """
  window.__harnessRun = {
    before: cells.map((c) => (isCode(c) ? c.model.executionCount : null)),
    indices: index === null ? null : [index],
    started: false,
  };
  window.jupyterapp.shell.activateById(panel.id);
  if (index !== null) {
    panel.content.deselectAll();
    panel.content.activeCellIndex = index;
  }
  // Deliberately not awaited: a dialog would keep the promise pending forever.
  window.jupyterapp.commands.execute(command).catch(
    (e) => console.error('harness: ' + command + ' failed', e));
  return true;
}"""
)

_JS_RUN_DONE = (
    """() => {"""
    + _JS_CELLS_PRELUDE
    + """
  const run = window.__harnessRun;
  const indices = run.indices || cells.map((_, i) => i);
  let running = false;
  let changed = false;
  for (const i of indices) {
    const c = cells[i];
    if (!c || !isCode(c)) continue;
    if (isRunning(c)) running = true;
    if (c.model.executionCount !== run.before[i]) changed = true;
  }
  if (running || changed) run.started = true;
  return run.started && !running;
}"""
)

_JS_ERRORS = """(indices) => {
  const cells = window.__harnessPanel.content.widgets;
  const out = [];
  for (const i of (indices || cells.map((_, i) => i))) {
    const c = cells[i];
    if (!c || c.model.type !== 'code') continue;
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') {
        out.push({index: i, ename: o.ename, evalue: o.evalue, traceback: o.traceback});
      }
    }
  }
  return out;
}"""


class NotebookPage:
    """A notebook open in a Playwright page, with an idle kernel. Made by :func:`open_notebook`.

    Attributes:
        page: the Playwright ``Page``.
        server: the :class:`JupyterServer` it was opened on.
        path: the notebook's path relative to the server's root.
        console_errors: browser console errors and uncaught page errors, in order; they are
            appended to every timeout/cell error message this class raises.
    """

    def __init__(
        self,
        page: Page,
        server: JupyterServer,
        path: str,
        *,
        owned_context: BrowserContext | None = None,
    ) -> None:
        self.page = page
        self.server = server
        self.path = path
        self.console_errors: list[str] = []
        self._owned_context = owned_context
        self._kernel: KernelHandle | None = None
        self._kernel_id: str | None = None
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(f"console.error: {msg.text}")

    def _on_page_error(self, err: Any) -> None:
        self.console_errors.append(f"pageerror: {err}")

    # -- diagnostics ------------------------------------------------------------------------

    def diagnostics(self, log_lines: int = 30) -> str:
        """Console errors and the server log tail, for failure messages."""
        errors = "\n".join(self.console_errors[-20:]) or "(none)"
        return (
            f"\n--- browser console errors ({len(self.console_errors)}) ---\n{errors}"
            f"\n--- last {log_lines} lines of {self.server.log_path} ---\n"
            f"{self.server.log_tail(log_lines)}"
        )

    # -- waiting ----------------------------------------------------------------------------

    def wait_for(
        self,
        predicate_js: str,
        *,
        arg: Any = None,
        timeout: float = 30.0,
        what: str | None = None,
        polling: float | Literal["raf"] = 50,
    ) -> Any:
        """Wait until the JS function ``predicate_js`` returns a truthy value; return it.

        ``predicate_js`` is a function expression such as ``"(x) => ..."`` called with
        ``arg``; ``polling`` is milliseconds or ``"raf"``. On timeout raises
        :class:`NotebookTimeoutError` naming ``what`` (or the predicate) with diagnostics.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        try:
            handle = self.page.wait_for_function(
                predicate_js, arg=arg, timeout=timeout * 1000, polling=polling
            )
        except PlaywrightTimeoutError as err:
            raise NotebookTimeoutError(
                f"timed out after {timeout}s waiting for {what or predicate_js}"
                + self.diagnostics()
            ) from err
        return handle.json_value()

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        """Wait until the notebook's panel is current, with a ready session and idle kernel.

        :func:`open_notebook` calls this; call it again after ``page.reload()``.
        """
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.wait_for(_JS_READY, arg=self.path, timeout=timeout, what="the notebook")
        except NotebookTimeoutError as err:
            try:
                state = self.page.evaluate(_JS_DIAGNOSE, self.path)
            except PlaywrightError as diag_err:
                state = f"(could not inspect the page: {diag_err})"
            raise NotebookTimeoutError(
                f"{self.server.kind}: notebook {self.path!r} was not ready within {timeout:.1f}s."
                " Waited for jupyterapp.shell.currentWidget to be its panel with"
                " sessionContext.isReady, a kernel, and kernelDisplayStatus === 'idle'."
                f" Page state: {state}" + self.diagnostics()
            ) from err

    def wait_until_idle(self, timeout: float = 30.0) -> None:
        """Wait until the notebook's kernel shows ``idle`` in the UI."""
        self.wait_for(
            "() => window.__harnessPanel.sessionContext.kernelDisplayStatus === 'idle'",
            timeout=timeout,
            what="kernelDisplayStatus === 'idle'",
        )

    def pump(self, ms: float) -> None:
        """Let Playwright process events for ``ms`` milliseconds (use instead of sleep)."""
        self.page.wait_for_timeout(ms)

    def wait_for_kernel(
        self,
        expr: str,
        predicate: Callable[[Any], bool] = bool,
        *,
        timeout: float = 30.0,
        poll_ms: float = 50,
    ) -> Any:
        """Poll ``kernel.eval(expr)`` until ``predicate(value)``; return the value.

        Between polls it waits with ``page.wait_for_timeout`` so the page keeps working.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.kernel.eval(expr)
            if predicate(value):
                return value
            if time.monotonic() >= deadline:
                raise NotebookTimeoutError(
                    f"timed out after {timeout}s waiting for kernel expression {expr!r} "
                    f"to satisfy the predicate; last value: {value!r}" + self.diagnostics()
                )
            self.page.wait_for_timeout(poll_ms)

    # -- cells ------------------------------------------------------------------------------

    def evaluate(self, js: str, arg: Any = None) -> Any:
        """``page.evaluate`` (``window.__harnessPanel`` is this notebook's panel)."""
        return self.page.evaluate(js, arg)

    def cell_count(self) -> int:
        """Number of cells in the notebook model."""
        count: int = self.evaluate("() => window.__harnessPanel.content.widgets.length")
        return count

    def append_cell(self, source: str) -> int:
        """Append a code cell to the open notebook (not saved) and return its index."""
        index: int = self.evaluate(
            """(source) => {
              const nb = window.__harnessPanel.content;
              const n = nb.model.cells.length;
              nb.model.sharedModel.insertCell(n, {cell_type: 'code', source, metadata: {}});
              return n;
            }""",
            source,
        )
        self.wait_for(
            "(i) => window.__harnessPanel.content.widgets.length > i",
            arg=index,
            timeout=10,
            what=f"cell {index} to be created",
        )
        return index

    def run_all(self, timeout: float = 60.0, *, raise_on_error: bool = True) -> None:
        """Run every cell (``notebook:run-all-cells``) and wait until no prompt shows ``[*]``.

        Raises:
            CellExecutionError: a cell produced an error output (unless ``raise_on_error``
                is false); Lab stops a run-all at the first error.
        """
        self._run("notebook:run-all-cells", None, timeout, raise_on_error)

    def run_cell(self, index: int, timeout: float = 60.0, *, raise_on_error: bool = True) -> None:
        """Run one cell (``notebook:run-cell``) and wait until it has finished."""
        self._run("notebook:run-cell", index, timeout, raise_on_error)

    def _run(self, command: str, index: int | None, timeout: float, raise_on_error: bool) -> None:
        self.evaluate(_JS_START_RUN, [command, index])
        target = "all cells" if index is None else f"cell {index}"
        self.wait_for(
            _JS_RUN_DONE,
            timeout=timeout,
            what=f"{command}: {target} to start and then show no [*] prompt",
        )
        if raise_on_error:
            errors: list[dict[str, Any]] = self.evaluate(
                _JS_ERRORS, None if index is None else [index]
            )
            if errors:
                parts = [
                    f"cell {e['index']}: {e['ename']}: {e['evalue']}\n"
                    + _strip_ansi("\n".join(e.get("traceback") or []))
                    for e in errors
                ]
                raise CellExecutionError(
                    f"{command} ({target}) produced errors:\n"
                    + "\n".join(parts)
                    + self.diagnostics(10),
                    errors,
                )

    def cell_locator(self, index: int) -> Locator:
        """Locator for cell ``index``'s DOM node (the ``.jp-Cell`` element)."""
        panel_id = self.evaluate("() => window.__harnessPanel.id")
        return self.page.locator(f'[id="{panel_id}"] .jp-Cell[data-windowed-list-index="{index}"]')

    def output_locator(self, index: int) -> Locator:
        """Locator for cell ``index``'s output area (``.jp-OutputArea``)."""
        return self.cell_locator(index).locator(".jp-OutputArea")

    def cell_outputs(self, index: int) -> list[dict[str, Any]]:
        """Cell ``index``'s outputs as nbformat JSON, from the notebook model."""
        outputs: list[dict[str, Any]] = self.evaluate(
            "(i) => window.__harnessPanel.content.widgets[i].model.outputs.toJSON()", index
        )
        return outputs

    def cell_output_text(self, index: int) -> str:
        """The text content of cell ``index``'s rendered output area, stripped."""
        text: str = self.evaluate(
            """(i) => {
              const c = window.__harnessPanel.content.widgets[i];
              return c && c.outputArea ? c.outputArea.node.textContent : '';
            }""",
            index,
        )
        return text.strip()

    # -- kernel -----------------------------------------------------------------------------

    @property
    def kernel_id(self) -> str:
        """Id of the kernel the page's session uses (cross-checked with ``/api/sessions``)."""
        if self._kernel_id is None:
            kernel_id: str = self.evaluate(
                "() => window.__harnessPanel.sessionContext.session.kernel.id"
            )
            sessions = self.server.sessions()
            by_path = {
                s["kernel"]["id"]: s["path"] for s in sessions if s.get("kernel") is not None
            }
            if by_path.get(kernel_id) != self.path:
                raise JupyterHarnessError(
                    f"the page's kernel {kernel_id} is not the session kernel of {self.path!r} "
                    f"in GET /api/sessions: {sessions}"
                )
            self._kernel_id = kernel_id
        return self._kernel_id

    @property
    def kernel(self) -> KernelHandle:
        """A :class:`KernelHandle` on the notebook's own kernel.

        :func:`open_notebook` connects it while the kernel is idle; connecting later, while
        a cell runs, waits for that cell (the ``kernel_info`` request queues behind it).
        """
        if self._kernel is None:
            self._kernel = self.server.connect_kernel(self.kernel_id)
        return self._kernel

    # -- teardown ---------------------------------------------------------------------------

    def close(self, *, shutdown_kernel: bool = True) -> None:
        """Disconnect the kernel client, close an owned page, and shut the session down."""
        if self._kernel is not None:
            self._kernel.close()
            self._kernel = None
        kernel_id = self._kernel_id
        if kernel_id is None and shutdown_kernel:
            try:
                kernel_id = self.evaluate(
                    "() => window.__harnessPanel?.sessionContext?.session?.kernel?.id ?? null"
                )
            except Exception:  # page already gone
                kernel_id = None
        if self._owned_context is not None:
            self._owned_context.close()
            self._owned_context = None
        if shutdown_kernel:
            # Without a kernel id (the page never got ready), the notebook's sessions go.
            for session in self.server.sessions():
                session_kernel = (session.get("kernel") or {}).get("id")
                if session_kernel == kernel_id or (
                    kernel_id is None and session.get("path") == self.path
                ):
                    self.server.api("DELETE", f"api/sessions/{session['id']}")

    def __enter__(self) -> NotebookPage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_notebook(
    target: Browser | Page,
    server: JupyterServer,
    path: str | os.PathLike[str],
    *,
    timeout: float = 60.0,
    connect_kernel: bool = True,
) -> NotebookPage:
    """Open a notebook in the server's UI and wait until its kernel is ready and idle.

    Args:
        target: a Playwright ``Page`` to navigate, or a ``Browser`` (a new context and page
            are made and closed with the returned :class:`NotebookPage`).
        server: a started :class:`JupyterServer`.
        path: the notebook, relative to ``server.root_dir`` (an absolute path inside it is
            accepted too).
        timeout: seconds for the page load plus the kernel to become idle.
        connect_kernel: connect :attr:`NotebookPage.kernel` now, while the kernel is idle
            (connecting waits for a ``kernel_info`` reply, which a busy kernel only sends
            after its running cell).

    Ready means ``jupyterapp.shell.currentWidget`` is this notebook's panel, its
    ``sessionContext`` ``isReady`` with a kernel, and ``kernelDisplayStatus === 'idle'``.
    """
    rel = Path(path)
    if rel.is_absolute():
        rel = rel.resolve().relative_to(server.root_dir)
    rel_path = rel.as_posix()
    if not (server.root_dir / rel).is_file():
        raise FileNotFoundError(f"{server.root_dir / rel} does not exist; write it first")

    owned_context: BrowserContext | None = None
    if hasattr(target, "new_context"):
        owned_context = target.new_context()
        page = owned_context.new_page()
    else:
        page = target
    nb = NotebookPage(page, server, rel_path, owned_context=owned_context)
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    try:
        page.goto(server.notebook_url(rel_path), timeout=timeout * 1000)
    except PlaywrightError as err:
        nb.close()
        raise NotebookTimeoutError(
            f"could not load {server.notebook_url(rel_path)}: {err}" + nb.diagnostics()
        ) from err
    try:
        nb.wait_until_ready(timeout=max(deadline - time.monotonic(), 1.0))
    except NotebookTimeoutError:
        nb.close()
        raise
    if connect_kernel:
        try:
            nb.kernel  # noqa: B018 - connects the client
        except Exception:
            nb.close()
            raise
    return nb


class MakeNotebook(Protocol):
    """Type of the ``make_notebook`` fixture in ``tests/e2e/conftest.py``."""

    def __call__(
        self,
        server: JupyterServer,
        cells: Sequence[str],
        name: str | None = None,
        timeout: float = 60.0,
    ) -> NotebookPage:
        """Write a notebook of ``cells`` into ``server.root_dir`` and open it."""
        ...
