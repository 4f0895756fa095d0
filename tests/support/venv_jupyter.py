"""A JupyterLab run from another virtual environment, as a user who installed the wheel has it.

:class:`VenvJupyterServer` is :class:`support.jupyter.JupyterServer` with the server and the
kernel both run by that environment's Python, no ``src/`` on any PYTHONPATH, and a PATH
without Node.js, so that nothing can come from the source tree or be built on the fly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.jupyter import JupyterServer

__all__ = ["NODE_NAMES", "VenvJupyterServer", "create_venv", "path_without_node", "venv_env"]

#: Executables that would let anything build or run JavaScript outside the browser.
NODE_NAMES = frozenset({"node", "nodejs", "npm", "npx", "corepack", "yarn", "pnpm"})


def path_without_node(shim_dir: Path, extra_first: Path | None = None) -> str:
    """A PATH with every executable of this PATH except Node.js and its package managers.

    Directories such as /usr/bin hold node beside everything else, so their other
    executables are linked into ``shim_dir`` and the PATH is ``extra_first`` then the shim.
    """
    shim_dir.mkdir(parents=True, exist_ok=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = shim_dir / entry.name
            if entry.name in NODE_NAMES or target.exists() or target.is_symlink():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                target.symlink_to(entry.path)
    return os.pathsep.join(str(p) for p in (extra_first, shim_dir) if p is not None)


#: Variables that would let the other environment see this one's packages or settings.
LEAKY = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")


def venv_env(path: str) -> dict[str, str]:
    """This environment without PYTHONPATH or an active venv, with ``path`` as PATH."""
    env = dict(os.environ)
    for leaky in LEAKY:
        env.pop(leaky, None)
    env["PATH"] = path
    return env


def create_venv(venv: Path, packages: list[str], env: dict[str, str], cwd: Path,
                timeout: float = 300.0) -> Path:
    """Make a fresh venv at ``venv``, pip-install ``packages``; return its Python."""
    python = venv / "bin" / "python"
    for argv in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-input", *packages],
    ):
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return python


class VenvJupyterServer(JupyterServer):
    """JupyterLab / Notebook 7 run by ``python`` (another venv), isolated like its base.

    Args:
        python: the other environment's interpreter; it must have jupyterlab and ipykernel.
        path: the PATH for the server and its kernels (see :func:`path_without_node`).
        **kwargs: as for :class:`JupyterServer`.
    """

    def __init__(self, root_dir: Path, python: Path, path: str, **kwargs: Any) -> None:
        super().__init__(root_dir, **kwargs)
        self._python = python
        self._path = path

    def _prepare_dirs(self) -> None:
        super()._prepare_dirs()
        spec_file = self.data_dir / "kernels" / "python3" / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["argv"][0] = str(self._python)
        # the base kernelspec puts src/ on PYTHONPATH: here the package must come from the venv
        spec["env"].pop("PYTHONPATH", None)
        spec_file.write_text(json.dumps(spec, indent=1))

    def _server_env(self) -> dict[str, str]:
        env = super()._server_env()
        for leaky in LEAKY:
            env.pop(leaky, None)
        env["PATH"] = self._path
        return env

    def _command(self, port: int) -> list[str]:
        return [str(self._python), *super()._command(port)[1:]]
