"""A hostile or broken service cannot break the REST client's error contract.

Whatever the service answers — absurd headers, endless or trickled bodies, JSON nested 100,000
deep, bytes in no known encoding, the API key echoed back — every failure is an
``UpscopeAPIError`` that says what happened, nothing the client keeps is unbounded, ``timeout``
bounds the whole request, and the key never shows. Each test runs the blocking client and the
asyncio client against a real local server.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from support.aio import run as run_in_thread
from upscope_widget.rest import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_TEXT_CHARS,
    AsyncUpscopeClient,
    AuthenticationError,
    RateLimitedError,
    UnexpectedResponseError,
    UpscopeAPIError,
    UpscopeClient,
    UpscopeConnectionError,
    UpscopeHTTPError,
    UpscopeTimeoutError,
    _answers,
    _core,
)

KEY = "hk-7Q2x/9+Zr=w1"
KEY_IN_URL = "hk-7Q2x%2F9%2BZr%3Dw1"
WATCH = "https://app.upscope.io/w/abc123"
WATCH_PATH = "/v1.3/visitors/abc123/watch_url"
ALL = re.compile(".*")
KINDS = ["sync", "async"]
#: Longest message any failure here may have: enough to explain, never the whole answer.
MESSAGE_LIMIT = 2_000

Op = Callable[[Any], Any]
OPS: dict[str, Op] = {
    "watch": lambda c: c.watch_url("abc123", agent_id="1", agent_name="A"),
    "find": lambda c: c.find_visitors("x"),
    "get": lambda c: c.get_visitor("abc123"),
}


def base(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def outcome(kind: str, url: str, op: str = "watch", **options: Any) -> Any:
    """Make the call `op` with a fresh client of `kind`; return its result or its UpscopeAPIError.

    Any other exception propagates (and fails the test): that is the contract under test.
    """
    options.setdefault("backoff", 0)
    options.setdefault("max_retries", 0)
    if kind == "sync":
        with UpscopeClient(KEY, base_url=url, **options) as client:
            try:
                return OPS[op](client)
            except UpscopeAPIError as err:
                return err

    async def main() -> Any:
        async with AsyncUpscopeClient(KEY, base_url=url, **options) as client:
            try:
                result: Awaitable[Any] = OPS[op](client)
                return await result
            except UpscopeAPIError as err:
                return err

    return run_in_thread(main())


def failure(kind: str, url: str, op: str = "watch", **options: Any) -> UpscopeAPIError:
    result = outcome(kind, url, op, **options)
    assert isinstance(result, UpscopeAPIError), f"expected an UpscopeAPIError, got {result!r}"
    assert len(str(result)) < MESSAGE_LIMIT
    return result


def kept_text(err: UpscopeAPIError) -> str:
    """Everything the error keeps, as one text: message, args, repr, body, error code."""
    parts = [str(err), repr(err), repr(err.args), repr(err.body), repr(vars(err))]
    return "\n".join(parts)


class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with `reply(conn, stop)`.

    It serves connections one after the other in one thread and stops by itself after
    `lifetime` seconds at the latest, so a client that never gives up cannot hang the test.
    """

    def __init__(self, reply: Callable[[socket.socket, threading.Event], None]) -> None:
        self.reply = reply
        self.stop = threading.Event()
        self.replies_done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, name="raw-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        ends = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    read_request(conn)
                    self.reply(conn, self.stop)
                except OSError:
                    pass
            self.replies_done.set()

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    missing = int(length.group(1)) - len(rest) if length else 0
    while missing > 0:
        chunk = conn.recv(min(missing, 4096))
        if not chunk:
            break
        missing -= len(chunk)
    return data


def trickle(conn: socket.socket, stop: threading.Event, data: bytes, every: float) -> None:
    """Send `data` one byte every `every` seconds until the client hangs up or the test ends."""
    for i in range(len(data)):
        if stop.wait(every):
            return
        conn.sendall(data[i : i + 1])


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], str]]:
    servers: list[RawServer] = []

    def start(reply: Callable[[socket.socket, threading.Event], None]) -> str:
        server = RawServer(reply).__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture(autouse=True)
def _no_upscope_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("UPSCOPE_API_BASE_URL", raising=False)


# --- Retry-After -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "value",
    [
        "9" * 400,  # float(int(...)) overflowed
        "9" * 5000,  # int() refused: more digits than Python converts
        "\u00b2",  # "²" is a digit to str.isdigit, not to int()
        "1\u00ff",
        "-5",
        "1.5",
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # OverflowError in the date parser
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Tue, 99 Feb 2030 00:00:00 GMT",
        "x" * 5000,
    ],
)
def test_unusable_retry_after_is_none(httpserver, kind, value):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        "slow down", 429, headers={"Retry-After": value}
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, RateLimitedError)
    assert err.retry_after is None
    assert "try again later" in str(err)


@pytest.mark.parametrize("kind", KINDS)
def test_usable_retry_after_still_read(httpserver, kind):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        "", 429, headers={"Retry-After": " 42 "}
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 42.0
    assert "try again in 42 s" in str(err)


# --- JSON nested too deep --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("status", "data"),
    [
        (200, "[" * 100_000),  # RecursionError in the JSON parser
        (500, "[" * 100_000),
        (200, '{"watch_url": ' + "[" * 500 + "]" * 500 + "}"),  # valid, but absurdly deep
        (400, '{"error": "x", "d": ' + "[" * 500 + "]" * 500 + "}"),
    ],
)
def test_json_nested_too_deep(httpserver, kind, status, data):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        data, status, content_type="application/json"
    )

    err = failure(kind, base(httpserver))

    assert err.status_code == status
    if status == 200:
        assert isinstance(err, UnexpectedResponseError)
    else:
        assert isinstance(err, UpscopeHTTPError)
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in str(err)
    assert isinstance(err.body, str) and len(err.body) <= MAX_TEXT_CHARS + 100
    repr(err.body)  # the kept body is printable, however deep the answer was


@pytest.mark.parametrize("kind", KINDS)
def test_json_at_the_depth_limit_is_read(httpserver, kind):
    nested: Any = "deep"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    body = {"status": "error", "error": "bad_request", "detail": nested}
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=400)

    err = failure(kind, base(httpserver))

    assert isinstance(err, UpscopeHTTPError)
    assert err.body == body
    assert err.error_code == "bad_request"


# --- bodies too large ------------------------------------------------------------------------


class Endless:
    """A handler streaming `total` bytes of `fill` and counting how many the server produced."""

    def __init__(self, status: int, total: int, declare_length: bool = False) -> None:
        self.status = status
        self.total = total
        self.declare_length = declare_length
        self.produced = 0
        self.finished = threading.Event()

    def __call__(self, request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            chunk = b"x" * 65536
            try:
                while self.produced < self.total:
                    self.produced += len(chunk)
                    yield chunk
            finally:
                self.finished.set()

        headers = {"Content-Length": str(self.total)} if self.declare_length else {}
        return Response(chunks(), self.status, headers=headers, content_type="text/plain")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "declare_length"), [(200, False), (500, False), (200, True)])
def test_huge_body_is_not_read_whole(httpserver, kind, status, declare_length):
    total = 100 * 1024 * 1024
    endless = Endless(status, total, declare_length)
    httpserver.expect_request(WATCH_PATH).respond_with_handler(endless)

    started = time.monotonic()
    err = failure(kind, base(httpserver))

    assert endless.finished.wait(30), "the server kept streaming: the client did not hang up"
    assert endless.produced < total // 2, f"the server had to produce {endless.produced} bytes"
    assert time.monotonic() - started < 30
    assert err.status_code == status
    assert isinstance(err, UnexpectedResponseError if status == 200 else UpscopeHTTPError)
    assert "larger than 1 MiB" in str(err)
    if declare_length:
        assert f"{total} bytes" in str(err)
    assert isinstance(err.body, str)
    assert err.body.startswith("xxxx")
    assert len(err.body) <= MAX_TEXT_CHARS + 100
    assert "not read" in err.body


@pytest.mark.parametrize("kind", KINDS)
def test_json_just_under_the_body_cap_is_read(httpserver, kind):
    filler = "y" * (MAX_BODY_BYTES - 200)
    body = {"status": "error", "error": "bad_request", "filler": filler}
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=400)

    err = failure(kind, base(httpserver))

    assert err.body == body
    assert err.error_code == "bad_request"
    assert filler not in str(err)


@pytest.mark.parametrize("kind", KINDS)
def test_long_text_body_is_cut_with_a_note(httpserver, kind):
    text = "error line\n" * 50_000  # 550 kB: read, but not all of it kept
    httpserver.expect_request(WATCH_PATH).respond_with_data(text, 502, content_type="text/plain")

    err = failure(kind, base(httpserver))

    assert isinstance(err, UpscopeHTTPError)
    assert err.status_code == 502
    assert isinstance(err.body, str)
    assert err.body.startswith("error line\nerror line\n")
    assert len(err.body) <= MAX_TEXT_CHARS + 100
    assert f"{len(text) - MAX_TEXT_CHARS} more characters not kept" in err.body


@pytest.mark.parametrize("kind", KINDS)
def test_compression_bomb_is_not_inflated(httpserver, kind):
    inflated = 64 * 1024 * 1024
    bomb = gzip.compress(b"\0" * inflated, compresslevel=9)  # about 64 kB on the wire
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        bomb, 200, headers={"Content-Encoding": "gzip"}, content_type="application/json"
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, UnexpectedResponseError)
    assert "larger than 1 MiB" in str(err)
    assert isinstance(err.body, str) and len(err.body) <= MAX_TEXT_CHARS + 100


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
        ("identity", bytes),
    ],
)
def test_compressed_answer_is_still_read(httpserver, kind, encoding, pack):
    # The client asks for no compression, but a service that compresses anyway is understood.
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        pack(json.dumps({"watch_url": WATCH}).encode()),
        200,
        headers={"Content-Encoding": encoding},
        content_type="application/json",
    )

    assert outcome(kind, base(httpserver)) == WATCH
    [request] = [r for r, _ in httpserver.log]
    assert request.headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("encoding", "data", "needle"),
    [
        ("gzip", b"not gzip at all", "could not be decoded"),
        ("br", b"\x8b\x00\x80{}\x03", "'br'"),
        ("zz-unknown", b"{}", "'zz-unknown'"),
    ],
)
def test_undecodable_compressed_answer(httpserver, kind, encoding, data, needle):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        data, 200, headers={"Content-Encoding": encoding}, content_type="application/json"
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, UnexpectedResponseError)
    assert needle in str(err)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024])
def test_answers_read_before_the_client_reads_them(httpserver, kind, size):
    # A response hook of your own http_client that reads the answer, and a mock transport
    # (whose answers come read): the body is taken as it is, and still capped.
    answer = {"watch_url": WATCH, "pad": "p" * size}
    httpserver.expect_request(WATCH_PATH).respond_with_json(answer)
    hooked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    if kind == "sync":

        def read_it(response: httpx.Response) -> None:
            hooked.append(len(response.read()))

        with (
            httpx.Client(event_hooks={"response": [read_it]}) as http,
            UpscopeClient(KEY, base_url=base(httpserver), http_client=http) as hooked_client,
            UpscopeClient(KEY, transport=httpx.MockTransport(handler)) as mocked_client,
        ):
            results = []
            for client in (hooked_client, mocked_client):
                try:
                    results.append(OPS["watch"](client))
                except UpscopeAPIError as err:
                    results.append(err)
    else:

        async def aread_it(response: httpx.Response) -> None:
            hooked.append(len(await response.aread()))

        async def main() -> list[Any]:
            found: list[Any] = []
            async with (
                httpx.AsyncClient(event_hooks={"response": [aread_it]}) as http,
                AsyncUpscopeClient(KEY, base_url=base(httpserver), http_client=http) as via_hook,
                AsyncUpscopeClient(KEY, transport=httpx.MockTransport(handler)) as via_mock,
            ):
                for client in (via_hook, via_mock):
                    try:
                        found.append(await OPS["watch"](client))
                    except UpscopeAPIError as err:
                        found.append(err)
            return found

        results = run_in_thread(main())

    assert len(hooked) == 1
    for result in results:
        if size < MAX_BODY_BYTES:
            assert result == WATCH
        else:
            assert isinstance(result, UnexpectedResponseError)
            assert "larger than 1 MiB" in str(result)
            assert len(result.body) <= MAX_TEXT_CHARS + 100


# --- the total deadline ----------------------------------------------------------------------

SLOW_BODY = b"x" * 60  # one byte every 0.2 s: 12 s in all


def trickled_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(SLOW_BODY)}\r\n\r\n".encode()
    )
    trickle(conn, stop, SLOW_BODY, 0.2)


def trickled_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    trickle(conn, stop, b"X-Slow: " + b"s" * 60 + b"\r\nContent-Length: 0\r\n\r\n", 0.2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reply", [trickled_body, trickled_headers])
@pytest.mark.parametrize("op", ["watch", "get"])
def test_timeout_bounds_the_whole_request(raw_server, kind, reply, op):
    url = raw_server(reply)

    started = time.monotonic()
    err = failure(kind, url, op, timeout=1.0)
    elapsed = time.monotonic() - started

    assert isinstance(err, UpscopeTimeoutError)
    assert elapsed < 6, f"a 1 s timeout held the call for {elapsed:.1f} s"
    assert "within 1 s" in str(err)
    assert err.status_code is None


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_bounds_a_request_on_a_reused_connection(raw_server, kind):
    # The second call goes out on the connection the first one left open; its answer trickles.
    answer = json.dumps({"watch_url": WATCH}).encode()

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )
        read_request(conn)
        trickled_headers(conn, stop)

    url = raw_server(reply)
    timings: list[float] = []

    async def two_calls_async() -> list[Any]:
        async with AsyncUpscopeClient(KEY, base_url=url, timeout=1.0, max_retries=0) as client:
            results: list[Any] = [await OPS["watch"](client)]
            started = time.monotonic()
            try:
                results.append(await OPS["watch"](client))
            except UpscopeAPIError as err:
                results.append(err)
            timings.append(time.monotonic() - started)
            return results

    if kind == "sync":
        with UpscopeClient(KEY, base_url=url, timeout=1.0, max_retries=0) as client:
            results: list[Any] = [OPS["watch"](client)]
            started = time.monotonic()
            try:
                results.append(OPS["watch"](client))
            except UpscopeAPIError as err:
                results.append(err)
            timings.append(time.monotonic() - started)
    else:
        results = run_in_thread(two_calls_async())

    assert results[0] == WATCH
    assert isinstance(results[1], UpscopeTimeoutError)
    assert timings[0] < 6, f"a 1 s timeout held the call for {timings[0]:.1f} s"


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_given_as_httpx_timeout_bounds_the_request_by_its_largest_value(raw_server, kind):
    url = raw_server(trickled_body)

    started = time.monotonic()
    err = failure(kind, url, timeout=httpx.Timeout(0.5, connect=1.5))
    elapsed = time.monotonic() - started

    assert isinstance(err, UpscopeTimeoutError)
    assert elapsed < 6
    assert "within 1.5 s" in str(err)


@pytest.mark.parametrize("kind", KINDS)
def test_slow_but_timely_answer_arrives(raw_server, kind):
    answer = json.dumps({"watch_url": WATCH}).encode()

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer[:10]
        )
        stop.wait(0.3)
        conn.sendall(answer[10:])

    assert outcome(kind, raw_server(reply), timeout=30) == WATCH


@pytest.mark.parametrize("kind", KINDS)
def test_get_retried_after_a_trickled_answer(raw_server, kind):
    answers = iter([None, json.dumps({"short_id": "abc123"}).encode()])

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        answer = next(answers)
        if answer is None:
            trickled_body(conn, stop)
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )

    visitor = outcome(kind, raw_server(reply), "get", timeout=1.0, max_retries=1)

    assert visitor.short_id == "abc123"


# --- the key is redacted wherever the answer is kept -----------------------------------------


def escaped(text: str) -> str:
    """`text` as a JSON string whose every character is a \\u escape (the raw bytes hide it)."""
    return '"' + "".join(f"\\u{ord(c):04x}" for c in text) + '"'


ECHOES = [
    (401, f'{{"status": "error", "error": "bad key {KEY}"}}', "application/json"),
    (400, f'{{"error": "x", "{KEY}": ["{KEY}", {{"k": "{KEY}"}}]}}', "application/json"),
    (400, f'{{"error": {escaped(KEY)}, "again": {escaped("key=" + KEY)}}}', "application/json"),
    (500, f"internal error for key {KEY} ({KEY_IN_URL})", "text/plain"),
    (200, f'{{"status": "{KEY}"}}', "application/json"),
    (200, f"<p>{KEY}</p>", "text/html"),
    (404, f'{{"error": "not_found", "key": "{KEY}"}}', "application/json"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "data", "content_type"), ECHOES)
def test_echoed_key_is_redacted_everywhere(httpserver, kind, status, data, content_type):
    httpserver.expect_request(ALL).respond_with_data(data, status, content_type=content_type)

    for op in ("watch", "get", "find"):
        err = failure(kind, base(httpserver), op)
        kept = kept_text(err)
        assert KEY not in kept and KEY_IN_URL not in kept
        assert "***" in repr(err.body)
        if getattr(err, "error_code", None) is not None:
            assert KEY not in err.error_code


@pytest.mark.parametrize("kind", KINDS)
def test_echoed_key_is_redacted_in_answers_returned(httpserver, kind):
    httpserver.expect_request("/v1.3/list").respond_with_json(
        {"visitors": [{"short_id": "a", "call_name": f"echo {KEY}", KEY: KEY}]}
    )

    [visitor] = outcome(kind, base(httpserver), "find")

    assert visitor.call_name == "echo ***"
    assert visitor.model_extra == {"***": "***"}
    assert KEY not in repr(visitor)


@pytest.mark.parametrize("kind", KINDS)
def test_key_cut_in_half_by_the_kept_text_cap_does_not_show(httpserver, kind):
    # The cap on kept text falls in the middle of an echoed key: no part of it is kept.
    data = b"y" * (MAX_TEXT_CHARS - 7) + KEY.encode() * 3 + b"z" * MAX_BODY_BYTES
    httpserver.expect_request(WATCH_PATH).respond_with_data(data, 500)

    err = failure(kind, base(httpserver))

    assert KEY[:5] not in kept_text(err)


# --- other ways to break the contract --------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("charset", ["rot13", "hex", "idna", "punycode", "base64", "no-such"])
def test_body_in_a_bogus_charset(httpserver, kind, charset):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        b"\xff\xfe oops", 500, content_type=f"text/plain; charset={charset}"
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, UpscopeHTTPError)
    assert err.body == "\ufffd\ufffd oops"


@pytest.mark.parametrize("kind", KINDS)
def test_body_that_is_not_utf8(httpserver, kind):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        b'{"watch_url": "\xff"}', 200, content_type="application/json"
    )

    err = failure(kind, base(httpserver))

    assert isinstance(err, UnexpectedResponseError)
    assert "not with a JSON object" in str(err)
    assert err.body == '{"watch_url": "\ufffd"}'


@pytest.mark.parametrize("kind", KINDS)
def test_latin1_body_with_its_charset(httpserver, kind):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        "Fehler: Zähler".encode("latin-1"), 503, content_type="text/plain; charset=ISO-8859-1"
    )

    err = failure(kind, base(httpserver))

    assert err.body == "Fehler: Zähler"


@pytest.mark.parametrize("kind", KINDS)
def test_huge_response_headers(raw_server, kind):
    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n")

    err = failure(kind, raw_server(reply))

    assert isinstance(err, UpscopeConnectionError)
    assert "a" * 1000 not in str(err)


@pytest.mark.parametrize("kind", KINDS)
def test_absurd_watch_url_gives_a_short_message(httpserver, kind):
    absurd = "a" * 500_000 + ":rest"  # all of it is the "scheme"
    httpserver.expect_request(WATCH_PATH).respond_with_json({"watch_url": absurd})

    err = failure(kind, base(httpserver))

    assert isinstance(err, UnexpectedResponseError)
    assert "characters long; the limit is 8192" in str(err)
    assert len(str(err)) < 1000
    assert err.body == {"watch_url": absurd}


@pytest.mark.parametrize("kind", KINDS)
def test_absurd_error_string_gives_a_short_message(httpserver, kind):
    code = "e" * 500_000
    httpserver.expect_request(WATCH_PATH).respond_with_json({"error": code}, status=401)

    err = failure(kind, base(httpserver))

    assert isinstance(err, AuthenticationError)
    assert err.error_code == code
    assert "HTTP 401 'eeee" in str(err)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("op", "status", "payload", "cls", "needle"),
    [
        ("watch", 200, {"watch_url": ["https://x.io"]}, UnexpectedResponseError, "is a list"),
        ("watch", 200, {"watch_url": None}, UnexpectedResponseError, "is a NoneType"),
        ("watch", 200, None, UnexpectedResponseError, "not with a JSON object"),
        ("watch", 200, "https://x.io", UnexpectedResponseError, "not with a JSON object"),
        ("find", 200, {"visitors": [1]}, UnexpectedResponseError, "visitors[0]"),
        ("find", 200, {"visitors": "all"}, UnexpectedResponseError, "'visitors' list"),
        ("get", 200, {"visitor": []}, UnexpectedResponseError, "short_id"),
        ("get", 200, {"short_id": ["a"]}, UnexpectedResponseError, "short_id"),
        ("get", 200, {"short_id": "a", "is_online": {}}, UnexpectedResponseError, "is_online"),
        ("watch", 401, {"error": ["invalid_api_key"]}, AuthenticationError, "HTTP 401 on POST"),
        ("watch", 401, {"error": None}, AuthenticationError, "HTTP 401 on POST"),
        ("find", 400, [1, 2, 3], UpscopeHTTPError, "[1, 2, 3]"),
        ("find", 400, 12345, UpscopeHTTPError, "12345"),
    ],
)
def test_answers_of_the_wrong_json_types(httpserver, kind, op, status, payload, cls, needle):
    httpserver.expect_request(ALL).respond_with_json(payload, status=status)

    err = failure(kind, base(httpserver), op)

    assert type(err) is cls
    assert needle in str(err)
    assert err.body == payload


# --- any answer at all: property tests of the answer handling both clients share -------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.just(KEY),
    st.just(f"key={KEY};"),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.just(KEY)), inner, max_size=4),
    ),
    max_leaves=30,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=True).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.text(max_size=200).map(lambda t: (t + KEY + t).encode("utf-8")),
)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "text/plain; charset=utf-8",
        "text/plain; charset=utf-16",
        "text/html; charset=latin-1",
        "text/plain; charset=rot13",
        'text/plain; charset="no-such"',
        "text/plain; charset=",
    ]
)
CALLS = st.sampled_from(
    [
        _core.watch_url_call(
            "abc123",
            agent_id="1",
            agent_name="A",
            naked="page_only",
            permissions=None,
            metadata=None,
            retry_url=None,
            on_end_url=None,
        ),
        _core.find_visitors_call("x", max_results=None),
        _core.get_visitor_call("abc123"),
    ]
)
PARSERS = {
    "POST": _answers.parse_watch_url,
    "GET /v1.3/list": _answers.parse_visitors,
    "GET /v1.3/visitors/abc123": _answers.parse_visitor,
}


@settings(max_examples=300, deadline=None)
@given(
    call=CALLS,
    status=st.one_of(
        st.sampled_from([200, 201, 400, 401, 402, 404, 429, 500]), st.integers(100, 599)
    ),
    content=BODIES,
    content_type=CONTENT_TYPES,
    retry_after=st.one_of(st.none(), st.text(max_size=80), st.integers(0, 10**30).map(str)),
    cut=st.booleans(),
)
def test_any_answer_gives_a_result_or_an_upscope_error(
    call, status, content, content_type, retry_after, cut
):
    core = _core.Core(
        api_key=KEY,
        base_url="https://api.upscope.io",
        version="v1.3",
        timeout=10.0,
        max_retries=0,
        backoff=0,
        max_backoff=30,
    )
    headers = httpx.Headers(
        {
            **({"Content-Type": content_type} if content_type is not None else {}),
            # as bytes, the way they come off the wire: httpx decodes them as it can
            **({"Retry-After": retry_after.encode()} if retry_after is not None else {}),
        }
    )
    problem = "is larger than 1 MiB (1048576 bytes), the most this client reads" if cut else None
    answer = _core.Answer(status, headers, content, problem, cut)

    result = core.outcome(call, answer, attempts=1)
    if isinstance(result, _core.Reply):
        key = "POST" if call.method == "POST" else f"GET {result.path}"
        try:
            result = PARSERS[key](result)
        except UpscopeAPIError as err:
            result = err

    if isinstance(result, UpscopeAPIError):
        assert KEY not in kept_text(result)
        assert len(str(result)) < MESSAGE_LIMIT
        if isinstance(result, RateLimitedError) and result.retry_after is not None:
            assert result.retry_after >= 0
    else:
        assert KEY not in repr(result)
