"""The API key never shows: not in logs (even at DEBUG), reprs, errors, bodies, tracebacks, URLs."""

from __future__ import annotations

import logging
import re
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from support.aio import run
from upscope_widget.rest import (
    AsyncUpscopeClient,
    UpscopeAPIError,
    UpscopeClient,
    watch_url_for_visitor,
)

KEY = "sk-SECRET-9f3a2b7c1d"
WATCH = "https://app.upscope.io/w/abc123"
ALL = re.compile(".*")


def base(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def echo_key(request: Request) -> Response:
    """A hostile server error that echoes the key back in its body."""
    return Response(f"internal error for key {request.headers.get('X-Api-Key')}", 500)


@pytest.fixture
def hanging_server() -> Iterator[HTTPServer]:
    """A threaded server that answers nothing until the test ends."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(10)
        return Response("late", 200)

    server.expect_request(ALL).respond_with_handler(hang)
    server.start()
    yield server
    release.set()
    server.clear()
    server.stop()


@pytest.fixture(autouse=True)
def _debug_everything(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("UPSCOPE_API_BASE_URL", raising=False)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "upscope_widget.rest"):
        caplog.set_level(logging.DEBUG, logger=name)


def exception_chain(err: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def assert_no_key_in_error(err: UpscopeAPIError) -> None:
    assert exception_chain(err) == [err], "no httpx exception (holding the request) is chained"
    for text in (str(err), repr(err), repr(err.args), err.message, str(err.request_path)):
        assert KEY not in text
    rendered = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert KEY not in rendered


def assert_no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "expected log records at DEBUG"
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)
        assert KEY not in (record.exc_text or "")
    assert KEY not in caplog.text


def scenarios(server: HTTPServer) -> list[tuple[str, Any]]:
    """Register the server's answers; return the calls to make (name, args)."""
    server.expect_request("/v1.3/visitors/ok/watch_url").respond_with_json({"watch_url": WATCH})
    server.expect_request("/v1.3/visitors/bad/watch_url").respond_with_json(
        {"status": "error", "error": "invalid_api_key"}, status=401
    )
    server.expect_request("/v1.3/visitors/echo/watch_url").respond_with_handler(echo_key)
    server.expect_request("/v1.3/visitors/echo").respond_with_handler(echo_key)
    server.expect_request("/v1.3/visitors/html/watch_url").respond_with_data(
        f"<p>{KEY}</p>", 200, content_type="text/html"
    )
    server.expect_request("/v1.3/list").respond_with_json({"visitors": [{"short_id": "ok"}]})
    return [
        ("watch_url", "ok"),
        ("watch_url", "bad"),
        ("watch_url", "echo"),
        ("watch_url", "html"),
        ("get_visitor", "echo"),
        ("find_visitors", "ok"),
    ]


def test_sync_client_never_shows_the_key(httpserver, hanging_server, caplog):
    calls = scenarios(httpserver)
    errors: list[UpscopeAPIError] = []
    client = UpscopeClient(KEY, base_url=base(httpserver), max_retries=1, backoff=0)
    for method, visitor in calls:
        call: Callable[..., Any] = getattr(client, method)
        try:
            if method == "watch_url":
                call(visitor, agent_id="1", agent_name="A")
            else:
                call(visitor)
        except UpscopeAPIError as err:
            errors.append(err)
    # A server that never answers in time, then a closed port (connection refused); both retried.
    for url in (base(hanging_server), f"http://127.0.0.1:{closed_port()}"):
        with UpscopeClient(KEY, base_url=url, max_retries=1, backoff=0, timeout=0.3) as other:
            try:
                other.find_visitors("x")
            except UpscopeAPIError as err:
                errors.append(err)
            assert KEY not in repr(other)
    client.close()

    assert len(errors) == 6
    assert {type(e).__name__ for e in errors} >= {
        "InvalidAPIKeyError",
        "UpscopeHTTPError",
        "UnexpectedResponseError",
        "UpscopeConnectionError",
        "UpscopeTimeoutError",
    }
    for err in errors:
        assert_no_key_in_error(err)
    assert KEY not in repr(client)
    assert KEY not in repr(vars(client))
    assert_no_key_in_logs(caplog)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert any(r.name == "httpx" for r in caplog.records)
    assert any(r.name == "upscope_widget.rest" for r in caplog.records)
    # The key did go out, and only as the header.
    requests = [request for request, _ in httpserver.log]
    assert requests and all(r.headers.get("X-Api-Key") == KEY for r in requests)
    for request in requests:
        assert KEY not in request.url
        assert KEY not in request.environ["RAW_URI"]
        assert KEY not in request.get_data(as_text=True)


def test_async_client_never_shows_the_key(httpserver, caplog):
    calls = scenarios(httpserver)

    async def main() -> list[UpscopeAPIError]:
        errors: list[UpscopeAPIError] = []
        async with AsyncUpscopeClient(
            KEY, base_url=base(httpserver), max_retries=1, backoff=0
        ) as client:
            assert KEY not in repr(client) and KEY not in repr(vars(client))
            for method, visitor in calls:
                try:
                    if method == "watch_url":
                        await client.watch_url(visitor, agent_id="1", agent_name="A")
                    else:
                        await getattr(client, method)(visitor)
                except UpscopeAPIError as err:
                    errors.append(err)
        async with AsyncUpscopeClient(
            KEY, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=1, backoff=0
        ) as refused:
            try:
                await refused.get_visitor("x")
            except UpscopeAPIError as err:
                errors.append(err)
        return errors

    errors = run(main())

    assert len(errors) == 5
    for err in errors:
        assert_no_key_in_error(err)
    assert_no_key_in_logs(caplog)
    for request, _ in httpserver.log:
        assert KEY not in request.url


def test_helper_and_env_key_never_show(httpserver, caplog, monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_KEY", KEY)
    monkeypatch.setenv("UPSCOPE_API_BASE_URL", base(httpserver))
    httpserver.expect_request(ALL).respond_with_handler(echo_key)

    with pytest.raises(UpscopeAPIError) as caught:
        watch_url_for_visitor("abc123", agent=("1", "A"))

    assert_no_key_in_error(caught.value)
    assert caught.value.body == "internal error for key ***"  # redacted where it is kept
    assert "***" in str(caught.value)  # and in the message
    assert_no_key_in_logs(caplog)


SLASHED_KEY = "hk-7Q2x/9+Zr=w1"


@pytest.mark.parametrize(
    "echo",
    [
        SLASHED_KEY,
        SLASHED_KEY.lower(),  # a server that lowercases what it echoes
        SLASHED_KEY.upper(),
        "hk-7Q2x%2F9%2BZr%3Dw1",  # inside a URL, the usual upper-case hex
        "hk-7Q2x%2f9%2bZr%3dw1",  # inside a URL, lower-case hex (as many servers write it)
        "hk-7q2x%2f9%2bzr%3dw1",  # both
    ],
)
def test_key_with_url_characters_is_redacted_in_every_form(httpserver, caplog, echo):
    httpserver.expect_request(ALL).respond_with_data(
        f"internal error: key {echo} at /v1.3/x?key={echo}", 500, content_type="text/plain"
    )

    with (UpscopeClient(SLASHED_KEY, base_url=base(httpserver), max_retries=0) as client,
          pytest.raises(UpscopeAPIError) as caught):
        client.get_visitor("abc")

    err = caught.value
    assert err.body == "internal error: key *** at /v1.3/x?key=***"
    kept = "\n".join([str(err), repr(err), repr(err.args), repr(vars(err)), caplog.text])
    assert echo not in kept
    assert echo.lower() not in kept.lower()
