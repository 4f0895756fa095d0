"""Testing an automation with the pytest plugin, as in CI: on the simulator and on a recording.

    pip install 'upscope-widget[headless]' anyio
    pytest examples/test_automation.py

The plugin comes with the package (no conftest needed). A recorded session is a deterministic
fixture: the replay plays the visitor exactly as recorded, and ``replay.sent`` holds what the
automation sent, apart from the recorded instructions.
"""

from __future__ import annotations

from typing import Any

import pytest

from upscope_widget import UpscopeSession
from upscope_widget.samples import shop_session

pytestmark = pytest.mark.anyio

PARKA = "https://shop.acme-outfitters.example/products/summit-parka"
ANSWER = {"answer": "Yes: the Summit Parka comes in forest green."}


def answer_parka_questions(session: UpscopeSession) -> None:
    """Answer a visitor's question about the parka and show them its page (the automation)."""

    @session.on_custom_message
    def answer(message: Any) -> None:
        question = message.get("question", "") if isinstance(message, dict) else ""
        if "parka" in str(question).lower():
            session.send_custom_message(ANSWER)
            session.set_current_url(PARKA)


async def test_it_answers_on_the_simulator(upscope_session: UpscopeSession) -> None:
    """On a simulated session: the visitor asks, the visitor's page shows the parka."""
    answer_parka_questions(upscope_session)
    upscope_session.simulator.visitor_sends({"question": "Does the parka come in green?"})
    state = await upscope_session.wait_for(lambda s: s.current_url == PARKA, timeout=10)
    assert state is not None and state.current_url == PARKA


async def test_it_answers_on_the_recorded_shop_session(upscope_headless: Any) -> None:
    """On the shipped recording: exactly one answer, right after the recorded question."""
    replay = UpscopeSession.replay(shop_session(), speed=0)  # as fast as possible, in order
    answer_parka_questions(replay)
    await upscope_headless(replay)
    await replay.wait_for(lambda s: s.ended, timeout=30)  # the recording ends the session
    # the recording asked once about the parka: the automation answered once, in order
    sent = [(e.kind, e.data, e.source) for e in replay.sent]
    assert sent == [
        ("sendCustomMessage", {"action": "sendCustomMessage", "message": ANSWER}, "python"),
        ("setCurrentUrl", {"action": "setCurrentUrl", "url": PARKA}, "python"),
    ]
    # in the replay's log, the answer came right after the question; the recorded
    # instructions are around it, as recorded (the simulator's scripting is not replayed)
    recorded = [(e.kind, e.data, e.source) for e in shop_session()
                if e.direction == "out" and e.source != "simulator"]
    logged = [(e.kind, e.data, e.source) for e in replay.log if e.direction == "out"]
    at = logged.index(sent[0])
    assert logged[at:at + 2] == sent and logged[:at] + logged[at + 2:] == recorded
    question = next(i for i, e in enumerate(replay.log) if e.kind == "customMessage")
    assert replay.log[question + 1].kind == "sendCustomMessage"
