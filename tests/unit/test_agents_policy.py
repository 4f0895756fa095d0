"""``AgentPolicy`` and ``RateLimit`` on their own: every rule, the default, bad policies."""

from __future__ import annotations

from typing import Any

import pytest

from upscope_widget.agents.policy import AgentPolicy, RateLimit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_default_asks_for_the_two_dangerous_tools_and_limits_to_60_a_minute():
    policy = AgentPolicy()
    assert policy.approve == {"end_session", "run_console_command"}
    assert policy.needs_approval("end_session") and not policy.needs_approval("set_mode")
    assert policy.allowed_urls is None  # every URL the URL policy allows
    assert policy.url_refusal("set_current_url", {"url": "https://anywhere.example/"}) is None
    assert (policy.max_calls, policy.per_seconds, policy.approval_timeout) == (60, 60.0, 60.0)


def test_unrestricted_holds_nothing_back():
    policy = AgentPolicy.unrestricted()
    assert policy.approve == frozenset() and policy.allowed_urls is None
    assert policy.max_calls is None and policy.per_seconds is None


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://shop.example/", True),
    ("https://shop.example/cart", True),
    ("https://shop.example/products/parka?color=green#sizes", True),
    ("https://shop.example", True),  # the browser reads it as https://shop.example/
    ("https://SHOP.example/cart", True),  # hosts are case-insensitive, as the browser reads them
    ("https://evil.example/", False),
    ("http://shop.example/cart", False),  # the scheme must match exactly
    ("https://shop.example.evil.example/", False),  # the host too
    ("https://evil.example/https://shop.example/", False),
    ("https://shop.example:8443/cart", False),  # another port is another origin
    ("https://user@shop.example/", False),
])
def test_allowed_urls_match_scheme_and_host_exactly_and_star_within_the_path(url, allowed):
    policy = AgentPolicy(allowed_urls=["https://shop.example/*", "https://help.example/faq"])
    refusal = policy.url_refusal("set_current_url", {"url": url})
    if allowed:
        assert refusal is None
    else:
        assert refusal == (f"set_current_url: {url} is outside the allowed URLs: "
                           "https://shop.example/*, https://help.example/faq")


def test_a_pattern_without_a_star_allows_that_url_alone():
    policy = AgentPolicy(allowed_urls=["https://help.example/faq"])
    assert policy.url_refusal("set_current_url", {"url": "https://help.example/faq"}) is None
    assert policy.url_refusal("set_current_url", {"url": "https://help.example/faq/x"})
    assert policy.url_refusal("set_mode", {"mode": "draw"}) is None  # only the URL tool
    nothing = AgentPolicy(allowed_urls=[])
    assert nothing.url_refusal("set_current_url", {"url": "https://help.example/"}) == \
        "set_current_url: https://help.example/ is outside the allowed URLs: (none)"


@pytest.mark.parametrize(("options", "message"), [
    ({"approve": {"end_sesion"}}, "approve names 'end_sesion', which is not a tool; the tools: "),
    ({"approve": "end_session"}, "approve='end_session' is not allowed: use a set of tool names"),
    ({"allowed_urls": "https://shop.example/*"},
     "allowed_urls='https://shop.example/*' is not allowed: use a list"),
    ({"allowed_urls": ["http://shop.example/*"]},
     "allowed_urls entry 'http://shop.example/*' is not allowed: a pattern is an absolute "
     "https: URL"),
    ({"allowed_urls": ["shop.example/*"]}, "allowed_urls entry 'shop.example/*' is not allowed"),
    ({"allowed_urls": ["https://*.example/"]}, "the host must be written out"),
    ({"allowed_urls": [42]}, "allowed_urls entry 42 is not allowed"),
    ({"max_calls": 0}, "max_calls=0 is not allowed: use a positive whole number"),
    ({"max_calls": 2.5}, "max_calls=2.5 is not allowed"),
    ({"max_calls": True}, "max_calls=True is not allowed"),
    ({"per_seconds": float("nan")}, "per_seconds=nan is not allowed: use a positive, finite"),
    ({"per_seconds": -1}, "per_seconds=-1 is not allowed"),
    ({"approval_timeout": float("inf")}, "approval_timeout=inf is not allowed"),
    ({"approval_timeout": 0}, "approval_timeout=0 is not allowed"),
    ({"max_calls": None}, "give both (a rate limit) or neither"),
])
def test_bad_policies_name_the_value_and_what_is_allowed(options: dict[str, Any], message: str):
    with pytest.raises(ValueError) as err:
        AgentPolicy(**options)
    assert message in str(err.value)
    if "not a tool" in message:
        assert "end_session" in str(err.value) and "set_current_url" in str(err.value)


def test_the_rate_limit_is_a_sliding_window_that_says_when_to_try_again():
    clock = FakeClock()
    limit = RateLimit(3, 60.0, clock)
    for _ in range(3):
        assert limit.take() is None
        clock.now += 10
    clock.now += 18  # 48 s after the first call
    assert limit.take() == "rate limit: 3 calls per 60 s; try again in 12 s"
    clock.now += 11.5
    assert limit.take() == "rate limit: 3 calls per 60 s; try again in 1 s"  # never "0 s"
    clock.now += 0.5  # the first call leaves the window
    assert limit.take() is None
    assert limit.take() is not None  # refused calls are not counted, the window is full again


def test_a_policy_is_a_readable_frozen_value():
    policy = AgentPolicy(approve={"end_session"}, allowed_urls=["https://shop.example/*"],
                         max_calls=30, per_seconds=60, approval_timeout=60)
    assert repr(policy) == ("AgentPolicy(approve=['end_session'], allowed_urls="
                            "['https://shop.example/*'], max_calls=30, per_seconds=60.0, "
                            "approval_timeout=60.0)")
    with pytest.raises(AttributeError):
        policy.max_calls = 3  # type: ignore[misc]
