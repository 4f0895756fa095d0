"""The asyncio REST client against a real local HTTP server (no pytest-asyncio: asyncio.run)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from support.aio import run as run_in_thread
from upscope_widget.rest import (
    APINotEnabledError,
    AsyncUpscopeClient,
    AuthenticationError,
    ContactTeamError,
    InvalidAPIKeyError,
    MissingAPIKeyError,
    NoSubscriptionError,
    PlanLimitError,
    RateLimitedError,
    UnexpectedResponseError,
    UpscopeConnectionError,
    UpscopeHTTPError,
    UpscopeTimeoutError,
    Visitor,
    VisitorNotFoundError,
)

KEY = "rest-key-async-3b9d"
WATCH = "https://app.upscope.io/w/abc123"
WATCH_PATH = "/v1.3/visitors/abc123/watch_url"
ALL = re.compile(".*")
T = TypeVar("T")


def base(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def sent(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log]


def raw_path(request: Request) -> str:
    return str(request.environ["RAW_URI"]).split("?", 1)[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run(
    server_or_url: HTTPServer | str,
    use: Callable[[AsyncUpscopeClient], Awaitable[T]],
    **options: Any,
) -> T:
    """Make an async client, run `use(client)` in a fresh event loop, close the client."""
    url = server_or_url if isinstance(server_or_url, str) else base(server_or_url)
    options.setdefault("backoff", 0)

    async def main() -> T:
        async with AsyncUpscopeClient(KEY, base_url=url, **options) as client:
            return await use(client)

    return run_in_thread(main())


@pytest.fixture(autouse=True)
def _no_upscope_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("UPSCOPE_API_BASE_URL", raising=False)


@pytest.fixture
def slow_server() -> Iterator[tuple[HTTPServer, list[int]]]:
    """A threaded server that holds the first two requests until the test ends."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    release = threading.Event()
    calls: list[int] = []
    lock = threading.Lock()

    def handle(request: Request) -> Response:
        with lock:
            calls.append(1)
            number = len(calls)
        if number <= 2:
            release.wait(10)
        return Response(json.dumps({"short_id": "abc123"}), 200, content_type="application/json")

    server.expect_request(ALL).respond_with_handler(handle)
    server.start()
    yield server, calls
    release.set()
    server.clear()
    server.stop()


def test_watch_url(httpserver):
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    url = run(
        httpserver,
        lambda c: c.watch_url(
            "abc123",
            agent_id="42",
            agent_name="Ada",
            permissions={"allow_audio": False},
            metadata={"ticket": "T-42"},
            retry_url="https://e.com/r",
        ),
    )

    assert url == WATCH
    [request] = sent(httpserver)
    assert (request.method, raw_path(request), request.query_string) == ("POST", WATCH_PATH, b"")
    assert request.headers["X-Api-Key"] == KEY
    assert json.loads(request.get_data()) == {
        "agent": {"id": "42", "name": "Ada"},
        "branding": {"naked": "page_only", "retry_url": "https://e.com/r"},
        "permissions": {"allow_audio": False},
        "metadata": {"ticket": "T-42"},
    }


def test_visitor_id_is_encoded(httpserver):
    httpserver.expect_request(ALL).respond_with_json({"short_id": "a/b"})

    run(httpserver, lambda c: c.get_visitor("../a/b"))

    assert raw_path(sent(httpserver)[0]) == "/v1.3/visitors/..%2Fa%2Fb"


def test_find_visitors_and_get_visitor(httpserver):
    httpserver.expect_request("/v1.3/list", method="GET").respond_with_json(
        {"status": "ok", "visitors": [{"short_id": "abc123", "device_type": "desktop"}]}
    )
    httpserver.expect_request("/v1.3/visitors/abc123", method="GET").respond_with_json(
        {"short_id": "abc123", "is_in_session": False}
    )

    async def use(client: AsyncUpscopeClient) -> tuple[list[Visitor], Visitor]:
        return await client.find_visitors("ada", max_results=3), await client.get_visitor("abc123")

    found, one = run(httpserver, use)

    assert [(v.short_id, v.device_type) for v in found] == [("abc123", "desktop")]
    assert one.is_in_session is False
    first, second = sent(httpserver)
    assert (first.method, raw_path(first), first.query_string) == (
        "GET",
        "/v1.3/list",
        b"search=ada&max_results=3",
    )
    assert (second.method, raw_path(second)) == ("GET", "/v1.3/visitors/abc123")
    assert {first.headers["X-Api-Key"], second.headers["X-Api-Key"]} == {KEY}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"status": "error", "error": "invalid_api_key"}, InvalidAPIKeyError),
        (401, {"status": "error", "error": "no_subscription"}, NoSubscriptionError),
        (401, {"status": "error", "error": "api_not_enabled"}, APINotEnabledError),
        (401, {"status": "error", "error": "please_contact_team"}, ContactTeamError),
        (401, {"status": "error", "error": "brand_new"}, AuthenticationError),
        (404, {"status": "error"}, VisitorNotFoundError),
        (402, {"status": "error"}, PlanLimitError),
        (429, {"status": "error"}, RateLimitedError),
        (500, {"status": "error"}, UpscopeHTTPError),
    ],
)
def test_http_errors_on_post_sent_once(httpserver, status, body, cls):
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=status)
    sleeps: list[float] = []

    async def record(delay: float) -> None:
        sleeps.append(delay)

    with pytest.raises(cls) as caught:
        run(
            httpserver,
            lambda c: c.watch_url("abc123", agent_id="1", agent_name="A"),
            max_retries=3,
            sleep=record,
        )

    assert type(caught.value) is cls
    assert (caught.value.status_code, caught.value.body) == (status, body)
    assert (caught.value.request_method, caught.value.request_path) == ("POST", WATCH_PATH)
    assert len(sent(httpserver)) == 1
    assert sleeps == []


def test_429_retry_after_parsed(httpserver):
    httpserver.expect_request(WATCH_PATH).respond_with_data("", 429, headers={"Retry-After": "12"})

    with pytest.raises(RateLimitedError) as caught:
        run(httpserver, lambda c: c.watch_url("abc123", agent_id="1", agent_name="A"))

    assert caught.value.retry_after == 12.0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("not json", "not with a JSON object"),
        ('{"ok": true}', "without a 'watch_url'"),
        ('{"watch_url": "http://app.upscope.io/w"}', "it is not https:"),
    ],
)
def test_unexpected_answers(httpserver, data, needle):
    httpserver.expect_request(WATCH_PATH).respond_with_data(data, 200)

    with pytest.raises(UnexpectedResponseError, match=re.escape(needle)):
        run(httpserver, lambda c: c.watch_url("abc123", agent_id="1", agent_name="A"))


def test_get_retried_on_5xx_and_429_then_succeeds(httpserver):
    httpserver.expect_ordered_request("/v1.3/list").respond_with_data("down", 502)
    httpserver.expect_ordered_request("/v1.3/list").respond_with_data(
        "", 429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/v1.3/list").respond_with_json({"visitors": []})
    sleeps: list[float] = []

    async def record(delay: float) -> None:
        sleeps.append(delay)

    assert run(httpserver, lambda c: c.find_visitors("x"), backoff=0.25, sleep=record) == []
    assert len(sent(httpserver)) == 3
    assert sleeps == [0.25, 1.0]


def test_get_gives_up_after_max_retries(httpserver):
    httpserver.expect_request("/v1.3/visitors/a").respond_with_data("down", 503)

    with pytest.raises(UpscopeHTTPError) as caught:
        run(httpserver, lambda c: c.get_visitor("a"), max_retries=2)

    assert (caught.value.status_code, caught.value.attempts) == (503, 3)
    assert len(sent(httpserver)) == 3


def test_timeout_post_once_and_get_retried(slow_server):
    server, calls = slow_server

    with pytest.raises(UpscopeTimeoutError) as caught:
        run(server, lambda c: c.watch_url("abc123", agent_id="1", agent_name="A"), timeout=0.3)

    assert caught.value.status_code is None
    assert caught.value.request_method == "POST"
    assert len(calls) == 1

    # The second request is held too; the third is answered.
    visitor = run(server, lambda c: c.get_visitor("abc123"), timeout=0.3, max_retries=1)
    assert visitor.short_id == "abc123"
    assert len(calls) == 3


def test_connection_refused():
    with pytest.raises(UpscopeConnectionError) as caught:
        run(f"http://127.0.0.1:{closed_port()}", lambda c: c.find_visitors("x"), max_retries=2)

    assert (caught.value.status_code, caught.value.attempts) == (None, 3)
    assert caught.value.request_path == "/v1.3/list"


def test_validation_sends_nothing(httpserver):
    httpserver.expect_request(ALL).respond_with_json({"watch_url": WATCH})

    with pytest.raises(ValueError, match=re.escape("got 'maybe'")):
        run(
            httpserver,
            lambda c: c.watch_url(
                "abc123", agent_id="1", agent_name="A", permissions={"allow_draw": "maybe"}
            ),
        )
    with pytest.raises(ValueError, match=re.escape("visitor_id must be a non-empty string")):
        run(httpserver, lambda c: c.watch_url("", agent_id="1", agent_name="A"))
    with pytest.raises(ValueError, match=re.escape("max_results must be a positive int")):
        run(httpserver, lambda c: c.find_visitors("a", max_results=-1))

    assert sent(httpserver) == []


def test_missing_key_and_repr(monkeypatch):
    with pytest.raises(MissingAPIKeyError, match="UPSCOPE_API_KEY"):
        AsyncUpscopeClient()

    monkeypatch.setenv("UPSCOPE_API_KEY", KEY)
    client = AsyncUpscopeClient(base_url="https://api.upscope.io")
    assert repr(client) == (
        "AsyncUpscopeClient(base_url='https://api.upscope.io', version='v1.3', api_key='***')"
    )
    run_in_thread(client.aclose())


def test_aclose_and_external_http_client(httpserver):
    httpserver.expect_request(ALL).respond_with_json({"visitors": []})

    async def main() -> None:
        async with httpx.AsyncClient() as http:
            client = AsyncUpscopeClient(KEY, base_url=base(httpserver), http_client=http)
            async with client:
                assert await client.find_visitors("a") == []
            assert not http.is_closed
            with pytest.raises(RuntimeError, match="closed"):
                await client.find_visitors("a")
        own = AsyncUpscopeClient(KEY, base_url=base(httpserver))
        await own.aclose()
        await own.aclose()
        assert own._http.is_closed

    run_in_thread(main())
    assert len(sent(httpserver)) == 1
