"""UpscopeSession.for_visitor: from a visitor id to a live session, against a local server."""

from __future__ import annotations

import json

import pytest

from support.fakecomm import recording_comms
from upscope_widget import UpscopeSession
from upscope_widget.rest import InvalidAPIKeyError, UnexpectedResponseError, UpscopeClient

KEY = "sk_test_for_visitor_0123456789"


@pytest.fixture
def client(httpserver):
    with UpscopeClient(KEY, base_url=httpserver.url_for("/").rstrip("/")) as c:
        yield c


def test_for_visitor_makes_a_page_only_link_and_opens_it(httpserver, client):
    httpserver.expect_oneshot_request(
        "/v1.3/visitors/abc123/watch_url", method="POST", headers={"X-Api-Key": KEY}
    ).respond_with_json({"watch_url": "https://app.upscope.io/w/xyz?token=t"})
    with recording_comms():
        session = UpscopeSession.for_visitor(
            "abc123", agent=("42", "Ada Lovelace"), client=client,
            permissions={"allow_console": False}, metadata={"ticket": "T-42"}, height=480,
        )
    assert session.url == "https://app.upscope.io/w/xyz?token=t"
    assert session.origin == "https://app.upscope.io"
    assert session.height == 480
    request, _ = httpserver.log[0]
    assert json.loads(request.data) == {
        "agent": {"id": "42", "name": "Ada Lovelace"},
        "branding": {"naked": "page_only"},
        "permissions": {"allow_console": False},
        "metadata": {"ticket": "T-42"},
    }


def test_for_visitor_with_key_from_environment(httpserver, monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_KEY", KEY)
    monkeypatch.setenv("UPSCOPE_API_BASE_URL", httpserver.url_for("/").rstrip("/"))
    httpserver.expect_oneshot_request(
        "/v1.3/visitors/v9/watch_url", method="POST", headers={"X-Api-Key": KEY}
    ).respond_with_json({"watch_url": "https://app.upscope.io/w/1"})
    with recording_comms():
        session = UpscopeSession.for_visitor("v9", agent=("1", "Grace"))
    assert session.url == "https://app.upscope.io/w/1"


def test_for_visitor_refuses_a_non_https_link(httpserver, client):
    httpserver.expect_oneshot_request("/v1.3/visitors/abc/watch_url", method="POST") \
        .respond_with_json({"watch_url": "javascript:alert(1)"})
    with recording_comms(), pytest.raises(UnexpectedResponseError):
        UpscopeSession.for_visitor("abc", agent=("42", "Ada"), client=client)


@pytest.mark.parametrize("agent", [("42",), ("", "Ada"), ("42", ""), "Ada", None])
def test_for_visitor_validates_agent_before_sending(httpserver, client, agent):
    with recording_comms(), pytest.raises(ValueError, match="agent"):
        UpscopeSession.for_visitor("abc", agent=agent, client=client)
    assert httpserver.log == []


def test_for_visitor_api_errors_propagate(httpserver, client):
    httpserver.expect_oneshot_request("/v1.3/visitors/abc/watch_url", method="POST") \
        .respond_with_json({"status": "error", "error": "invalid_api_key"}, status=401)
    with recording_comms(), pytest.raises(InvalidAPIKeyError) as info:
        UpscopeSession.for_visitor("abc", agent=("42", "Ada"), client=client)
    assert KEY not in str(info.value)
