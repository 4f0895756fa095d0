"""Drive a simulated co-browsing session from a plain script: no Jupyter, no kernel.

    python examples/headless_script.py [screenshot.png]

The same session object as in a notebook, with the package's own frontend, runs in headless
Chromium (Playwright's, else the system's ``chromium``; needs ``upscope-widget[headless]``).
"""

from __future__ import annotations

import asyncio
import sys

from upscope_widget import UpscopeSession


async def main(screenshot: str) -> None:
    """Start a simulated session headless, draw, hear the visitor, take a screenshot."""
    session = UpscopeSession.simulate()  # or UpscopeSession(watch_url), for_visitor(...)

    @session.on_custom_message
    def heard(message: object) -> None:
        print("the visitor says", message)

    async with session.run_headless() as view:
        await session.wait_for_status("viewerReady", timeout=30)
        await session.perform("set_mode", mode="draw")  # returns once the iframe shows it
        print("tool:", session.control_tool)
        session.simulator.visitor_sends({"question": "Where is my order?"})
        await session.next_event("customMessage", timeout=10)
        await view.screenshot(path=screenshot)  # the widget with the visitor's page in it
        print("screenshot:", screenshot)
    print("sent:", [(e.kind, e.source) for e in session.log if e.direction == "out"])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "session.png"))
