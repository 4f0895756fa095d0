"""Sessions outside the notebook: ``run_headless()`` in plain Python, with no Jupyter at all.

Each test runs the real session and the package's built frontend in real headless Chromium
(the system's, as Playwright's own cannot be downloaded here); the simulated iframe answers
the instructions the way the service does.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from support.aio import run
from support.chromium import find_chromium
from upscope_widget import UpscopeSession

pytestmark = [pytest.mark.browser]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    from upscope_widget import UpscopeSession

    async def main():
        session = UpscopeSession.simulate()
        heard, changes = [], []
        session.on_instruction(lambda action, params, source: heard.append([action, source]))
        session.on_state_change(lambda state, changed: changes.append(sorted(changed)))
        async with session.run_headless(executable_path=sys.argv[1]) as view:
            await session.wait_for_status("viewerReady", timeout=20)
            state = await session.perform("set_mode", mode="draw", timeout=10)
            session.simulator.visitor_sends({"question": "where is my order?"})
            message = await session.next_event("customMessage", timeout=10)
            png = await view.screenshot(path=sys.argv[2])
        print(json.dumps({
            "tool": state.control_tool, "message": message.message, "heard": heard,
            "png": png[:8].hex(), "closed": view.closed,
            "connected": session.frontend_connected,
            "tool_changed": any("control_tool" in c for c in changes),
            "log": [[e.direction, e.kind, e.source] for e in session.log if e.direction == "out"],
            "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                              ("ipykernel", "jupyter_server", "notebook", "jupyterlab")),
        }))

    asyncio.run(main())
""")


def test_a_plain_script_drives_a_simulated_session_headless(tmp_path: Path) -> None:
    script = tmp_path / "automation.py"
    script.write_text(SCRIPT)
    shot = tmp_path / "shot.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    proc = subprocess.run([sys.executable, str(script), find_chromium(), str(shot)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["tool"] == "drawing" and out["tool_changed"]  # the iframe got setMode
    assert out["message"] == {"question": "where is my order?"}
    assert out["heard"] == [["setMode", "python"], ["upscope-sim:visitorSends", "simulator"]]
    assert out["log"][0] == ["out", "setMode", "python"]
    assert out["png"] == "89504e470d0a1a0a" and shot.read_bytes()[:4] == b"\x89PNG"
    assert out["closed"] and not out["connected"]  # the page let the session go
    assert out["modules"] == []  # no Jupyter anywhere


def test_the_example_script_runs_as_written(tmp_path: Path) -> None:
    shot = tmp_path / "session.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / "headless_script.py"), str(shot)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [
        "tool: drawing",
        "the visitor says {'question': 'Where is my order?'}",
        f"screenshot: {shot}",
        "sent: [('setMode', 'python'), ('upscope-sim:visitorSends', 'simulator')]",
    ]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_twenty_sessions_share_one_browser_and_each_answers() -> None:
    async def main() -> list[UpscopeSession]:
        from contextlib import AsyncExitStack

        from upscope_widget.headless import launch_browser, start_playwright

        playwright = await start_playwright()
        browser = await launch_browser(playwright, executable_path=find_chromium())
        sessions = [UpscopeSession.simulate(seed=n) for n in range(20)]
        try:
            async with AsyncExitStack() as stack:
                for session in sessions:
                    await stack.enter_async_context(
                        session.run_headless(browser=browser, timeout=120))
                await asyncio.gather(*(s.wait_for_status("viewerReady", timeout=120)
                                       for s in sessions))
                colors = [f"#0000{n:02x}" for n in range(20)]
                await asyncio.gather(*(s.perform("switch_color", color=c, timeout=120)
                                       for s, c in zip(sessions, colors, strict=True)))
                assert [s.color for s in sessions] == colors  # each its own iframe
                assert all(s.frontend_connected for s in sessions)
        finally:
            await browser.close()
            await playwright.stop()
        return sessions

    sessions = run(main())
    assert not any(s.frontend_connected for s in sessions)  # every page let its session go


def test_two_sessions_share_one_browser_and_run_again() -> None:
    async def main() -> Any:
        from playwright.async_api import async_playwright

        from upscope_widget.headless import LAUNCH_ARGS

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=find_chromium(),
                                               args=list(LAUNCH_ARGS))
            one, two = UpscopeSession.simulate(), UpscopeSession.simulate(seed=2)
            async with one.run_headless(browser=browser), two.run_headless(browser=browser):
                await one.wait_for_status("viewerReady", timeout=20)
                await two.wait_for_status("viewerReady", timeout=20)
                await one.perform("switch_color", color="#123456", timeout=10)
                await two.perform("set_mode", mode="pointer", timeout=10)
                colors = (one.color, two.color)
            assert browser.is_connected()  # a shared browser stays open
            async with one.run_headless(browser=browser):  # shown again, by a new page
                await one.perform("set_mode", mode="cursor", timeout=10)
            await browser.close()
        return one, two, colors

    one, two, colors = run(main())
    assert colors[0] == "#123456" and colors[1] != "#123456"  # each its own iframe
    assert two.control_tool == "pointer"
    # the new page's simulator started anew (a real link would reconnect to the same session)
    assert one.control_tool == "cursor"


def test_without_playwright_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.async_api", None)

    async def main() -> None:
        async with UpscopeSession.simulate().run_headless():
            pass

    with pytest.raises(ImportError, match=r"'headless' extra: pip install "
                                          r"'upscope-widget\[headless\]'"):
        run(main())


def test_a_chromium_that_cannot_start_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-chromium"

    async def main() -> None:
        async with UpscopeSession.simulate().run_headless(executable_path=missing):
            pass

    with pytest.raises(RuntimeError) as err:
        run(main())
    text = str(err.value)
    assert str(missing) in text and "not an executable file" in text
    assert "playwright install chromium" in text and "executable_path=" in text


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("viewport", (0, 800), "viewport=(0, 800) is not allowed"),
    ("viewport", [1280, 800], "viewport=[1280, 800] is not allowed"),
    ("timeout", 0, "timeout=0 is not allowed"),
    ("timeout", float("inf"), "timeout=inf is not allowed"),
])
def test_bad_settings_are_refused_before_anything_starts(option: str, value: Any,
                                                         fragment: str) -> None:
    async def main() -> None:
        async with UpscopeSession.simulate().run_headless(**{option: value}):
            pass

    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        run(main())


USER_TESTS = textwrap.dedent('''
    import pytest
    from upscope_widget import UpscopeSession

    pytestmark = pytest.mark.anyio


    async def test_the_ready_session_answers(upscope_session):
        assert upscope_session.session_status == "viewerReady"
        state = await upscope_session.perform("set_mode", mode="draw", timeout=10)
        assert state.control_tool == "drawing"


    async def test_any_session_runs_headless(upscope_headless, upscope_browser):
        session = await upscope_headless(UpscopeSession.simulate(require_authorization=True))
        await session.wait_for_status("pendingRequest", timeout=20)
        assert session.frontend_connected
        assert upscope_browser.is_connected()


    def test_a_plain_test_is_left_alone():
        assert True
''')


def test_the_pytest_plugin_serves_its_fixtures_to_an_installed_users_tests(
        tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    # and the example, a replayed recording driving an automation among its tests
    shutil.copy(EXAMPLES / "test_automation.py", tmp_path / "test_automation.py")
    # a user's run: the plugin comes through its entry point (not imported by path), from a
    # folder with no conftest of ours
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout


def test_tool_calls_and_the_mcp_endpoint_drive_a_headless_session() -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    session = UpscopeSession.simulate()
    heard: list[Any] = []
    session.on_instruction(lambda action, params, source: heard.append((action, source)))

    async def main() -> Any:
        async with session.run_headless(executable_path=find_chromium()):
            await session.wait_for_status("viewerReady", timeout=30)
            drawn = await session.run_tool_call("set_mode", {"mode": "draw"}, wait=True,
                                                timeout=20)
            handle = session.serve_mcp(timeout=20)
            try:
                async with create_mcp_http_client(headers=handle.headers) as http, \
                        streamable_http_client(handle.url, http_client=http) as (read, write), \
                        ClientSession(read, write) as client:
                    await client.initialize()
                    colored = await client.call_tool("switch_color", {"color": "#123456"})
                    state = await client.call_tool("get_session_state", {})
            finally:
                handle.stop()
                await handle.wait_closed()
            return drawn, colored, state

    drawn, colored, state = run(main())
    # each waited for the simulated iframe's answer: the state shows the effect
    assert drawn["ok"] is True and drawn["state"]["control_tool"] == "drawing"
    assert colored.is_error is False and session.color == "#123456"
    assert json.loads(state.content[0].text)["state"]["color"] == "#123456"
    assert heard == [("setMode", "agent"), ("switchColor", "mcp")]


def test_a_link_loaded_over_the_network_works_headless_even_on_this_machine() -> None:
    # a page the browser loads like any link (here from 127.0.0.1: Chromium's Local Network
    # Access checks block that from a page it deems public, unless the page may)
    from support.widget_harness import serve

    async def main(url: str) -> Any:
        session = UpscopeSession(url)
        async with session.run_headless(executable_path=find_chromium()) as view:
            await session.wait_for_status("viewerReady", timeout=30)
            await session.perform("switch_color", color="#abcdef", timeout=20)
            frames = [frame.url for frame in view.page.frames]
        return session, frames

    with serve() as origin:
        session, frames = run(main(origin + "/echo.html"))
    assert origin + "/echo.html" in frames
    assert session.color == "#abcdef" and session.state.visitor.call_name == "Grace Hopper"


def test_a_screenshot_shows_the_simulated_page_inside_the_widget() -> None:
    import io

    from PIL import Image, ImageChops

    async def main() -> tuple[bytes, bytes, dict[str, float]]:
        session = UpscopeSession.simulate()
        async with session.run_headless(executable_path=find_chromium()) as view:
            await session.wait_for_status("viewerReady", timeout=30)
            session.simulator.navigate("https://shop.example/checkout")
            await session.wait_for(lambda s: s.current_url == "https://shop.example/checkout",
                                   timeout=20)
            frame = next(f for f in view.page.frames if f is not view.page.main_frame)
            address = frame.locator("#addr-url")
            await address.filter(has_text="https://shop.example/checkout").wait_for()
            box = await address.bounding_box()  # in the page's coordinates
            assert box is not None
            page_png = await view.screenshot()
            element_png = await address.screenshot()
        return page_png, element_png, box

    page_png, element_png, box = run(main())
    page = Image.open(io.BytesIO(page_png)).convert("RGB")
    element = Image.open(io.BytesIO(element_png)).convert("RGB")
    left, top = round(box["x"]), round(box["y"])
    crop = page.crop((left, top, left + element.width, top + element.height))
    # the simulated page's own address bar, pixel for pixel, inside the widget's screenshot
    assert ImageChops.difference(crop, element).getbbox() is None
    assert len(crop.getcolors(maxcolors=1 << 16) or ()) > 10  # text, not a blank box
