"""A server process for a test: a free port, its own process group, a log, a clean stop.

Both the Jupyter servers (:mod:`support.jupyter`) and the other apps (:mod:`support.apps`:
Voilà, marimo) start this way. A server binds a port chosen just before it starts; if another
process took the port meanwhile, the server exits and we try another. On stop, the whole
process group gets SIGTERM, then SIGKILL; processes the server started in sessions of their own
(Jupyter kernels) are found by a marker in their argv (a unique temp dir) and killed too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ServerProcess", "ServerStartError", "free_port", "kill_marked"]

#: Given the port, whether the server answers, and what it said last (for the error).
Probe = Callable[[int], tuple[bool, str]]


class ServerStartError(RuntimeError):
    """The server did not come up; the message ends with the tail of its log."""


def free_port() -> int:
    """A port nobody listens on now (the server must bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def kill_marked(marker: str) -> None:
    """SIGKILL every process whose argv contains ``marker``."""
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


class ServerProcess:
    """One server: ``command(port)`` is its argv; ``probe(port)`` says whether it is up.

    Args:
        name: how errors name it (``"jupyter lab"``, ``"voila"``).
        command: the argv for a port.
        cwd, env: where and with what environment it runs (``env=None``: this one).
        log_path: where its stdout and stderr go (appended to; kept after stop).
        probe: called every ``interval`` seconds until it says the server is up.
        startup_timeout: seconds to wait for that.
        owned_marker: a string in the argv of the processes it starts in sessions of their
            own, killed on stop too.
    """

    def __init__(
        self,
        name: str,
        command: Callable[[int], Sequence[str]],
        *,
        cwd: Path,
        env: dict[str, str] | None,
        log_path: Path,
        probe: Probe,
        startup_timeout: float,
        owned_marker: str | None = None,
        interval: float = 0.1,
    ) -> None:
        self.name = name
        self._command = command
        self._cwd = cwd
        self._env = env
        self.log_path = log_path
        self._probe = probe
        self._startup_timeout = startup_timeout
        self._marker = owned_marker
        self._interval = interval
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        """Start the server and wait until the probe says it is up (three tries on ports)."""
        if self._proc is not None:
            raise ServerStartError(f"{self.name} is already started")
        error = "not started"
        for _attempt in range(3):
            self.port = free_port()
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._proc = subprocess.Popen(
                list(self._command(self.port)),
                cwd=self._cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            error = self._wait_until_up(self.port)
            if not error:
                return
            port_taken = "in use" in self.log_tail(20)
            self.stop()
            if not port_taken:
                break
        raise ServerStartError(
            f"{self.name} did not come up: {error}\n--- {self.log_path} ---\n{self.log_tail()}"
        )

    def _wait_until_up(self, port: int) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout
        last = ""
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                return f"exited with code {code}"
            up, last = self._probe(port)
            if up:
                return ""
            time.sleep(self._interval)  # no browser involved yet
        return f"no answer within {self._startup_timeout:.0f}s (last: {last})"

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left, the marked ones too."""
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
            # children may outlive the leader in the same group: make sure none stays
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if self._marker:
                kill_marked(self._marker)
        if self._log is not None:
            self._log.close()
            self._log = None
