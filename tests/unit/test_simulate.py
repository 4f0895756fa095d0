from __future__ import annotations

import pytest

from support.fakecomm import recording_comms
from upscope_widget import SessionEndedError, UpscopeSession


def make(**kwargs):
    with recording_comms() as comms:
        session = UpscopeSession.simulate(**kwargs)
    return session, comms[-1]


def test_simulate_ships_the_page_and_a_scripting_handle():
    session, c = make(seed=3, require_authorization=True, height=400)
    assert session.simulated and session.url == ""
    page = c.opened["state"]["_simulator_page"]
    assert "<html" in page.lower() and '"requireAuthorization":true' in page.replace(" ", "")
    assert session.height == 400
    session.simulator.navigate("https://shop.example/cart")
    assert c.customs()[-1] == {
        "kind": "instructions",
        "items": [[1, {"action": "upscope-sim:navigate", "url": "https://shop.example/cart"}]],
    }


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"time_scale": -1}, "time_scale=-1"),
        ({"allow_console": "yes"}, "allow_console='yes'"),
        ({"latency_ms": -5}, "latency_ms=-5"),
        ({"visitor": "Grace"}, "visitor='Grace'"),
    ],
)
def test_simulate_bad_options(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        make(**kwargs)


def test_real_session_has_no_simulator():
    with recording_comms():
        session = UpscopeSession("https://watch.example.com/x")
    assert not session.simulated
    with pytest.raises(AttributeError, match="simulate"):
        _ = session.simulator


def test_a_real_link_replaces_the_simulator():
    session, c = make()
    session.url = "https://watch.example.com/x"
    assert not session.simulated
    assert {"_simulator_page": ""} in c.updates()  # the frontend is told to drop the page


def test_simulator_script_after_end_raises():
    session, c = make()
    ended = {"e": {"type": "sessionEnded", "reason": "ended"}}
    c.from_frontend({"kind": "batch", "events": [ended]})
    with pytest.raises(SessionEndedError, match="ended"):
        session.simulator.visitor_sends({"a": 1})
