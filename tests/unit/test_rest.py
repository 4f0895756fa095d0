"""The blocking REST client against a real local HTTP server standing in for Upscope."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from upscope_widget.rest import (
    PERMISSION_NAMES,
    APINotEnabledError,
    AuthenticationError,
    ContactTeamError,
    InvalidAPIKeyError,
    MissingAPIKeyError,
    NoSubscriptionError,
    Permissions,
    PlanLimitError,
    RateLimitedError,
    UnexpectedResponseError,
    UpscopeAPIError,
    UpscopeClient,
    UpscopeConnectionError,
    UpscopeHTTPError,
    UpscopeTimeoutError,
    Visitor,
    VisitorNotFoundError,
    watch_url_for_visitor,
)

KEY = "rest-key-7c1f0e9a"
WATCH = "https://app.upscope.io/w/abc123?token=secret-ish"
WATCH_PATH = "/v1.3/visitors/abc123/watch_url"
ALL = re.compile(".*")
ERROR_401 = [
    ("invalid_api_key", InvalidAPIKeyError, "UPSCOPE_API_KEY"),
    ("no_subscription", NoSubscriptionError, "subscription"),
    ("api_not_enabled", APINotEnabledError, "not enabled"),
    ("please_contact_team", ContactTeamError, "Contact Upscope support"),
]


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


@pytest.fixture(autouse=True)
def _no_upscope_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("UPSCOPE_API_BASE_URL", raising=False)


@pytest.fixture
def client(httpserver: HTTPServer) -> Iterator[UpscopeClient]:
    with UpscopeClient(KEY, base_url=base(httpserver), backoff=0, timeout=5) as c:
        yield c


class Blocking:
    """A threaded server whose handler holds the first `hold` requests until released."""

    def __init__(self, hold: int) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.release = threading.Event()
        self.hold = hold
        self.calls = 0
        self._lock = threading.Lock()
        self.server.expect_request(ALL).respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.calls += 1
            number = self.calls
        if number <= self.hold:
            self.release.wait(10)
        return Response(
            json.dumps({"status": "ok", "visitors": []}), 200, content_type="application/json"
        )


@pytest.fixture
def blocking() -> Iterator[Any]:
    made: list[Blocking] = []

    def make(hold: int) -> Blocking:
        b = Blocking(hold)
        b.server.start()
        made.append(b)
        return b

    yield make
    for b in made:
        b.release.set()
        b.server.clear()
        b.server.stop()


# --- success paths ---------------------------------------------------------------------------


def test_watch_url_sends_the_minimal_documented_body(httpserver, client):
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    url = client.watch_url("abc123", agent_id="42", agent_name="Ada Lovelace")

    assert url == WATCH
    [request] = sent(httpserver)
    assert request.method == "POST"
    assert raw_path(request) == WATCH_PATH
    assert request.query_string == b""
    assert request.headers["X-Api-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "agent": {"id": "42", "name": "Ada Lovelace"},
        "branding": {"naked": "page_only"},
    }


def test_watch_url_sends_every_option(httpserver, client):
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    client.watch_url(
        "abc123",
        agent_id="42",
        agent_name="Ada",
        naked=True,
        permissions={"allow_console": True, "allow_type": False},
        metadata={"ticket": "T-42", "priority": 2, "score": 0.5, "vip": False},
        retry_url="https://example.com/retry",
        on_end_url="https://example.com/end?x=1",
    )

    [request] = sent(httpserver)
    assert json.loads(request.get_data()) == {
        "agent": {"id": "42", "name": "Ada"},
        "branding": {
            "naked": True,
            "retry_url": "https://example.com/retry",
            "on_end_url": "https://example.com/end?x=1",
        },
        "permissions": {"allow_console": True, "allow_type": False},
        "metadata": {"ticket": "T-42", "priority": 2, "score": 0.5, "vip": False},
    }


def test_watch_url_naked_false_and_permissions_model(httpserver, client):
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    client.watch_url(
        "abc123",
        agent_id="1",
        agent_name="A",
        naked=False,
        permissions=Permissions(allow_draw=False),
        on_end_url="https://e.com/",
    )

    body = json.loads(sent(httpserver)[0].get_data())
    assert body["branding"] == {"naked": False, "on_end_url": "https://e.com/"}
    assert body["permissions"] == {"allow_draw": False}
    assert "metadata" not in body


@pytest.mark.parametrize(
    ("visitor_id", "encoded"),
    [("a/b", "a%2Fb"), ("../x", "..%2Fx"), ("é x?#", "%C3%A9%20x%3F%23"), ("%2e%2e", "%252e%252e")],
)
def test_visitor_ids_are_one_percent_encoded_path_segment(httpserver, client, visitor_id, encoded):
    httpserver.expect_request(ALL).respond_with_json({"watch_url": WATCH})

    client.watch_url(visitor_id, agent_id="1", agent_name="A")

    [request] = sent(httpserver)
    assert raw_path(request) == f"/v1.3/visitors/{encoded}/watch_url"
    assert request.query_string == b""


def test_find_visitors(httpserver, client):
    httpserver.expect_request("/v1.3/list", method="GET").respond_with_json(
        {
            "status": "ok",
            "visitors": [
                {
                    "short_id": "abc123",
                    "call_name": "Ada",
                    "is_online": True,
                    "tags": ["vip"],
                    "new_field": {"kept": 1},
                },
                {"short_id": "def456"},
            ],
        }
    )

    visitors = client.find_visitors("ada@example.com", max_results=1)

    [request] = sent(httpserver)
    assert request.method == "GET"
    assert raw_path(request) == "/v1.3/list"
    assert request.query_string == b"search=ada%40example.com&max_results=1"
    assert request.headers["X-Api-Key"] == KEY
    assert request.get_data() == b""
    assert [v.short_id for v in visitors] == ["abc123", "def456"]
    assert isinstance(visitors[0], Visitor)
    assert visitors[0].call_name == "Ada"
    assert visitors[0].is_online is True
    assert visitors[0].tags == ["vip"]
    assert visitors[0].model_extra == {"new_field": {"kept": 1}}
    assert visitors[1].email is None


def test_find_visitors_without_max_results(httpserver, client):
    httpserver.expect_request("/v1.3/list").respond_with_json({"status": "ok", "visitors": []})

    assert client.find_visitors("Ada Lovelace") == []
    assert sent(httpserver)[0].query_string == b"search=Ada+Lovelace"


def test_get_visitor(httpserver, client):
    httpserver.expect_request("/v1.3/visitors/abc123", method="GET").respond_with_json(
        {
            "short_id": "abc123",
            "email": "ada@example.com",
            "location_country": "GB",
            "last_seen_at": 1700000000,
        }
    )

    visitor = client.get_visitor("abc123")

    [request] = sent(httpserver)
    assert (request.method, raw_path(request), request.query_string) == (
        "GET",
        "/v1.3/visitors/abc123",
        b"",
    )
    assert request.headers["X-Api-Key"] == KEY
    assert visitor.email == "ada@example.com"
    assert visitor.location_country == "GB"
    assert visitor.last_seen_at == 1700000000


def test_get_visitor_accepts_a_wrapped_visitor(httpserver, client):
    httpserver.expect_request("/v1.3/visitors/abc123").respond_with_json(
        {"status": "ok", "visitor": {"short_id": "abc123"}}
    )

    assert client.get_visitor("abc123").short_id == "abc123"


def test_version_and_base_url_path_prefix(httpserver):
    httpserver.expect_request(ALL).respond_with_json({"short_id": "x"})

    with UpscopeClient(KEY, base_url=base(httpserver) + "/proxy/", version="v1.1") as c:
        c.get_visitor("x")

    assert raw_path(sent(httpserver)[0]) == "/proxy/v1.1/visitors/x"


# --- HTTP errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "cls", "advice"), ERROR_401)
def test_each_401_error_string(httpserver, client, code, cls, advice):
    body = {"status": "error", "error": code}
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=401)

    with pytest.raises(cls) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    err = caught.value
    assert isinstance(err, AuthenticationError)
    assert isinstance(err, UpscopeAPIError)
    assert (err.status_code, err.body, err.error_code) == (401, body, code)
    assert (err.request_method, err.request_path) == ("POST", WATCH_PATH)
    assert advice in str(err)
    assert code in str(err)


def test_unknown_401_keeps_the_error_string(httpserver, client):
    body = {"status": "error", "error": "key_suspended"}
    httpserver.expect_request("/v1.3/list").respond_with_json(body, status=401)

    with pytest.raises(AuthenticationError) as caught:
        client.find_visitors("x")

    assert type(caught.value) is AuthenticationError
    assert caught.value.error_code == "key_suspended"
    assert caught.value.body == body
    assert "key_suspended" in str(caught.value)
    assert len(sent(httpserver)) == 1


def test_404_is_visitor_not_found(httpserver, client):
    httpserver.expect_request("/v1.3/visitors/nobody/watch_url").respond_with_data(
        "Not Found", status=404
    )

    with pytest.raises(VisitorNotFoundError) as caught:
        client.watch_url("nobody", agent_id="1", agent_name="A")

    err = caught.value
    assert (err.status_code, err.body, err.visitor_id) == (404, "Not Found", "nobody")
    assert "'nobody'" in str(err) and "find_visitors" in str(err)


def test_404_on_get_visitor_is_not_retried(httpserver):
    httpserver.expect_request("/v1.3/visitors/nobody").respond_with_json({}, status=404)

    with (
        UpscopeClient(KEY, base_url=base(httpserver), backoff=0) as c,
        pytest.raises(VisitorNotFoundError),
    ):
        c.get_visitor("nobody")

    assert len(sent(httpserver)) == 1


def test_404_on_list_is_about_the_base_url(httpserver, client):
    httpserver.expect_request("/v1.3/list").respond_with_data("no route", status=404)

    with pytest.raises(UpscopeHTTPError) as caught:
        client.find_visitors("x")

    assert not isinstance(caught.value, VisitorNotFoundError)
    assert "base_url" in str(caught.value)


def test_402_is_plan_limit(httpserver, client):
    body = {"status": "error", "error": "plan_limits"}
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=402)

    with pytest.raises(PlanLimitError) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    assert (caught.value.status_code, caught.value.body) == (402, body)
    assert "Upgrade the plan" in str(caught.value)


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ({"Retry-After": "7"}, 7.0, 7.0),
        ({"Retry-After": "HTTP-date in 40 s"}, 30.0, 40.0),
        ({"Retry-After": "soon"}, None, None),
        ({}, None, None),
    ],
)
def test_429_on_post_is_raised_at_once_with_retry_after(httpserver, client, header, low, high):
    if header.get("Retry-After") == "HTTP-date in 40 s":  # made now, not at collection time
        in_40s = datetime.now(timezone.utc) + timedelta(seconds=40)
        header = {"Retry-After": format_datetime(in_40s, usegmt=True)}
    httpserver.expect_request(WATCH_PATH).respond_with_json(
        {"status": "error"}, status=429, headers=header
    )

    with pytest.raises(RateLimitedError) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    err = caught.value
    assert err.status_code == 429
    if low is None:
        assert err.retry_after is None
    else:
        assert err.retry_after is not None and low <= err.retry_after <= high
    assert len(sent(httpserver)) == 1


def test_500_on_post_is_sent_exactly_once(httpserver):
    httpserver.expect_request(WATCH_PATH).respond_with_data("boom", status=500)
    sleeps: list[float] = []

    with (
        UpscopeClient(KEY, base_url=base(httpserver), max_retries=5, sleep=sleeps.append) as c,
        pytest.raises(UpscopeHTTPError) as caught,
    ):
        c.watch_url("abc123", agent_id="1", agent_name="A")

    assert len(sent(httpserver)) == 1
    assert sleeps == []
    err = caught.value
    assert (err.status_code, err.body, err.attempts) == (500, "boom", 1)
    assert "not repeated" in str(err)


def test_other_status_keeps_the_json_body(httpserver, client):
    body = {"status": "error", "error": "bad_permissions", "detail": [1, 2]}
    httpserver.expect_request(WATCH_PATH).respond_with_json(body, status=400)

    with pytest.raises(UpscopeHTTPError) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    assert type(caught.value) is UpscopeHTTPError
    assert (caught.value.status_code, caught.value.body) == (400, body)
    assert caught.value.error_code == "bad_permissions"


def test_redirects_are_not_followed(httpserver, client):
    httpserver.expect_request(WATCH_PATH).respond_with_data(
        "", status=302, headers={"Location": base(httpserver) + "/elsewhere"}
    )
    httpserver.expect_request("/elsewhere").respond_with_json({"watch_url": WATCH})

    with pytest.raises(UpscopeHTTPError) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    assert caught.value.status_code == 302
    assert [raw_path(r) for r in sent(httpserver)] == [WATCH_PATH]


# --- unexpected answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "needle"),
    [
        ("<html>hi</html>", "text/html", "not with a JSON object"),
        ('["https://x.io"]', "application/json", "not with a JSON object"),
        ('{"status": "ok"}', "application/json", "without a 'watch_url'"),
        ('{"watch_url": 123}', "application/json", "is a int"),
        ('{"watch_url": "http://app.upscope.io/w/1"}', "application/json", "it is not https:"),
        ('{"watch_url": "javascript:alert(1)"}', "application/json", "not an absolute URL"),
        ('{"watch_url": "/w/1"}', "application/json", "not an absolute URL"),
        ('{"watch_url": "https:///w/1"}', "application/json", "not an absolute URL"),
    ],
)
def test_unexpected_watch_url_answers(httpserver, client, data, content_type, needle):
    httpserver.expect_request(WATCH_PATH).respond_with_data(data, content_type=content_type)

    with pytest.raises(UnexpectedResponseError) as caught:
        client.watch_url("abc123", agent_id="1", agent_name="A")

    err = caught.value
    assert needle in str(err)
    assert err.status_code == 200
    assert err.body == (data if content_type == "text/html" else json.loads(data))
    assert (err.request_method, err.request_path) == ("POST", WATCH_PATH)
    assert len(sent(httpserver)) == 1


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"status": "ok"}, "without a 'visitors' list"),
        ({"visitors": {"short_id": "a"}}, "without a 'visitors' list"),
        ({"visitors": [{"short_id": "a"}, {"email": "x"}]}, "visitors[1] is not a valid visitor"),
        ({"visitors": [{"short_id": "a", "is_online": "maybe"}]}, "is_online"),
    ],
)
def test_unexpected_visitor_lists(httpserver, client, payload, needle):
    httpserver.expect_request("/v1.3/list").respond_with_json(payload)

    with pytest.raises(UnexpectedResponseError) as caught:
        client.find_visitors("a")

    assert needle in str(caught.value)
    assert caught.value.body == payload


def test_unexpected_visitor(httpserver, client):
    httpserver.expect_request("/v1.3/visitors/a").respond_with_json({"short_id": None})

    with pytest.raises(UnexpectedResponseError, match="short_id"):
        client.get_visitor("a")


# --- timeouts, connection errors, retries ----------------------------------------------------


def test_timeout_on_post_is_not_retried(blocking):
    slow = blocking(hold=99)
    sleeps: list[float] = []

    with (
        UpscopeClient(KEY, base_url=base(slow.server), timeout=0.3, sleep=sleeps.append) as c,
        pytest.raises(UpscopeTimeoutError) as caught,
    ):
        c.watch_url("abc123", agent_id="1", agent_name="A")

    err = caught.value
    assert (err.status_code, err.body) == (None, None)
    assert (err.request_method, err.request_path) == ("POST", WATCH_PATH)
    assert "timeout" in str(err)
    assert sleeps == []
    assert slow.calls == 1


def test_get_retried_after_timeouts_then_succeeds(blocking):
    slow = blocking(hold=2)

    with UpscopeClient(KEY, base_url=base(slow.server), timeout=0.3, backoff=0, max_retries=2) as c:
        assert c.find_visitors("x") == []

    assert slow.calls == 3


def test_get_gives_up_after_timeouts(blocking):
    slow = blocking(hold=99)
    sleeps: list[float] = []

    with (
        UpscopeClient(
            KEY,
            base_url=base(slow.server),
            timeout=0.3,
            backoff=0.01,
            max_retries=2,
            sleep=sleeps.append,
        ) as c,
        pytest.raises(UpscopeTimeoutError) as caught,
    ):
        c.get_visitor("abc123")

    assert caught.value.attempts == 3
    assert "gave up after 3 attempts" in str(caught.value)
    assert sleeps == [0.01, 0.02]
    assert slow.calls == 3


def test_connection_refused():
    sleeps: list[float] = []
    with UpscopeClient(
        KEY,
        base_url=f"http://127.0.0.1:{closed_port()}",
        max_retries=2,
        backoff=0.25,
        sleep=sleeps.append,
    ) as c:
        with pytest.raises(UpscopeConnectionError) as caught:
            c.find_visitors("x")
        with pytest.raises(UpscopeConnectionError) as caught_post:
            c.watch_url("abc123", agent_id="1", agent_name="A")

    assert (caught.value.status_code, caught.value.attempts) == (None, 3)
    assert caught.value.request_path == "/v1.3/list"
    assert caught_post.value.attempts == 1
    assert sleeps == [0.25, 0.5]


def test_get_retried_on_5xx_then_succeeds(httpserver):
    for _ in range(2):
        httpserver.expect_ordered_request("/v1.3/visitors/a").respond_with_data("busy", 503)
    httpserver.expect_ordered_request("/v1.3/visitors/a").respond_with_json({"short_id": "a"})
    sleeps: list[float] = []

    with UpscopeClient(KEY, base_url=base(httpserver), backoff=0.5, sleep=sleeps.append) as c:
        assert c.get_visitor("a").short_id == "a"

    assert len(sent(httpserver)) == 3
    assert sleeps == [0.5, 1.0]
    assert all(r.headers["X-Api-Key"] == KEY for r in sent(httpserver))


def test_get_gives_up_on_5xx_with_capped_backoff(httpserver):
    httpserver.expect_request("/v1.3/list").respond_with_data("down", 500)
    sleeps: list[float] = []

    with (
        UpscopeClient(
            KEY,
            base_url=base(httpserver),
            max_retries=4,
            backoff=0.5,
            max_backoff=1.5,
            sleep=sleeps.append,
        ) as c,
        pytest.raises(UpscopeHTTPError) as caught,
    ):
        c.find_visitors("x")

    assert len(sent(httpserver)) == 5
    assert sleeps == [0.5, 1.0, 1.5, 1.5]
    assert (caught.value.status_code, caught.value.body, caught.value.attempts) == (500, "down", 5)
    assert "gave up after 5 attempts" in str(caught.value)


def test_get_honours_retry_after_on_429(httpserver):
    httpserver.expect_ordered_request("/v1.3/list").respond_with_data(
        "", 429, headers={"Retry-After": "2"}
    )
    httpserver.expect_ordered_request("/v1.3/list").respond_with_json({"visitors": []})
    sleeps: list[float] = []

    with UpscopeClient(KEY, base_url=base(httpserver), backoff=0.1, sleep=sleeps.append) as c:
        assert c.find_visitors("x") == []

    assert sleeps == [2.0]
    assert len(sent(httpserver)) == 2


def test_get_gives_up_at_once_when_retry_after_is_too_long(httpserver):
    httpserver.expect_request("/v1.3/list").respond_with_data(
        "", 429, headers={"Retry-After": "120"}
    )
    sleeps: list[float] = []

    with (
        UpscopeClient(KEY, base_url=base(httpserver), max_backoff=30, sleep=sleeps.append) as c,
        pytest.raises(RateLimitedError) as caught,
    ):
        c.find_visitors("x")

    assert caught.value.retry_after == 120.0
    assert sleeps == []
    assert len(sent(httpserver)) == 1


def test_get_429_without_retry_after_gives_up_after_max_retries(httpserver):
    httpserver.expect_request("/v1.3/list").respond_with_data("slow down", 429)

    with (
        UpscopeClient(KEY, base_url=base(httpserver), max_retries=1, backoff=0) as c,
        pytest.raises(RateLimitedError) as caught,
    ):
        c.find_visitors("x")

    assert caught.value.retry_after is None
    assert caught.value.attempts == 2
    assert len(sent(httpserver)) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403])
def test_get_is_not_retried_on_4xx(httpserver, status):
    httpserver.expect_request("/v1.3/list").respond_with_json({"error": "x"}, status=status)

    with (
        UpscopeClient(KEY, base_url=base(httpserver), backoff=0) as c,
        pytest.raises(UpscopeHTTPError),
    ):
        c.find_visitors("x")

    assert len(sent(httpserver)) == 1


def test_max_retries_zero_sends_once(httpserver):
    httpserver.expect_request("/v1.3/list").respond_with_data("down", 503)

    with (
        UpscopeClient(KEY, base_url=base(httpserver), max_retries=0) as c,
        pytest.raises(UpscopeHTTPError),
    ):
        c.find_visitors("x")

    assert len(sent(httpserver)) == 1


# --- validation: ValueError, nothing sent ----------------------------------------------------

GOOD: dict[str, Any] = {"agent_id": "42", "agent_name": "Ada"}


@pytest.mark.parametrize(
    ("visitor_id", "options", "needle"),
    [
        ("", {}, "visitor_id must be a non-empty string, got ''"),
        ("  ", {}, "visitor_id must be a non-empty string, got '  '"),
        (123, {}, "visitor_id must be a non-empty string, got 123"),
        ("..", {}, "visitor_id must be an id, not the path segment '..'"),
        ("a", {"agent_id": ""}, "agent_id must be a non-empty string, got ''"),
        ("a", {"agent_id": 42}, "agent_id must be a non-empty string, got 42"),
        ("a", {"agent_name": " "}, "agent_name must be a non-empty string, got ' '"),
        ("a", {"naked": "yes"}, "naked must be True, False or 'page_only', got 'yes'"),
        ("a", {"naked": 1}, "naked must be True, False or 'page_only', got 1"),
        ("a", {"naked": None}, "naked must be True, False or 'page_only', got None"),
        (
            "a",
            {"permissions": {"allow_fly": True}},
            "unknown permission 'allow_fly'; allowed names: " + ", ".join(PERMISSION_NAMES),
        ),
        (
            "a",
            {"permissions": {"allow_click": "yes"}},
            "permission 'allow_click' must be True or False, got 'yes'",
        ),
        (
            "a",
            {"permissions": {"allow_click": 1}},
            "permission 'allow_click' must be True or False, got 1",
        ),
        ("a", {"permissions": ["allow_click"]}, "got ['allow_click']; allowed names: allow_click"),
        ("a", {"metadata": {"a": {"b": 1}}}, "metadata['a'] must be a str, int, float or bool"),
        ("a", {"metadata": {"a": None}}, "(no nesting, no None), got None"),
        ("a", {"metadata": {"a": [1]}}, "got [1]"),
        ("a", {"metadata": {"a": float("nan")}}, "metadata['a'] must be a finite number, got nan"),
        ("a", {"metadata": {"a": float("inf")}}, "got inf"),
        ("a", {"metadata": {1: "x"}}, "metadata keys must be non-empty strings, got 1"),
        ("a", {"metadata": "ticket=1"}, "got 'ticket=1'"),
        (
            "a",
            {"retry_url": "http://example.com/r"},
            "retry_url 'http://example.com/r' is not allowed: it is not https:",
        ),
        ("a", {"retry_url": "/retry"}, "retry_url '/retry' is not allowed"),
        ("a", {"on_end_url": "javascript:alert(1)"}, "'javascript:alert(1)' is not allowed"),
        ("a", {"on_end_url": "https://"}, "Allowed: an absolute https: URL"),
        ("a", {"on_end_url": "https://e.com/a b"}, "'https://e.com/a b' is not allowed"),
    ],
)
def test_invalid_watch_url_arguments(httpserver, client, visitor_id, options, needle):
    httpserver.expect_request(ALL).respond_with_json({"watch_url": WATCH})

    with pytest.raises(ValueError) as caught:
        client.watch_url(visitor_id, **{**GOOD, **options})

    assert needle in str(caught.value)
    assert sent(httpserver) == []


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda c: c.find_visitors(""), "search must be a non-empty string, got ''"),
        (
            lambda c: c.find_visitors("a", max_results=0),
            "max_results must be a positive int, got 0",
        ),
        (lambda c: c.find_visitors("a", max_results=True), "got True"),
        (lambda c: c.find_visitors("a", max_results="1"), "got '1'"),
        (lambda c: c.get_visitor(""), "short_id must be a non-empty string, got ''"),
        (lambda c: c.get_visitor("."), "short_id must be an id, not the path segment '.'"),
    ],
)
def test_invalid_get_arguments(httpserver, client, call, needle):
    httpserver.expect_request(ALL).respond_with_json({})

    with pytest.raises(ValueError) as caught:
        call(client)

    assert needle in str(caught.value)
    assert sent(httpserver) == []


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"base_url": "http://api.upscope.io"}, "http: only for localhost"),
        ({"base_url": "ftp://api.upscope.io"}, "'ftp://api.upscope.io' is not allowed"),
        ({"base_url": "api.upscope.io"}, "'api.upscope.io' is not allowed"),
        ({"base_url": "https://user:pw@api.upscope.io"}, "user name or password"),
        ({"base_url": "https://api.upscope.io/?a=1"}, "query string"),
        ({"base_url": "https://api.upscope.io:port"}, "'https://api.upscope.io:port' is not"),
        ({"version": "../v2"}, "version must be an API version such as 'v1.3', got '../v2'"),
        ({"version": ""}, "got ''"),
        ({"timeout": 0}, "timeout must be a number of seconds > 0, got 0"),
        ({"max_retries": -1}, "max_retries must be an int >= 0, got -1"),
        ({"max_retries": 1.5}, "got 1.5"),
        ({"backoff": -0.1}, "backoff must be a number >= 0, got -0.1"),
        ({"max_backoff": float("nan")}, "max_backoff must be a number >= 0, got nan"),
        ({"http_client": httpx.Client(), "transport": httpx.HTTPTransport()}, "not both"),
    ],
)
def test_invalid_client_settings(options, needle):
    with pytest.raises(ValueError) as caught:
        UpscopeClient(KEY, **options)

    assert needle in str(caught.value)


# --- key, base URL, repr, lifecycle ----------------------------------------------------------


def test_missing_key_says_how_to_provide_one(monkeypatch):
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)

    for key in (None, "", "   "):
        with pytest.raises(MissingAPIKeyError) as caught:
            UpscopeClient(key, base_url="https://api.upscope.io")
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, UpscopeAPIError)
        assert "api_key=" in str(caught.value) and "UPSCOPE_API_KEY" in str(caught.value)


def test_key_with_illegal_characters_is_refused_without_showing_it():
    with pytest.raises(ValueError) as caught:
        UpscopeClient("abcdef\nghijkl")

    assert "abcdef" not in str(caught.value) and "ghijkl" not in str(caught.value)
    assert "UPSCOPE_API_KEY" in str(caught.value)


def test_key_from_environment_and_argument_wins(httpserver, monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_KEY", " env-key-123\n")
    httpserver.expect_request(ALL).respond_with_json({"visitors": []})

    with UpscopeClient(base_url=base(httpserver)) as c:
        c.find_visitors("a")
    with UpscopeClient("arg-key-456", base_url=base(httpserver)) as c:
        c.find_visitors("a")

    assert [r.headers["X-Api-Key"] for r in sent(httpserver)] == ["env-key-123", "arg-key-456"]


def test_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_BASE_URL", "https://eu.example.com/")
    with UpscopeClient(KEY) as c:
        assert c.base_url == "https://eu.example.com"
    monkeypatch.delenv("UPSCOPE_API_BASE_URL")
    with UpscopeClient(KEY) as c:
        assert (c.base_url, c.version) == ("https://api.upscope.io", "v1.3")


def test_repr_shows_settings_not_key():
    with UpscopeClient(KEY, base_url="https://api.upscope.io/") as c:
        assert repr(c) == (
            "UpscopeClient(base_url='https://api.upscope.io', version='v1.3', api_key='***')"
        )


def test_closed_client_refuses_calls_and_own_http_client_is_left_open(httpserver):
    httpserver.expect_request(ALL).respond_with_json({"visitors": []})
    http = httpx.Client()

    with UpscopeClient(KEY, base_url=base(httpserver), http_client=http) as c:
        c.find_visitors("a")
    assert not http.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        c.find_visitors("a")
    http.close()

    own = UpscopeClient(KEY, base_url=base(httpserver))
    own.close()
    own.close()
    assert own._http.is_closed


def test_http_client_that_follows_redirects_still_does_not(httpserver):
    httpserver.expect_request("/v1.3/list").respond_with_data(
        "", status=307, headers={"Location": "/elsewhere"}
    )
    httpserver.expect_request("/elsewhere").respond_with_json({"visitors": []})

    with (
        httpx.Client(follow_redirects=True) as http,
        UpscopeClient(KEY, base_url=base(httpserver), http_client=http) as c,
        pytest.raises(UpscopeHTTPError),
    ):
        c.find_visitors("a")

    assert [raw_path(r) for r in sent(httpserver)] == ["/v1.3/list"]


# --- watch_url_for_visitor -------------------------------------------------------------------


def test_watch_url_for_visitor_with_a_client(httpserver, client):
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    url = watch_url_for_visitor(
        "abc123",
        agent=("42", "Ada Lovelace"),
        client=client,
        permissions={"allow_type": False},
        metadata={"t": "T-1"},
    )

    assert url == WATCH
    [request] = sent(httpserver)
    assert request.headers["X-Api-Key"] == KEY
    assert json.loads(request.get_data()) == {
        "agent": {"id": "42", "name": "Ada Lovelace"},
        "branding": {"naked": "page_only"},
        "permissions": {"allow_type": False},
        "metadata": {"t": "T-1"},
    }


def test_watch_url_for_visitor_from_the_environment(httpserver, monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_KEY", "env-key-789")
    monkeypatch.setenv("UPSCOPE_API_BASE_URL", base(httpserver))
    httpserver.expect_request(WATCH_PATH, method="POST").respond_with_json({"watch_url": WATCH})

    assert watch_url_for_visitor("abc123", agent=("42", "Ada Lovelace")) == WATCH

    [request] = sent(httpserver)
    assert request.headers["X-Api-Key"] == "env-key-789"
    assert json.loads(request.get_data())["branding"] == {"naked": "page_only"}


def test_watch_url_for_visitor_errors_propagate(httpserver, client):
    httpserver.expect_request(WATCH_PATH).respond_with_json({"error": "no_subscription"}, 401)

    with pytest.raises(NoSubscriptionError):
        watch_url_for_visitor("abc123", agent=("42", "Ada"), client=client)


def test_watch_url_for_visitor_without_key(httpserver, monkeypatch):
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)
    monkeypatch.setenv("UPSCOPE_API_BASE_URL", base(httpserver))

    with pytest.raises(MissingAPIKeyError, match="UPSCOPE_API_KEY"):
        watch_url_for_visitor("abc123", agent=("42", "Ada"))

    assert sent(httpserver) == []


@pytest.mark.parametrize(
    "agent",
    [["42", "Ada"], ("42",), ("42", "Ada", "x"), ("", "Ada"), ("42", " "), (42, "Ada"), "42"],
)
def test_watch_url_for_visitor_checks_agent(httpserver, client, agent):
    httpserver.expect_request(ALL).respond_with_json({"watch_url": WATCH})

    with pytest.raises(ValueError) as caught:
        watch_url_for_visitor("abc123", agent=agent, client=client)

    assert "agent must be a tuple (agent_id, agent_name) of two non-empty strings" in str(
        caught.value
    )
    assert repr(agent) in str(caught.value)
    assert sent(httpserver) == []


def test_watch_url_for_visitor_validates_before_making_a_client(monkeypatch):
    monkeypatch.delenv("UPSCOPE_API_KEY", raising=False)

    with pytest.raises(ValueError, match="unknown permission 'allow_fly'"):
        watch_url_for_visitor("abc123", agent=("1", "A"), permissions={"allow_fly": True})
