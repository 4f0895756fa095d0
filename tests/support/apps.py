"""Start a web app server (Voilà, marimo) for a test: a free port, its own process group, a log.

:class:`AppServer` runs a command that serves HTTP on ``127.0.0.1:{port}``, waits until a GET
answers 200, and stops the whole process group (the server and any kernels it started) on
exit. Its log is kept for failure messages.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from support.jupyter import SRC_DIR, _free_port

__all__ = ["AppServer", "console_collector", "src_env"]


def src_env(**extra: str) -> dict[str, str]:
    """This environment with ``src/`` on PYTHONPATH, so kernels import the package under test."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class AppServer:
    """A server process started by ``command`` (``{port}`` in it is replaced by a free port).

    Args:
        command: the argv; every ``{port}`` is filled in.
        cwd: the working directory.
        log_path: where stdout and stderr go.
        env: the environment (default: this one).
        ready_path: the path that must answer before the server counts as up: with 200, or
            with any HTTP status if ``any_status`` (Voilà redirects everything it does not
            serve, and its page itself would start a kernel).
        startup_timeout: seconds to wait for that.
        owned_marker: a string (a unique temp dir) in the argv of every process the server
            starts in a session of its own (Jupyter kernels); those are killed on stop too.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        startup_timeout: float = 90.0,
        owned_marker: str | None = None,
        any_status: bool = False,
    ) -> None:
        self._any_status = any_status
        self._marker = owned_marker
        self._command = list(command)
        self._cwd = cwd
        self.log_path = log_path
        self._env = env
        self._ready_path = ready_path
        self._startup_timeout = startup_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        """Start the server and wait until ``ready_path`` answers 200 (three tries on ports)."""
        error = "not started"
        for _attempt in range(3):
            self.port = _free_port()
            argv = [part.replace("{port}", str(self.port)) for part in self._command]
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._proc = subprocess.Popen(
                argv,
                cwd=self._cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            error = self._wait_until_up()
            if not error:
                return
            self.stop()
            if "in use" not in self.log_tail(20):
                break
        raise RuntimeError(
            f"{self._command[0]} did not come up: {error}\n--- {self.log_path} ---\n"
            + self.log_tail()
        )

    def _wait_until_up(self) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout
        last = ""
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                return f"exited with code {code}"
            try:
                url = self.url + self._ready_path.lstrip("/")
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        return ""
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as err:
                if self._any_status:
                    return ""
                last = f"HTTP {err.code}"
            except (urllib.error.URLError, OSError) as err:
                last = repr(err)
            time.sleep(0.2)  # no browser involved yet
        return f"no answer within {self._startup_timeout:.0f}s (last: {last})"

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # kernels may outlive the leader in the same group: make sure none stays
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if self._marker:
                _kill_marked(self._marker)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_marked(marker: str) -> None:
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def console_collector(page: Any) -> list[str]:
    """Collect a page's console errors and uncaught exceptions into a list (for messages)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors
