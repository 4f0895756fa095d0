"""Sessions outside the notebook: the widget's own frontend in headless Chromium (Playwright).

``session.run_headless()`` opens a page of headless Chromium that runs the package's built
frontend (``static/widget.js``: the same bridge, source and origin checks, batching and
toolbar) and connects it to the Python session through the transport seam
(``attach_transport`` / ``receive_frontend_message``) instead of a Jupyter comm. The page
stands in for anywidget's runtime with a small model (get, set, on, off, send), as a notebook
would give it; everything else is the real thing.

Needs the ``headless`` extra (Playwright). Playwright's own Chromium is used when it is
installed, else the system's ``chromium``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import UpscopeSession

#: How to get what ``run_headless`` needs.
HEADLESS_EXTRA = "pip install 'upscope-widget[headless]'"
#: The page's origin: served by Playwright itself (a route), never over the network.
HOST = "http://upscope-widget.localhost"
#: Flags that headless Chromium needs in containers and CI (no sandbox, no GPU, no updates).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Synced traits the page does not need: it loads the module and styles itself.
_NOT_SENT = frozenset({"_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable",
                       "tooltip", "_model_module", "_model_module_version", "_model_name",
                       "_view_count", "_view_module", "_view_module_version", "_view_name"})
_STATIC = Path(__file__).parent / "static"

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>upscope-widget (headless)</title>
<link rel="stylesheet" href="/static/widget.css"></head>
<body style="margin:0"><div id="view"></div>
<script type="module">
import widget from "/static/widget.js";
// anywidget's runtime, as small as the widget needs: a model with get/set/on/off/send
class Model {
  constructor(state) { this.state = { ...state }; this.handlers = new Map(); }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; }
  save_changes() {}
  on(names, cb) {
    for (const name of names.split(" ")) {
      if (!this.handlers.has(name)) this.handlers.set(name, []);
      this.handlers.get(name).push(cb);
    }
  }
  off(names, cb) {
    if (!names) { this.handlers.clear(); return; }
    for (const name of names.split(" ")) {
      const list = this.handlers.get(name) || [];
      this.handlers.set(name, cb ? list.filter((h) => h !== cb) : []);
    }
  }
  emit(name, ...args) { for (const h of [...(this.handlers.get(name) || [])]) h(...args); }
  send(content) { window.__upscopeToKernel(JSON.stringify(content)); }
}
const host = {
  model: null,
  mount(state) {
    this.model = new Model(state);
    this.dispose = widget.initialize({ model: this.model });
    this.cleanup = widget.render({ model: this.model, el: document.getElementById("view") });
  },
  receive(text) {
    const msg = JSON.parse(text);
    if (msg.update) {
      for (const [k, v] of Object.entries(msg.update)) {
        this.model.state[k] = v;
        this.model.emit(`change:${k}`, this.model, v);
      }
    } else this.model.emit("msg:custom", msg.custom, []);
  },
  close() { this.cleanup?.(); this.dispose?.(); },
};
window.__upscope = host;
window.__upscopeReady = true;
</script></body></html>
"""


def _missing_playwright() -> ImportError:
    return ImportError(f"run_headless() needs Playwright, which comes with the 'headless' "
                       f"extra: {HEADLESS_EXTRA}")


def system_chromium() -> str | None:
    """Return the system's Chromium (or Chrome) executable, if there is one on ``PATH``."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _check_settings(viewport: Any, timeout: Any) -> tuple[int, int]:
    if (not isinstance(viewport, tuple) or len(viewport) != 2
            or not all(type(v) is int and 0 < v <= 10_000 for v in viewport)):
        raise ValueError(f"viewport={viewport!r} is not allowed: use (width, height) in pixels, "
                         "each an int from 1 to 10000, e.g. (1280, 800)")
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout) or timeout <= 0):
        raise ValueError(f"timeout={timeout!r} is not allowed: use a number of seconds > 0, "
                         "e.g. 30")
    return viewport


class HeadlessView:
    """The headless page that shows a session (what ``run_headless`` yields)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        """The Playwright ``Page``, for anything this class does not cover."""
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the page has been closed (the ``run_headless`` block has ended)."""
        return self._closed

    async def screenshot(self, path: str | os.PathLike[str] | None = None, *,
                         full_page: bool = False) -> bytes:
        """Return a PNG of the page, the session's iframe included; also write it to ``path``.

        In a notebook no page may read a cross-origin iframe's pixels; here the browser is
        ours, so an agent can see what it is doing.
        """
        if self._closed:
            raise RuntimeError("this headless view is closed: its run_headless() block ended")
        png: bytes = await self.page.screenshot(full_page=full_page)
        if path is not None:
            Path(path).write_bytes(png)
        return png


class _PageTransport:
    """Carries the session's messages to the page, in order (one evaluate at a time)."""

    def __init__(self, page: Any) -> None:
        self._page = page
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def send(self, message: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps({"custom": message}))

    def update(self, state: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps({"update": state}))

    async def _pump(self) -> None:
        while (text := await self._queue.get()) is not None:
            try:
                await self._page.evaluate("t => window.__upscope.receive(t)", text)
            except Exception:  # the page is going away: what is left has nowhere to go
                return

    async def aclose(self) -> None:
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, 5)
        except (asyncio.TimeoutError, Exception):
            self._task.cancel()


async def start_playwright() -> Any:
    """Start Playwright's async API; an ``ImportError`` naming the extra if it is missing."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise _missing_playwright() from None
    return await async_playwright().start()


async def launch_browser(playwright: Any,
                         executable_path: str | os.PathLike[str] | None = None) -> Any:
    """Start headless Chromium: ``executable_path``, else Playwright's own, else the system's.

    Raises ``RuntimeError`` naming every path tried and why, and how to get a browser.
    """
    tried: list[str] = []
    if executable_path is not None:
        candidates = [os.fspath(executable_path)]
    else:
        own = playwright.chromium.executable_path
        candidates = [own] if own and os.path.exists(own) else []
        tried += [] if candidates else [f"{own} (Playwright's own, not installed)"]
        system = system_chromium()
        if system:
            candidates.append(system)
    for path in candidates:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            tried.append(f"{path} (not an executable file)")
            continue
        try:
            return await playwright.chromium.launch(executable_path=path, headless=True,
                                                    args=list(LAUNCH_ARGS))
        except Exception as err:
            tried.append(f"{path} ({type(err).__name__}: {str(err).splitlines()[0][:200]})")
    raise RuntimeError(
        "no Chromium could be started for run_headless(): tried "
        + ("; ".join(tried) or "nothing (no system 'chromium' on PATH)")
        + ". Run `playwright install chromium`, install your system's chromium, or pass "
        "executable_path= (or a Playwright browser as browser=)."
    )


async def _allow_local_network(context: Any) -> None:
    """Let the page frame a link on this machine or network (``http://127.0.0.1:…``).

    The page is served by a route, so Chromium knows no address for it and treats it as
    public: its Local Network Access checks then block an iframe of a loopback or private
    address (``net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS``), as they would not in a
    notebook served from 127.0.0.1. Versions of Playwright that do not know the permission
    drive Chromiums that do not check.
    """
    with contextlib.suppress(Exception):
        await context.grant_permissions(["local-network-access"], origin=HOST)


@asynccontextmanager
async def run_headless(
    session: UpscopeSession,
    *,
    browser: Any = None,
    executable_path: str | os.PathLike[str] | None = None,
    viewport: tuple[int, int] = (1280, 800),
    timeout: float = 30.0,
) -> AsyncIterator[HeadlessView]:
    """Show ``session`` in a page of headless Chromium for the block (see the module doc)."""
    width, height = _check_settings(viewport, timeout)

    playwright = None
    own_browser = None
    context = None
    transport: _PageTransport | None = None
    detach = None
    observer = None
    view: HeadlessView | None = None
    try:
        if browser is None:
            playwright = await start_playwright()
            own_browser = await launch_browser(playwright, executable_path)
            browser = own_browser
        context = await browser.new_context(viewport={"width": width, "height": height})
        await _allow_local_network(context)
        page = await context.new_page()

        async def serve(route: Any) -> None:
            path = route.request.url[len(HOST):].split("?", 1)[0]
            if path in ("/", "/index.html"):
                await route.fulfill(body=_PAGE, content_type="text/html")
            elif path in ("/static/widget.js", "/static/widget.css"):
                kind = "text/javascript" if path.endswith(".js") else "text/css"
                await route.fulfill(body=(_STATIC / path.rsplit("/", 1)[1]).read_bytes(),
                                    content_type=kind)
            else:
                await route.fulfill(status=404, body="not found")

        await page.route(f"{HOST}/**", serve)
        await page.expose_binding(
            "__upscopeToKernel",
            lambda _source, text: session.receive_frontend_message(json.loads(text)),
        )
        transport = _PageTransport(page)
        detach = session.attach_transport(transport)
        synced = [name for name in session.keys if name not in _NOT_SENT]

        def observer(change: dict[str, Any]) -> None:
            assert transport is not None
            name = change["name"]
            transport.update(session.get_state(name))

        session.observe(observer, names=synced)
        steps = f"within timeout={timeout:g} s"
        try:
            await page.goto(f"{HOST}/index.html", timeout=timeout * 1000)
            await page.wait_for_function("window.__upscopeReady === true",
                                         timeout=timeout * 1000)
        except Exception as err:
            raise TimeoutError(f"the headless page did not load {steps}: {err}") from None
        state = session.get_state(synced)
        await page.evaluate("s => window.__upscope.mount(JSON.parse(s))", json.dumps(state))
        deadline = asyncio.get_running_loop().time() + timeout
        while not session.frontend_connected:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the widget's frontend started but did not connect to the "
                                   f"session {steps}")
            await asyncio.sleep(0.01)
        view = HeadlessView(page)
        yield view
    finally:
        if view is not None:
            view._closed = True
        if observer is not None:
            session.unobserve(observer)
        if detach is not None:
            detach()
        if transport is not None:
            await transport.aclose()
        if view is not None:
            # as a closing tab does: the page says what it posted and lets the session go
            with contextlib.suppress(Exception):  # the page is gone already
                await view.page.evaluate("window.dispatchEvent(new Event('pagehide'))")
        if context is not None:
            with contextlib.suppress(Exception):  # the browser went first
                await context.close()
        if own_browser is not None:
            await own_browser.close()
        if playwright is not None:
            await playwright.stop()
