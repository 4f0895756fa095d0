"""A pytest plugin for testing automations against headless sessions (installed with the package).

Fixtures, for tests written with anyio's pytest plugin (``@pytest.mark.anyio``; this plugin
pins its ``asyncio`` backend, the one Playwright and the session's awaits run on):

- ``upscope_session``: a simulated session, already ``viewerReady``, running headless; closed
  after the test.
- ``upscope_headless``: a factory, ``session = await upscope_headless(any_session)``, that runs
  any session (a replay, a ``simulate(...)`` with options, a real link) headless for the test,
  once its frontend is up; everything it started is closed after the test.
- ``upscope_browser``: the one headless Chromium the fixtures share in a test session.

Having the plugin installed never changes a test run that does not use them: nothing is
imported or started until a fixture is asked for, and without the ``headless`` extra asking
for one fails with the ``ImportError`` that names it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .session import UpscopeSession

#: How long the fixtures wait for a page, a frontend or ``viewerReady`` (seconds).
START_TIMEOUT = 30.0


class _Backend:
    """Registered last (at configure time), so that its ``anyio_backend`` is the one used."""

    @pytest.fixture(scope="session")
    @classmethod
    def anyio_backend(cls) -> str:
        """Return asyncio for ``@pytest.mark.anyio`` tests, for the whole test session.

        Playwright runs on asyncio, and the shared browser lives on the session's loop.
        """
        return "asyncio"


def pytest_configure(config: pytest.Config) -> None:
    """Pin anyio's backend after every plugin has loaded (anyio's own fixture is module-scoped)."""
    config.pluginmanager.register(_Backend(), "upscope_widget.anyio_backend")


@pytest.fixture(scope="session")
async def upscope_browser(anyio_backend: str) -> AsyncIterator[Any]:
    """One headless Chromium (a Playwright ``Browser``) for every session of the test run."""
    from .headless import launch_browser, start_playwright

    playwright = await start_playwright()
    try:
        browser = await launch_browser(playwright)
        try:
            yield browser
        finally:
            await browser.close()
    finally:
        await playwright.stop()


@pytest.fixture
async def upscope_headless(
    upscope_browser: Any,
) -> AsyncIterator[Callable[[UpscopeSession], Awaitable[UpscopeSession]]]:
    """Give the test a factory that runs a session headless until the test ends.

    ``session = await upscope_headless(session)`` returns once its frontend is up.
    """
    async with AsyncExitStack() as stack:

        async def start(session: UpscopeSession) -> UpscopeSession:
            await stack.enter_async_context(
                session.run_headless(browser=upscope_browser, timeout=START_TIMEOUT))
            return session

        yield start


@pytest.fixture
async def upscope_session(
    upscope_headless: Callable[[UpscopeSession], Awaitable[UpscopeSession]],
) -> AsyncIterator[UpscopeSession]:
    """Give the test a simulated session, ``viewerReady``, running headless."""
    from .session import UpscopeSession

    session = await upscope_headless(UpscopeSession.simulate())
    await session.wait_for_status("viewerReady", timeout=START_TIMEOUT)
    yield session
