"""Smoke tests proving the Jupyter/Chromium harness works, in JupyterLab 4 and Notebook 7."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.jupyter import (
    SRC_DIR,
    CellExecutionError,
    JupyterServer,
    KernelExecutionError,
    MakeNotebook,
)

pytestmark = pytest.mark.jupyter

SLIDER_CELLS = [
    "import ipywidgets\nslider = ipywidgets.IntSlider(value=7, description='harness')\nslider",
    "print('second cell ran')",
]

ECHO_CELLS = [
    '''import anywidget

class Echo(anywidget.AnyWidget):
    _esm = """
    export default {
      initialize({ model }) {
        model.on("msg:custom", (msg) => model.send({ echo: msg }));
      },
      render({ el }) {
        el.classList.add("harness-echo");
        el.textContent = "echo ready";
      },
    };
    """

received = []
w = Echo()
w.on_msg(lambda widget, content, buffers: received.append(content))
w''',
]


def test_ipywidget_slider_shares_the_kernel(
    jupyter_server: JupyterServer, make_notebook: MakeNotebook
) -> None:
    nb = make_notebook(jupyter_server, SLIDER_CELLS)
    nb.run_all()

    readout = nb.output_locator(0).locator(".widget-readout")
    nb.wait_for(
        "() => document.querySelector('.jp-OutputArea .widget-slider') !== null",
        what="the slider DOM in the output",
    )
    assert readout.inner_text() == "7"
    assert nb.cell_output_text(1) == "second cell ran"

    # The kernel client talks to the very kernel the page runs, with the tests' Python.
    assert nb.kernel.eval("slider.value") == 7
    assert nb.kernel.eval("__import__('sys').executable") == sys.executable
    kernel_path = nb.kernel.eval("__import__('sys').path")
    assert str(SRC_DIR) in kernel_path
    assert nb.kernel.execute("print('out', end='')") == "out"

    nb.kernel.execute("slider.value = 42")
    nb.wait_for(
        "(el) => el.textContent === '42'",
        arg=readout.element_handle(),
        timeout=10,
        what="the slider readout to show 42",
    )

    with pytest.raises(KernelExecutionError, match="ZeroDivisionError"):
        nb.kernel.execute("1 / 0")

    failing = nb.append_cell("raise ValueError('boom from a cell')")
    with pytest.raises(CellExecutionError, match="ValueError: boom from a cell"):
        nb.run_cell(failing)
    assert nb.kernel.eval("slider.value") == 42  # the kernel survived both errors


def test_anywidget_custom_message_echo(
    jupyter_server: JupyterServer, make_notebook: MakeNotebook
) -> None:
    nb = make_notebook(jupyter_server, ECHO_CELLS)
    nb.run_all()
    nb.wait_for(
        "() => document.querySelector('.harness-echo')?.textContent === 'echo ready'",
        what="the anywidget view to render",
    )

    nb.kernel.execute("w.send({'x': 1})")
    received = nb.wait_for_kernel("received", timeout=15)
    assert received == [{"echo": {"x": 1}}]


@pytest.fixture(scope="module")
def nodelay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("nodelay-server")
    with JupyterServer(
        base / "root", "notebook", nodelay=True, base_dir=base / "jupyter"
    ) as server:
        yield server


def test_nodelay_patch_sets_tcp_nodelay_on_the_kernel_websocket(
    nodelay_server: JupyterServer, make_notebook: MakeNotebook
) -> None:
    config = Path(nodelay_server.config_dir, "jupyter_server_config.py").read_text()
    assert "set_nodelay(True)" in config
    nb = make_notebook(nodelay_server, ["print('hello')"])
    nb.run_all()
    assert nb.cell_output_text(0) == "hello"
    # The patch reads TCP_NODELAY back from the websocket's socket and logs it per kernel.
    assert nodelay_server.nodelay_reports().get(nb.kernel_id) == "1", nodelay_server.log_tail()
