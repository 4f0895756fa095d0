"""Drive the real UpscopeSession and the real built widget.js together in headless Chromium.

Three origins on 127.0.0.1: A hosts the page that mounts the widget (with a stand-in for
anywidget's runtime), B serves the protocol-speaking test iframe (the "watch link"), C is a
third origin for navigation and forgery tests. Python <-> page messages are carried by a
RecordingComm (kernel side) and a Playwright binding (frontend side), pumped explicitly.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.fakecomm import RecordingComm, recording_comms
from support.frames import find_frame
from upscope_widget import UpscopeSession

PAGES = Path(__file__).parents[1] / "browser" / "pages"
STATIC = Path(__file__).parents[2] / "src" / "upscope_widget" / "static"


class _Handler(SimpleHTTPRequestHandler):
    """Serves PAGES, and /static/ from the package; ``?delay=ms`` holds the answer back."""

    def translate_path(self, path: str) -> str:
        route = urlsplit(path).path
        if route.startswith("/static/"):
            return str(STATIC / route[len("/static/"):])
        return str(PAGES / route.lstrip("/"))

    def do_GET(self) -> None:
        delay = parse_qs(urlsplit(self.path).query).get("delay")
        if delay:
            time.sleep(int(delay[0]) / 1000)
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve() -> Iterator[str]:
    """Serve the test pages on a fresh 127.0.0.1 port; yields the origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class WidgetHarness:
    """One page (origin A) with the widget mounted for a real UpscopeSession."""

    def __init__(self, page: Any, host: str, frame_origin: str, other_origin: str) -> None:
        self.page = page
        self.host = host
        self.frame_origin = frame_origin
        self.other_origin = other_origin
        self.inbox: list[Any] = []
        self.frontend_log: list[Any] = []  # every message the frontend sent, in order
        self.page_errors: list[str] = []
        self.session: UpscopeSession | None = None
        self.comm: RecordingComm | None = None
        self._delivered = 0
        # more frontends (other pages) showing the same session, each with its own cursor
        # into what the kernel sent: a frontend gets what was sent after it connected
        self.others: list[tuple[Any, list[int]]] = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.expose_binding("__toKernel", lambda _source, text: self.inbox.append(json.loads(text)))
        self.open_page()

    # --- page lifecycle ------------------------------------------------------------------------

    def open_page(self) -> None:
        """(Re)load the host page: a new frontend with no memory of earlier messages."""
        self.page.goto(f"{self.host}/host.html")
        self.page.wait_for_function("window.harnessReady === true")
        self._delivered = len(self.comm.sent) if self.comm else 0

    def frame_url(self, delay_ms: int = 0, origin: str | None = None) -> str:
        url = f"{origin or self.frame_origin}/frame.html"
        return f"{url}?delay={delay_ms}" if delay_ms else url

    def create(self, make: Callable[[], UpscopeSession]) -> UpscopeSession:
        with recording_comms() as comms:
            self.session = make()
        self.comm = comms[-1]
        self._delivered = len(self.comm.sent)
        return self.session

    def mount(self, views: int = 1) -> None:
        """Create the frontend model from the session's synced state, and ``views`` views."""
        assert self.comm is not None and self.comm.opened is not None
        self.page.evaluate("s => harness.mount(s)", self.comm.opened["state"])
        for _ in range(views):
            self.add_view()
        self.pump()

    def add_frontend(self, views: int = 1) -> Any:
        """Open a second page on the same session (another browser tab); returns the page."""
        assert self.session is not None and self.comm is not None
        page = self.page.context.new_page()
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.expose_binding("__toKernel", lambda _source, text: self.inbox.append(json.loads(text)))
        page.goto(f"{self.host}/host.html")
        page.wait_for_function("window.harnessReady === true")
        cursor = [len(self.comm.sent)]
        self.others.append((page, cursor))
        state = {k: v for k, v in self.session.get_state().items()
                 if isinstance(v, (str, int, list))}
        page.evaluate("s => harness.mount(s)", state)
        for _ in range(views):
            page.evaluate("harness.addView()")
        self.pump()
        return page

    def add_view(self) -> int:
        index: int = self.page.evaluate("harness.addView()")
        self.pump()
        return index

    def remove_view(self, index: int) -> None:
        self.page.evaluate("i => harness.removeView(i)", index)
        self.pump()

    # --- message pumping -----------------------------------------------------------------------

    def pump(self) -> None:
        """Carry messages both ways until neither side has anything new."""
        assert self.comm is not None
        for _ in range(100):
            moved = False
            while self._delivered < len(self.comm.sent):
                msg = self.comm.sent[self._delivered]
                self._delivered += 1
                moved = True
                self._deliver(self.page, msg)
            for page, cursor in self.others:
                while cursor[0] < len(self.comm.sent):
                    msg = self.comm.sent[cursor[0]]
                    cursor[0] += 1
                    moved = True
                    self._deliver(page, msg)
            while self.inbox:
                content = self.inbox.pop(0)
                self.frontend_log.append(content)
                self.comm.from_frontend(content)
                moved = True
            if not moved:
                return

    @staticmethod
    def _deliver(page: Any, msg: dict[str, Any]) -> None:
        if msg.get("method") == "custom":
            page.evaluate("c => harness.fromKernel(c)", msg["content"])
        elif msg.get("method") == "update":
            page.evaluate("s => harness.update(s)", msg["state"])

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0,
                   what: str = "condition") -> Any:
        """Pump and let the browser run until ``predicate()`` is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; page errors: "
                    f"{self.page_errors}; notices: {self.session.notices if self.session else None}"
                )
            self.page.wait_for_timeout(10)

    def settle(self, ms: int = 400) -> None:
        """Let the browser and the lazy flush run for ``ms``, pumping all the while."""
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            self.pump()
            self.page.wait_for_timeout(20)
        self.pump()

    # --- the session iframe --------------------------------------------------------------------

    def session_frame(self, origin: str | None = None) -> Any:
        """The Playwright frame of the widget's iframe (waits until it has loaded)."""
        want = origin or self.frame_origin

        def find() -> Any:
            return find_frame(self.page, want + "/frame.html", "typeof window.post === 'function'")

        return self.wait_until(find, what=f"the session iframe from {want}")

    def stranger_frame(self) -> Any:
        """Add a protocol-speaking iframe (origin C) that is no session's, once it has loaded."""
        handle = self.page.evaluate_handle(
            """origin => new Promise((ok) => {
                 const f = document.createElement('iframe');
                 f.src = origin + '/frame.html';
                 f.onload = () => ok(f);
                 document.body.append(f);
               })""",
            self.other_origin,
        )
        return handle.as_element().content_frame()

    def received(self, frame: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = frame.evaluate("window.received")
        return result

    def frame_count(self) -> int:
        count: int = self.page.evaluate("document.querySelectorAll('iframe.upscope-frame').length")
        return count
