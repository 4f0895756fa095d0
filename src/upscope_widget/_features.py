"""The session's doorways to its features, mixed into ``UpscopeSession``.

Making a session (``for_visitor``, ``simulate``), its summary, and the agent features (tool
specs, tool calls, awaitable effects, event streams, MCP). Each imports its feature when
called: the features depend on the session, never the session on them, and
``import upscope_widget`` stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ._lazy import lazy_module

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable
    from contextlib import AbstractAsyncContextManager

    from . import protocol
    from .agents.effects import EventStream
    from .agents.mcp import McpServerHandle
    from .analysis.summary import SessionSummary
    from .headless import HeadlessView
    from .protocol import EmbeddedSessionState
    from .rest import UpscopeClient
    from .session import UpscopeSession
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session


class FeatureMethods:
    """Constructors and feature methods of ``UpscopeSession``."""

    @property
    def _session(self) -> UpscopeSession:
        # Only ever mixed into UpscopeSession: the features take the session itself.
        return cast("UpscopeSession", self)

    @classmethod
    def for_visitor(
        cls: type[Any],
        visitor_id: str,
        *,
        agent: tuple[str, str],
        client: UpscopeClient | None = None,
        permissions: dict[str, bool] | None = None,
        metadata: dict[str, str | int | float | bool] | None = None,
        **session_options: Any,
    ) -> UpscopeSession:
        """Make a watch link for a visitor through Upscope's REST API and open a session on it.

        ``agent`` is ``(agent_id, agent_name)``. The API key comes from ``client`` or the
        ``UPSCOPE_API_KEY`` environment variable. The link is made with ``naked="page_only"``
        and goes through the same URL checks as any other.
        """
        from .rest import watch_url_for_visitor

        url = watch_url_for_visitor(
            visitor_id, agent=agent, client=client, permissions=permissions, metadata=metadata
        )
        return cast("UpscopeSession", cls(url, **session_options))

    @classmethod
    def simulate(
        cls: type[Any],
        *,
        require_authorization: bool = False,
        allow_console: bool = False,
        visitor: dict[str, Any] | None = None,
        seed: int | None = None,
        time_scale: float = 1.0,
        latency_ms: int = 0,
        **session_options: Any,
    ) -> UpscopeSession:
        """Open a session on the built-in simulator: no Upscope account, no network.

        The iframe shows a simulated agent view of a small web shop that answers every
        instruction the way the service does. It goes through the same checks as a real watch
        link (its origin is the notebook page's, the only one trusted for it). Script the
        simulated visitor with :attr:`simulator`.

        Args:
            require_authorization: the visitor must accept first (status ``pendingRequest``).
            allow_console: whether ``run_console_command`` is allowed (else an ``error``).
            visitor: the simulated visitor (camelCase keys, as in the state).
            seed: makes the simulation reproducible.
            time_scale: multiplies every simulated delay (0: as fast as possible).
            latency_ms: extra delay before the simulator answers an instruction.
            **session_options: as for the constructor (``width``, ``height``).
        """
        from pydantic import ValidationError

        from .simulator import SimulatorControl, SimulatorOptions, build_page

        try:
            options = SimulatorOptions.model_validate(
                {
                    "require_authorization": require_authorization,
                    "allow_console": allow_console,
                    "visitor": visitor,
                    "seed": seed,
                    "time_scale": time_scale,
                    "latency_ms": latency_ms,
                }
            )
        except ValidationError as err:
            raise ValueError(protocol.describe_error(err, "simulate")) from None
        page = build_page(options)
        session = cast("UpscopeSession", cls("", _simulator_page=page, **session_options))
        session.attach_simulator(SimulatorControl)
        return session

    def summary(self) -> SessionSummary:
        """Key figures of the session so far (from :attr:`log`): see ``SessionLog.summary``."""
        return self._session.log.summary()

    def tool_specs(
        self,
        format: str = "openai",
        *,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Return the instructions as tool definitions for an LLM.

        Besides the instructions: ``get_session_state`` and ``wait_for_status``. Generated
        from the same models that validate the methods.

        ``format``: ``"openai"`` (chat completions, strict mode), ``"openai-responses"``,
        ``"anthropic"``, ``"mcp"`` or ``"json_schema"``. ``include``: the tool names to offer
        (default: all but ``run_console_command``, which runs code in the visitor's page;
        ``"all"``: every tool); ``exclude``: names to leave out.
        """
        from .agents.tools import tool_specs

        return tool_specs(format, include=include, exclude=exclude)

    async def run_tool_call(
        self,
        name: str,
        arguments: str | dict[str, Any] | None = None,
        *,
        wait: bool = False,
        timeout: float = 10.0,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Run one tool call from a model; return a JSON-ready answer for it.

        ``arguments`` is the JSON string a model returns, or a dict. The call is validated,
        then its instruction sent: ``{"ok": True, "sent": <wire instruction>}``; with
        ``wait=True`` also the ``"state"`` once the effect showed (or a ``"timeout"`` note with
        the last state). A bad call (unknown or excluded tool, malformed JSON, a bad argument)
        never raises and sends nothing: ``{"ok": False, "error": "<one sentence>"}``.
        ``include`` / ``exclude`` choose the tools offered, as in :meth:`tool_specs`.
        """
        from .agents.runner import run_tool_call

        return await run_tool_call(
            self._session, name, arguments,
            wait=wait, timeout=timeout, include=include, exclude=exclude,
        )

    async def run_tool_calls(
        self,
        calls: Iterable[Any],
        *,
        wait: bool = False,
        timeout: float = 10.0,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Run the tool calls a model returned, in order.

        Takes OpenAI chat or Responses calls, Anthropic ``tool_use`` blocks, or
        ``{"name", "arguments"}``; text blocks are skipped.

        Returns one ``{"call_id", "name", "result"}`` per call, ``result`` as from
        :meth:`run_tool_call`.
        """
        from .agents.runner import run_tool_calls

        return await run_tool_calls(
            self._session, calls, wait=wait, timeout=timeout, include=include, exclude=exclude
        )

    async def perform(
        self, action: str, /, *, timeout: float = 10.0, **params: Any
    ) -> EmbeddedSessionState | None:
        """Send an instruction and wait until the state shows its effect; return the state.

        ``action`` is a method name (``"set_mode"``) or a wire action (``"setMode"``):
        ``await session.perform("set_mode", mode="draw")`` returns once ``control_tool`` is
        ``"drawing"``. Effects awaited: tool, color, URL, active tab, audio, mute, video, full
        tab, the end of the session (see ``upscope_widget.agents.EFFECTS``); instructions
        without one in the state return at once. Raises ``ValueError`` for a bad instruction
        (nothing sent) and ``upscope_widget.agents.EffectTimeoutError`` (a ``TimeoutError``
        with ``.state``, ``.effect`` and ``.errors``) when the effect does not show in time.
        """
        from .agents.effects import perform

        return await perform(self._session, action, params, timeout)

    def events(
        self,
        types: str | Iterable[str] | None = None,
        *,
        timeout: float | None = None,
        max_buffer: int | None = None,
    ) -> EventStream:
        """``async for event in session.events(): ...``: every event as it arrives, in order.

        ``types``: a wire event type or several (e.g. ``"customMessage"``) to keep only those.
        ``timeout``: seconds to wait for each next event before ``TimeoutError`` (``None``:
        forever). ``max_buffer``: how many unread events it keeps (default 1000); when more
        arrive unread, the oldest go, and the stream warns and counts them (``dropped``). The
        stream stops listening when the loop ends; call it where an asyncio loop runs (a
        notebook cell).
        """
        from .agents.effects import MAX_BUFFER, EventStream

        return EventStream(self._session, types, timeout,
                           max_buffer=MAX_BUFFER if max_buffer is None else max_buffer)

    def run_headless(
        self,
        *,
        browser: Any = None,
        executable_path: str | os.PathLike[str] | None = None,
        viewport: tuple[int, int] = (1280, 800),
        timeout: float = 30.0,
    ) -> AbstractAsyncContextManager[HeadlessView]:
        """``async with session.run_headless() as view:`` the session in headless Chromium.

        No Jupyter, no kernel: the package's own frontend (the same bridge, checks, batching
        and toolbar) runs in a page of headless Chromium driven by Playwright, connected to
        this session; traits, methods, callbacks, awaits, the log and tool calls work as in a
        notebook. ``view.screenshot()`` returns a PNG, the session's iframe included.

        ``browser``: a Playwright ``Browser`` to share between sessions (else one is started
        and closed with the block). ``executable_path``: the Chromium to start (default:
        Playwright's own, else the system's ``chromium``). ``viewport``: the page's size in
        pixels. ``timeout``: seconds for the page and the frontend to start. Needs the extra:
        ``pip install 'upscope-widget[headless]'``.
        """
        from .headless import run_headless

        return run_headless(self._session, browser=browser, executable_path=executable_path,
                            viewport=viewport, timeout=timeout)

    def serve_mcp(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        allow_remote: bool = False,
        token: str | None = None,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> McpServerHandle:
        """Serve this session's tools over MCP (streamable HTTP) from the running kernel.

        Returns a handle with ``url``, ``token`` and ``stop()``. Clients must send
        ``Authorization: Bearer <token>``. The server binds ``host`` (loopback by default;
        anything else needs ``allow_remote=True``) and runs on the kernel's own asyncio loop,
        so tool calls never race the cell's code. Tool calls wait for their effect
        (``wait=True``) up to ``timeout`` seconds. Needs the extra:
        ``pip install 'upscope-widget[agents]'``.
        """
        from .agents.mcp import serve_mcp

        return serve_mcp(
            self._session, port, host=host, allow_remote=allow_remote, token=token, include=include,
            exclude=exclude, wait=wait, timeout=timeout,
        )
