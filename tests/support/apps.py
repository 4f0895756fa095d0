"""Start a web app server (Voilà, marimo) for a test, as :mod:`support.processes` starts one.

:class:`AppServer` runs a command that serves HTTP on ``127.0.0.1:{port}``, waits until a GET
answers 200, and stops the whole process group (the server and any kernels it started) on
exit. Its log is kept for failure messages.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from support.frames import wait_for_frame
from support.jupyter import SRC_DIR
from support.processes import ServerProcess

__all__ = ["AppServer", "console_collector", "simulator_frame", "src_env"]


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
        self._ready_path = ready_path.lstrip("/")
        self._any_status = any_status
        self._server = ServerProcess(
            command[0],
            lambda port: [part.replace("{port}", str(port)) for part in command],
            cwd=cwd, env=env, log_path=log_path, probe=self._probe,
            startup_timeout=startup_timeout, owned_marker=owned_marker, interval=0.2,
        )
        self.log_path = log_path

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._server.port or 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log."""
        return self._server.log_tail(lines)

    def _probe(self, port: int) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{self._ready_path}",
                                        timeout=5) as resp:
                return resp.status == 200, f"HTTP {resp.status}"
        except urllib.error.HTTPError as err:
            return self._any_status, f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            return False, repr(err)

    def start(self) -> None:
        """Start the server and wait until ``ready_path`` answers (three tries on ports)."""
        self._server.start()

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        self._server.stop()

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


def simulator_frame(page: Any, server: AppServer, errors: list[str]) -> Any:
    """The simulator page's frame (a ``blob:`` iframe) once it has drawn, for up to 60 s."""
    frame = wait_for_frame(page, "blob:", "document.getElementById('overlay') !== null", 600)
    if frame is None:
        raise AssertionError(f"the simulator's frame never loaded\n{errors}\n{server.log_tail()}")
    return frame


def console_collector(page: Any) -> list[str]:
    """Collect a page's console errors and uncaught exceptions into a list (for messages)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors
