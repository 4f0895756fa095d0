"""The built wheel, installed into a fresh virtual environment without Node.js, in a real
JupyterLab: the bundle and the simulator page must come from the wheel, nothing from src/."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from support.frames import wait_for_frame
from support.jupyter import open_notebook, write_notebook
from support.venv_jupyter import VenvJupyterServer, create_venv, path_without_node, venv_env

REPO = Path(__file__).resolve().parents[2]
#: What the wheel must carry for a session to show with no build step and no server of ours.
REQUIRED = (
    "upscope_widget/__init__.py",
    "upscope_widget/py.typed",
    "upscope_widget/static/widget.js",
    "upscope_widget/static/widget.css",
    "upscope_widget/static/simulator.html",
)

CELL = """\
import shutil, sys
import upscope_widget
from upscope_widget import UpscopeSession

where = {"package": upscope_widget.__file__, "python": sys.executable,
         "node": shutil.which("node"), "npm": shutil.which("npm")}
session = UpscopeSession.simulate(time_scale=0.2, seed=3, height=360)
session
"""


def build_wheel(out: Path) -> Path:
    # The build backend's jupyter-builder hook runs npm only if the bundle is missing.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        cwd=out.parent, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, f"the wheel did not build:\n{done.stdout[-3000:]}\n{done.stderr}"
    [wheel] = out.glob("upscope_widget-*.whl")
    return wheel


def test_installed_wheel_shows_a_simulator_session_in_jupyterlab(page, tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in REQUIRED if name not in names]
    assert not missing, f"{wheel.name} lacks {missing}"
    assert not [n for n in names if n.startswith(("js/", "tests/", "src/"))], sorted(names)

    path = path_without_node(tmp_path / "bin")
    python = create_venv(tmp_path / "venv", [str(wheel), "jupyterlab", "ipykernel"],
                         venv_env(path), cwd=tmp_path)
    venv = python.parent.parent
    root = tmp_path / "root"  # the server's and the kernel's cwd: outside the source tree
    with VenvJupyterServer(root, python, str(python.parent) + os.pathsep + path,
                           base_dir=tmp_path / "jupyter") as server:
        write_notebook(root, "wheel.ipynb", [CELL])
        nb = open_notebook(page, server, "wheel.ipynb", timeout=120)
        try:
            nb.run_all(timeout=120)
            where = nb.kernel.eval("where")
            assert Path(where["python"]).parent.parent == venv, where
            assert Path(where["package"]).is_relative_to(venv), where
            assert where["node"] is None and where["npm"] is None, where
            status = nb.wait_for_kernel("session.session_status",
                                        lambda s: s == "viewerReady", timeout=90)
            assert status == "viewerReady"
            # the simulator page from the wheel is what the page shows, as a blob: frame
            frame = wait_for_frame(page, "blob:", "document.getElementById('overlay') !== null")
            if frame is None:
                raise AssertionError("no simulator frame in the page" + nb.diagnostics())
            nb.kernel.execute("session.set_mode('draw')")
            nb.wait_for_kernel("session.control_tool", lambda t: t == "drawing", timeout=60)
            assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "drawing"
        finally:
            nb.close()
