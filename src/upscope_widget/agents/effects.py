"""Effects you can await: what each instruction changes in the state, ``perform`` and ``events``.

The protocol has no acknowledgements: an instruction's effect shows only in a later snapshot.
:data:`EFFECTS` says, for each instruction, which snapshot shows it, the way the service (and
the simulator page, which answers the same way) reflects it. It is the one table of this in the
package.

Values are compared with the state a snapshot brings, and "changed" means changed from the
state Python had when the instruction was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_snake

from .. import protocol
from .._waiting import check_timeout
from ..errors import NoFrontendError, SessionEndedError, SessionErrorInfo

if TYPE_CHECKING:
    from ..protocol import AnyEvent, EmbeddedSessionState
    from ..session import UpscopeSession

# State values an effect waits for (wire enum values; a unit test checks each against
# protocol.STATE_ENUMS so they cannot drift from the protocol).
AUDIO_OFF = "off"
FULL_SCREEN_MODE = "visitor_screen"
VIDEO_OFF = "off"

#: How long ``events()`` waits for a frontend to show up before saying that none will.
FRONTEND_GRACE = 5.0
#: How many unread events an ``events()`` stream keeps before it drops the oldest.
MAX_BUFFER = 1000


@dataclass(frozen=True)
class Effect:
    """What a snapshot must show for an instruction to have taken effect."""

    description: str
    holds: Callable[[UpscopeSession], bool]


def _same_url(a: str | None, b: str) -> bool:
    # a service may add the root path's slash: "https://x.example" -> "https://x.example/"
    return a is not None and a.rstrip("/") == b.rstrip("/")


def _mode(params: dict[str, Any], before: UpscopeSession) -> Effect:
    tool = protocol.CONTROL_TOOL_FOR_MODE[params["mode"]]
    return Effect(f"control_tool == {tool!r}", lambda s: s.control_tool == tool)


def _color(params: dict[str, Any], before: UpscopeSession) -> Effect:
    old = before.color
    color = params.get("color")
    if color is None:
        return Effect(f"color changes from {old!r} (next built-in color)",
                      lambda s: s.color != old)
    # a service may write the color its own way ('red' -> '#ff0000'): a change counts too
    return Effect(
        f"color == {color!r}",
        lambda s: (s.color or "").lower() == color.lower() or (old != color and s.color != old),
    )


def _audio(params: dict[str, Any], before: UpscopeSession) -> Effect:
    if params["on"]:
        # on: the call rings the visitor at once; whether they accept is up to them
        return Effect("audio_state leaves 'off' (the call rings)",
                      lambda s: s.audio_state not in (None, AUDIO_OFF))
    return Effect("audio_state == 'off'", lambda s: s.audio_state == AUDIO_OFF)


def _video_on(params: dict[str, Any], before: UpscopeSession) -> Effect:
    return Effect("is_video_on == True", lambda s: s.is_video_on is True)


def _video_off(params: dict[str, Any], before: UpscopeSession) -> Effect:
    return Effect("is_video_on == False", lambda s: s.is_video_on is False)


def _video_toggle(params: dict[str, Any], before: UpscopeSession) -> Effect:
    # the service decides from the agent's video state, as the simulator does
    if before.video_agent_state in (None, VIDEO_OFF) and not before.is_video_on:
        return _video_on(params, before)
    return _video_off(params, before)


def _muted(params: dict[str, Any], before: UpscopeSession) -> Effect:
    muted = params["muted"]
    return Effect(f"muted == {muted!r}", lambda s: s.muted is muted)


def _url(params: dict[str, Any], before: UpscopeSession) -> Effect:
    url, old = params["url"], before.current_url
    # a redirect on the visitor's site lands elsewhere: any change of page counts
    return Effect(
        f"current_url == {url!r}",
        lambda s: _same_url(s.current_url, url) or (
            not _same_url(old, url) and s.current_url != old
        ),
    )


def _history(params: dict[str, Any], before: UpscopeSession) -> Effect:
    old = before.current_url
    return Effect(f"current_url changes from {old!r}", lambda s: s.current_url != old)


def _connection(params: dict[str, Any], before: UpscopeSession) -> Effect:
    wanted = params["connectionId"]
    return Effect(f"active_connection_id == {wanted!r}",
                  lambda s: s.active_connection_id == wanted)


def _full_tab(params: dict[str, Any], before: UpscopeSession) -> Effect:
    return Effect(f"mode == {FULL_SCREEN_MODE!r}", lambda s: s.mode == FULL_SCREEN_MODE)


def _stop_full_tab(params: dict[str, Any], before: UpscopeSession) -> Effect:
    return Effect(f"mode != {FULL_SCREEN_MODE!r}",
                  lambda s: s.mode is not None and s.mode != FULL_SCREEN_MODE)


def _end(params: dict[str, Any], before: UpscopeSession) -> Effect:
    return Effect("the session ends", lambda s: s.ended)


#: Wire action -> how its effect shows (from the wire parameters and the state before), or
#: ``None``: no effect in the state to wait for (it shows only in the visitor's page).
EFFECTS: dict[str, Callable[[dict[str, Any], UpscopeSession], Effect] | None] = {
    protocol.END_SESSION: _end,
    protocol.SET_MODE: _mode,
    protocol.SWITCH_COLOR: _color,
    protocol.TOGGLE_AUDIO: _audio,
    protocol.TOGGLE_VIDEO: _video_toggle,
    protocol.SET_MUTED: _muted,
    protocol.BEGIN_VIDEO: _video_on,
    protocol.END_VIDEO: _video_off,
    protocol.FORCE_REFRESH: None,
    protocol.HISTORY_BACK: _history,
    protocol.HISTORY_FORWARD: _history,
    protocol.RELOAD_PAGE: None,
    protocol.REQUEST_CONTROL: None,
    protocol.REQUEST_FULL_TAB: _full_tab,
    protocol.RUN_CONSOLE_COMMAND: None,
    protocol.SEND_CUSTOM_MESSAGE: None,
    protocol.SET_ACTIVE_CONNECTION: _connection,
    protocol.SET_CURRENT_URL: _url,
    protocol.STOP_FULL_TAB: _stop_full_tab,
    protocol.EMOJI_CONFETTI: None,
}

#: Python method name -> wire action, for every instruction.
METHOD_ACTIONS: dict[str, str] = {
    to_snake(action): action for action in protocol.INSTRUCTION_PARAMS
}


class EffectTimeoutError(TimeoutError):
    """An instruction was sent, but the state did not show its effect in time.

    Attributes:
        action: the wire action sent.
        effect: what the state was expected to show, e.g. ``"control_tool == 'drawing'"``.
        state: the last state (an ``EmbeddedSessionState``, or ``None`` before any).
        errors: ``error`` events the session reported while waiting (a refusal shows here).
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        effect: str,
        state: EmbeddedSessionState | None,
        errors: list[SessionErrorInfo],
    ) -> None:
        super().__init__(message)
        self.action = action
        self.effect = effect
        self.state = state
        self.errors = errors


def resolve_action(name: str) -> str:
    """Return the wire action for a method name (``"set_mode"``) or a wire action."""
    if isinstance(name, str):
        if name in protocol.INSTRUCTION_PARAMS:
            return name
        if name in METHOD_ACTIONS:
            return METHOD_ACTIONS[name]
    raise ValueError(
        f"{name!r} is not an instruction; allowed: the method names "
        f"{', '.join(METHOD_ACTIONS)} (or their wire actions such as 'setMode')"
    )


def expected_effect(session: UpscopeSession, wire: dict[str, Any]) -> Effect | None:
    """How the instruction ``wire`` (``{"action": …, …}``) will show, given the state now.

    ``None`` when nothing will show: an instruction with no effect in the state, or any sent
    to a session that never applies them (a replay, ``read_only``).
    """
    factory = EFFECTS.get(wire["action"])
    if factory is None or session.read_only:
        return None
    params = {k: v for k, v in wire.items() if k != "action"}
    return factory(params, session)


async def perform(
    session: UpscopeSession,
    action_or_method: str,
    params: dict[str, Any],
    timeout: float = 10.0,
    *,
    source: str = "python",
) -> EmbeddedSessionState | None:
    """Send an instruction and wait until the state shows its effect; return the state.

    ``source`` is who sends it (``"python"``, ``"agent"``, ``"mcp"``), as the log and
    ``on_instruction`` show it.

    Raises ``ValueError`` for a bad instruction (nothing is sent), :class:`EffectTimeoutError`
    if the effect does not show within ``timeout`` seconds, ``SessionEndedError`` if the
    session ends first (or had ended), and ``NoFrontendError`` if no frontend shows the
    session.
    """
    check_timeout(timeout)
    action = resolve_action(action_or_method)
    wire = protocol.build_instruction(action, params)
    effect = expected_effect(session, wire)
    errors: list[SessionErrorInfo] = []

    def collect(error: SessionErrorInfo) -> None:
        errors.append(error)

    session.on_error(collect)
    try:
        session.send_instruction(action, source=source, **params)
        if effect is None:
            now: EmbeddedSessionState | None = session.state
            return now
        ending = action == protocol.END_SESSION
        try:
            state = await session.wait_for(
                lambda s: effect.holds(s) or (s.ended and not ending), timeout=timeout
            )
        except NoFrontendError:
            raise
        except TimeoutError:
            raise EffectTimeoutError(
                _timeout_message(session, action, effect, timeout, errors),
                action=action,
                effect=effect.description,
                state=session.state,
                errors=list(errors),
            ) from None
        if not effect.holds(session):
            raise SessionEndedError(
                f"{action}: the session ended (reason: {session.ended_reason or 'terminated'}) "
                f"before the state showed {effect.description}"
            )
        return session.state if state is None else state
    finally:
        session.on_error(collect, remove=True)


def _timeout_message(
    session: UpscopeSession, action: str, effect: Effect, timeout: float,
    errors: list[SessionErrorInfo],
) -> str:
    parts = [
        f"{action} was sent, but within {timeout:g} s the state never showed "
        f"{effect.description}",
        f"last state: session_status={session.session_status!r}, "
        f"connected={session.connected!r}, control_tool={session.control_tool!r}, "
        f"color={session.color!r}, current_url={session.current_url!r}, "
        f"active_connection_id={session.active_connection_id!r}, "
        f"audio_state={session.audio_state!r}, muted={session.muted!r}, "
        f"is_video_on={session.is_video_on!r}, mode={session.mode!r}",
    ]
    if errors:
        parts.append("the session reported: " + "; ".join(str(e) for e in errors))
    return "; ".join(parts)


# --- events ------------------------------------------------------------------------------------


def check_event_types(types: str | Iterable[str] | None) -> frozenset[str] | None:
    """Validate an event-type filter: ``None`` (every event), a wire type, or several."""
    if types is None:
        return None
    items = [types] if isinstance(types, str) else types
    try:
        chosen = list(items)
    except TypeError:
        chosen = [types]  # type: ignore[list-item]
    for kind in chosen:
        if kind not in protocol.EVENT_TYPES:
            raise ValueError(
                f"types names {kind!r}, which is not an event type; allowed: "
                f"{', '.join(protocol.EVENT_TYPES)}"
            )
    if not chosen:
        raise ValueError(
            f"types is empty, so no event would pass; allowed: {', '.join(protocol.EVENT_TYPES)}"
        )
    return frozenset(chosen)


class _Buffer:
    """The events a stream has not handed out yet: at most ``limit``, the oldest dropped first.

    Filled and read on the stream's loop only (the session's callbacks hop there), so it needs
    no lock. It holds no reference to the stream, which must stay collectable.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.loop = loop
        self.limit = limit
        self.items: deque[AnyEvent] = deque()
        self.dropped = 0  # in all
        self.gap = 0  # dropped since the stream last told
        self.ended = False  # the session was closed
        self._waiter: asyncio.Future[None] | None = None

    def put(self, event: AnyEvent) -> None:
        if len(self.items) >= self.limit:
            self.items.popleft()
            self.dropped += 1
            self.gap += 1
        self.items.append(event)
        self.wake()

    def end(self) -> None:
        self.ended = True
        self.wake()

    def wake(self) -> None:
        """Let a pending read look again (an event came, or the stream or session closed)."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def changed(self) -> None:
        """Return once an event arrives or the session closes."""
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


def _check_max_buffer(max_buffer: Any) -> int:
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer < 1:
        raise ValueError(
            f"max_buffer={max_buffer!r} is not allowed: use the number of unread events a "
            f"stream may keep, an int >= 1, e.g. {MAX_BUFFER}"
        )
    return max_buffer


class EventStream:
    """The session's events as they arrive, in order: ``async for event in session.events()``.

    It listens from the moment it is made, so nothing between making it and the first
    iteration is missed. Its callbacks are removed as soon as the loop ends (``break``, an
    exception, or a timeout): the stream is closed when it is left or dropped, or with
    :meth:`aclose` / ``async with``. It ends (after the events it holds) when the session is
    closed.

    It keeps at most ``max_buffer`` unread events (default :data:`MAX_BUFFER`): a stream made
    and not read would otherwise hold every event for as long as it exists. When more arrive
    unread, the oldest are dropped; :attr:`dropped` counts them, and the next read after a gap
    warns once (``RuntimeWarning``) how many went.
    """

    def __init__(
        self,
        session: UpscopeSession,
        types: str | Iterable[str] | None = None,
        timeout: float | None = None,
        *,
        max_buffer: int = MAX_BUFFER,
    ) -> None:
        check_timeout(timeout)
        self._wanted = check_event_types(types)
        self._timeout = timeout
        self._max_buffer = _check_max_buffer(max_buffer)
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "session.events() needs a running asyncio loop: use it in a notebook cell "
                "(`async for event in session.events(): ...`) or inside a coroutine"
            ) from None
        self._session: UpscopeSession | None = session
        self._buffer = _Buffer(self._loop, self._max_buffer)
        self._checked_frontend = False
        # The callbacks must not refer to the stream: the session holds them, and the stream
        # has to be collectable the moment a `break` drops it (then __del__ stops listening).
        wanted, loop, buffer = self._wanted, self._loop, self._buffer

        def deliver(event: AnyEvent) -> None:
            if wanted is None or event.type in wanted:
                # the widget's comm messages may be handled on another thread than this loop's
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(buffer.put, event)

        def closed() -> None:
            # after the events already on their way: they were scheduled first
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(buffer.end)

        self._deliver = deliver
        self._closed = closed
        session.on_event(deliver)
        session.on_close(closed)

    @property
    def closed(self) -> bool:
        """Whether the stream has stopped listening."""
        return self._session is None

    @property
    def max_buffer(self) -> int:
        """How many unread events the stream keeps before it drops the oldest."""
        return self._max_buffer

    @property
    def dropped(self) -> int:
        """How many events were dropped, in all, because the stream held ``max_buffer``."""
        return self._buffer.dropped

    def close(self) -> None:
        """Stop listening (removes the callbacks); iterating then ends."""
        session, self._session = self._session, None
        if session is not None:
            session.on_event(self._deliver, remove=True)
            session.on_close(self._closed, remove=True)
            # a read pending in another task ends now, not at its timeout
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._buffer.wake)

    async def aclose(self) -> None:
        """Stop listening (removes the callbacks)."""
        self.close()

    def __del__(self) -> None:
        # a `break` drops the stream: stop listening right then, not at some later GC
        with contextlib.suppress(Exception):
            self.close()

    def __aiter__(self) -> EventStream:
        return self

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def __anext__(self) -> AnyEvent:
        buffer = self._buffer
        try:
            if not buffer.items and not buffer.ended and self._session is not None:
                if not self._checked_frontend:
                    await self._frontend(self._session)  # NoFrontendError: a TimeoutError
                    self._checked_frontend = True
                try:
                    await asyncio.wait_for(self._arrival(), self._timeout)
                except asyncio.TimeoutError:
                    kinds = ("event" if self._wanted is None
                             else " or ".join(sorted(self._wanted)) + " event")
                    raise TimeoutError(
                        f"timed out after {self._timeout} s: no {kinds} arrived"
                    ) from None
        except BaseException:
            self.close()
            raise
        if not buffer.items:  # closed: by the stream's owner or with the session
            self.close()
            raise StopAsyncIteration
        if buffer.gap:
            gap, buffer.gap = buffer.gap, 0
            warnings.warn(
                f"session.events() dropped {gap} events (the oldest first) because they "
                f"arrived while the stream already held max_buffer={self._max_buffer} unread "
                f"ones; {buffer.dropped} dropped in all (stream.dropped). Read the stream as "
                "events arrive, or pass a larger max_buffer",
                RuntimeWarning,
                stacklevel=2,
            )
        return buffer.items.popleft()

    async def _arrival(self) -> None:
        buffer = self._buffer
        while not buffer.items and not buffer.ended and self._session is not None:
            await buffer.changed()

    async def _frontend(self, session: UpscopeSession) -> None:
        if session.frontend_connected:
            return
        grace = FRONTEND_GRACE if self._timeout is None else min(self._timeout, FRONTEND_GRACE)
        try:
            await session.wait_for(lambda s: s.frontend_connected, timeout=grace)
        except NoFrontendError:
            raise
        except TimeoutError:
            if not session.frontend_connected:
                raise NoFrontendError(
                    "no frontend shows this session, so no event can arrive: display it (end "
                    "a cell with `session`) in a notebook open in a browser, then iterate again"
                ) from None
