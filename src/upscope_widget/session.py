"""``UpscopeSession``: a live Upscope co-browsing session as a Jupyter widget."""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anywidget
import pydantic
import traitlets

from . import _bridge, protocol
from ._callbacks import Callbacks
from ._traits import SessionTrait, applying, strict_equal
from ._waiting import Waiters
from .errors import NoFrontendError, SessionEndedError, SessionError, UpscopeProtocolWarning
from .log import SessionLog
from .protocol import AnyEvent, EmbeddedSessionState
from .urls import check_watch_url, origin_of

if TYPE_CHECKING:
    from .rest import UpscopeClient
    from .simulator import SimulatorControl

_STATIC = Path(__file__).parent / "static"
_LOG = logging.getLogger("upscope_widget")
_MAX_NOTICES = 20
#: How long an ``await`` waits for a frontend to show up before saying that none will.
FRONTEND_GRACE = 5.0
_CSS_LENGTH = re.compile(r"^\d+(\.\d+)?(px|%|em|rem|vh|vw|ch)$")

F = TypeVar("F", bound=Callable[..., Any])


class UpscopeSession(anywidget.AnyWidget):
    """A live Upscope co-browsing session, shown in the notebook and driven from Python.

    ``UpscopeSession(url)`` embeds a secure watch link made with ``branding.naked =
    "page_only"``. The session's state arrives as read-only traits (snake_case names of the
    protocol's ``EmbeddedSessionState`` properties) and as :attr:`state`; each instruction of the
    protocol is a method; events reach the ``on_*`` callbacks.

    Args:
        url: the watch link: ``https:``, or ``http:`` only for localhost / 127.0.0.1 / [::1].
        width: the iframe's width: pixels (int) or a CSS length such as ``"100%"``.
        height: the iframe's height: pixels (int) or a CSS length.
        log_size: how many entries :attr:`log` keeps (0 turns the log off).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    url = traitlets.Unicode(help="The watch link shown in the iframe.").tag(sync=True)
    width = traitlets.Union(
        [traitlets.Int(), traitlets.Unicode()],
        default_value="100%",
        help="Width of the iframe: pixels or a CSS length.",
    ).tag(sync=True)
    height = traitlets.Union(
        [traitlets.Int(), traitlets.Unicode()],
        default_value=640,
        help="Height of the iframe: pixels or a CSS length.",
    ).tag(sync=True)
    _session_id = traitlets.Unicode().tag(sync=True)
    _notices = traitlets.List(traitlets.Dict()).tag(sync=True)
    _simulator_page = traitlets.Unicode("").tag(sync=True)

    # --- the session's state, one trait per EmbeddedSessionState property -------------------
    active_connection_id = SessionTrait(help="ID of the visitor connection being viewed.")
    agent_idleness = SessionTrait(help="'active', 'willDisconnect' or 'disconnected'.")
    audio_state = SessionTrait(help="'off', 'ringing', 'accepted', 'authorizing' or 'active'.")
    available_modes = SessionTrait(help="Sharing modes available in the session (list).")
    color = SessionTrait(help="Color of the agent's drawing and pointer tools.")
    connected = SessionTrait(help="Whether the session is connected.")
    connections = SessionTrait(help="All visitor connections (list of dicts, wire keys).")
    control_tool = SessionTrait(help="'cursor', 'drawing', 'pointer' or None.")
    current_url = SessionTrait(help="URL of the active visitor connection.")
    data_bounce_speed = SessionTrait(help="Round-trip data latency in ms (>500: slow).")
    is_video_on = SessionTrait(help="Whether video streaming is active.")
    mode = SessionTrait(help="Sharing mode, e.g. 'visitor_browser'; None before the start.")
    muted = SessionTrait(help="Whether the agent's audio is muted.")
    observers_count = SessionTrait(help="Number of agents observing the session.")
    session_status = SessionTrait(
        help="'waiting', 'pendingRequest', 'active', 'snapshotReceived', 'viewerReady' or "
        "'terminated'."
    )
    size = SessionTrait(help="Viewer size in pixels: {'width': …, 'height': …}.")
    video_agent_state = SessionTrait(help="'off', 'authorizing:<observerId>' or 'active:<…>'.")
    video_visitor_state = SessionTrait(
        help="'off', 'ringing', 'authorizing:<connectionId>' or 'active:<connectionId>'."
    )
    viewer_audio_available = SessionTrait(help="Whether audio is available on the agent side.")
    visitor = SessionTrait(help="The visitor (dict with camelCase keys), None before the start.")
    visitor_audio_available = SessionTrait(help="Whether audio is available for the visitor.")

    state = SessionTrait(help="The latest snapshot as an EmbeddedSessionState, or None.")
    last_error = SessionTrait(help="The latest SessionError the session reported, or None.")
    ended_reason = SessionTrait(help="'ended' or 'error' once the session ended, else None.")
    rejected_messages = SessionTrait(
        help="Messages ignored because they came from another window or origin."
    )

    def __init__(
        self,
        url: str,
        *,
        width: int | str = "100%",
        height: int | str = 640,
        log_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        if not (_STATIC / "widget.js").is_file():
            raise RuntimeError(
                f"the widget's frontend is not built ({_STATIC / 'widget.js'} is missing): "
                "install the package with `pip install -e .` (needs Node.js/npm) "
                "or run `npm install && npm run build`."
            )
        self._outbox = _bridge.Outbox()
        self._decoder = _bridge.InboundDecoder()
        self._raw_state: dict[str, Any] = {}
        self._ended = False
        self._simulator: SimulatorControl | None = None
        self._waiters = Waiters()
        self._log = SessionLog(log_size)
        self._frontend_connected = False
        self._owner: object = None  # the frontend that may show the iframe (the latest hello)
        self._on_state_change = Callbacks(self._callback_failed)
        self._on_custom_message = Callbacks(self._callback_failed)
        self._on_error = Callbacks(self._callback_failed)
        self._on_session_ended = Callbacks(self._callback_failed)
        self._on_event = Callbacks(self._callback_failed)
        super().__init__(
            url=url, width=width, height=height, _session_id=uuid.uuid4().hex, **kwargs
        )
        with applying(self):
            self.rejected_messages = 0
        self.on_msg(self._handle_frontend_message)

    # --- configuration ------------------------------------------------------------------------

    @traitlets.validate("url")
    def _validate_url(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value == "" and self._simulator_page:
            return ""
        return check_watch_url(value)

    @traitlets.validate("width", "height")
    def _validate_length(self, proposal: dict[str, Any]) -> int | str:
        value = proposal["value"]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if isinstance(value, str) and _CSS_LENGTH.match(value.strip()):
            return value.strip()
        raise ValueError(
            f"{proposal['trait'].name}={value!r} is not allowed: use pixels (a positive int) "
            "or a CSS length such as '100%', '640px', '40rem', '80vh'"
        )

    @traitlets.observe("url")
    def _url_changed(self, change: dict[str, Any]) -> None:
        if change["new"] and self._simulator_page:
            # a real link replaces the simulator
            self._simulator = None
            self._simulator_page = ""
        dropped = self._outbox.clear()
        if dropped:
            self._notice(
                "warning",
                f"{dropped} instruction(s) not yet delivered to the previous link were dropped "
                "because the url changed.",
            )
        self._reset_session_state()

    @property
    def origin(self) -> str:
        """The origin the iframe's messages must come from (the watch link's origin)."""
        return origin_of(self.url) if self.url else "(simulator: the notebook page's origin)"

    @property
    def notices(self) -> list[dict[str, str]]:
        """Warnings and callback errors shown under the widget, oldest first."""
        return [dict(n) for n in self._notices]

    @property
    def log(self) -> SessionLog:
        """Every instruction sent and event received, in order (bounded by ``log_size``)."""
        return self._log

    @property
    def frontend_connected(self) -> bool:
        """Whether a frontend (a notebook open in a browser) has shown up for this widget."""
        return self._frontend_connected

    @property
    def ended(self) -> bool:
        """Whether the session has ended (``sessionEnded`` or status ``terminated``)."""
        return self._ended

    @property
    def pending_instructions(self) -> list[dict[str, Any]]:
        """Instructions no frontend has posted to the iframe yet, in order."""
        return [message for _, message in self._outbox.pending()]

    def __repr__(self) -> str:
        where = self.origin if self.url else "simulator"
        return (
            f"<UpscopeSession {where} status={self.session_status!r} "
            f"connected={self.connected!r} current_url={self.current_url!r}>"
        )

    # --- construction helpers -----------------------------------------------------------------

    @classmethod
    def for_visitor(
        cls,
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
        return cls(url, **session_options)

    @classmethod
    def simulate(
        cls,
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
        except pydantic.ValidationError as err:
            raise ValueError(protocol.describe_error(err, "simulate")) from None
        session = cls("", _simulator_page=build_page(options), **session_options)
        session._simulator = SimulatorControl(post=session._post)
        return session

    @property
    def simulator(self) -> SimulatorControl:
        """The scripting handle of a simulated session (see :meth:`simulate`)."""
        if self._simulator is None:
            raise AttributeError(
                "this session shows a real watch link; only sessions made with "
                "UpscopeSession.simulate() have a simulator"
            )
        return self._simulator

    @property
    def simulated(self) -> bool:
        """Whether the session runs on the built-in simulator."""
        return self._simulator is not None

    # --- instructions -------------------------------------------------------------------------

    def send_instruction(self, action: str, /, **params: Any) -> None:
        """Send any instruction: documented ones are validated, others passed through as JSON.

        ``session.send_instruction("setMode", mode="draw")`` is ``session.set_mode("draw")``.
        """
        self._instruct(action, params)

    def end_session(self) -> None:
        """Terminate the session (``endSession``)."""
        self._instruct(protocol.END_SESSION, {})

    def set_mode(self, mode: str | None) -> None:
        """Choose the agent's tool: ``"draw"``, ``"pointer"``, ``"cursor"`` or ``None``."""
        self._instruct(protocol.SET_MODE, {"mode": mode})

    def switch_color(self, color: str | None = None) -> None:
        """Set the agent's color, or without one cycle through the built-in colors."""
        self._instruct(protocol.SWITCH_COLOR, {} if color is None else {"color": color})

    def toggle_audio(self, on: bool) -> None:
        """Turn the audio call on (``True``) or off (``False``)."""
        self._instruct(protocol.TOGGLE_AUDIO, {"on": on})

    def toggle_video(self) -> None:
        """Toggle video streaming."""
        self._instruct(protocol.TOGGLE_VIDEO, {})

    def set_muted(self, muted: bool) -> None:
        """Mute (``True``) or unmute (``False``) the agent's audio."""
        self._instruct(protocol.SET_MUTED, {"muted": muted})

    def begin_video(self) -> None:
        """Begin video streaming."""
        self._instruct(protocol.BEGIN_VIDEO, {})

    def end_video(self) -> None:
        """End video streaming."""
        self._instruct(protocol.END_VIDEO, {})

    def force_refresh(self) -> None:
        """Force a refresh of the session."""
        self._instruct(protocol.FORCE_REFRESH, {})

    def history_back(self) -> None:
        """Navigate back in the visitor's history."""
        self._instruct(protocol.HISTORY_BACK, {})

    def history_forward(self) -> None:
        """Navigate forward in the visitor's history."""
        self._instruct(protocol.HISTORY_FORWARD, {})

    def reload_page(self) -> None:
        """Reload the visitor's current page."""
        self._instruct(protocol.RELOAD_PAGE, {})

    def request_control(self) -> None:
        """Ask the visitor for control of the session."""
        self._instruct(protocol.REQUEST_CONTROL, {})

    def request_full_tab(self) -> None:
        """Ask for full-tab control."""
        self._instruct(protocol.REQUEST_FULL_TAB, {})

    def run_console_command(self, command: str) -> None:
        """Run a JavaScript command in the visitor's console."""
        self._instruct(protocol.RUN_CONSOLE_COMMAND, {"command": command})

    def send_custom_message(self, message: dict[str, Any]) -> None:
        """Send a JSON object to the visitor's SDK."""
        self._instruct(protocol.SEND_CUSTOM_MESSAGE, {"message": message})

    def set_active_connection(self, connection_id: str) -> None:
        """View another visitor connection (tab), by an id from :attr:`connections`."""
        self._instruct(protocol.SET_ACTIVE_CONNECTION, {"connection_id": connection_id})

    def set_current_url(self, url: str) -> None:
        """Navigate the visitor's page to an absolute ``http:``/``https:`` URL."""
        self._instruct(protocol.SET_CURRENT_URL, {"url": url})

    def stop_full_tab(self) -> None:
        """Stop full-tab control."""
        self._instruct(protocol.STOP_FULL_TAB, {})

    def emoji_confetti(self, emoji: str) -> None:
        """Rain confetti of ``emoji`` on the visitor's page."""
        self._instruct(protocol.EMOJI_CONFETTI, {"emoji": emoji})

    def _instruct(self, action: str, params: dict[str, Any]) -> None:
        self._post(protocol.build_instruction(action, params))

    def _post(self, message: dict[str, Any]) -> None:
        """Send an instruction (or a simulator control message): numbered, logged, kept."""
        if self._ended:
            raise SessionEndedError(
                f"cannot send {message['action']!r}: the session has ended "
                f"(reason: {self.ended_reason or self.session_status}). "
                "Set session.url to a new watch link or create a new session."
            )
        self._log.add("out", str(message["action"]), message)
        seq = self._outbox.add(message)
        self.send({"kind": _bridge.INSTRUCTIONS, "items": [[seq, message]]})

    # --- callbacks ----------------------------------------------------------------------------

    def on_state_change(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(state, changed)`` on every snapshot that changed something.

        ``state`` is the new :class:`EmbeddedSessionState`; ``changed`` the set of snake_case
        names that differ from the previous snapshot. Returns ``callback`` (usable as a
        decorator); ``remove=True`` unregisters it.
        """
        self._on_state_change.register(callback, remove)
        return callback

    def on_custom_message(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(message: dict)`` for every ``customMessage`` from the visitor."""
        self._on_custom_message.register(callback, remove)
        return callback

    def on_error(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(error: SessionError)`` for every ``error`` event."""
        self._on_error.register(callback, remove)
        return callback

    def on_session_ended(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(reason)`` when the session ends (``"ended"`` or ``"error"``)."""
        self._on_session_ended.register(callback, remove)
        return callback

    def on_event(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(event)`` for every event, as a typed model (see ``protocol``)."""
        self._on_event.register(callback, remove)
        return callback

    # --- awaiting ----------------------------------------------------------------------------

    async def wait_for(
        self, condition: Callable[[UpscopeSession], bool], *, timeout: float | None = 10.0
    ) -> EmbeddedSessionState | None:
        """Wait until ``condition(session)`` is true; return the state at that moment.

        Checked now and after every event. In a notebook cell:
        ``await session.wait_for(lambda s: s.control_tool == "drawing")``.
        Raises ``TimeoutError`` after ``timeout`` seconds (``None``: wait forever).
        """
        if not callable(condition):
            raise TypeError(f"condition must be a callable taking the session, got {condition!r}")
        result: EmbeddedSessionState | None = await self._await(
            lambda _event: bool(condition(self)),
            lambda _event: self.state,
            timeout,
            lambda: f"condition {getattr(condition, '__name__', condition)} never held "
            f"(session_status={self.session_status!r})",
        )
        return result

    async def wait_for_status(
        self, status: str, *, timeout: float | None = 10.0
    ) -> EmbeddedSessionState | None:
        """Wait until ``session_status`` is ``status`` (e.g. ``"viewerReady"``)."""
        known = protocol.STATE_ENUMS["sessionStatus"]
        if status not in known:
            raise ValueError(f"status={status!r} is not a session status; allowed: {known}")
        return await self.wait_for(lambda s: s.session_status == status, timeout=timeout)

    async def next_event(
        self, type: str | None = None, *, timeout: float | None = 10.0
    ) -> AnyEvent:
        """Wait for the next event (of wire ``type``, e.g. ``"customMessage"``, if given)."""
        if type is not None and (not isinstance(type, str) or not type):
            raise ValueError(f"type must be an event type such as {protocol.EVENT_TYPES}, "
                             f"got {type!r}")
        event: AnyEvent = await self._await(
            lambda e: e is not None and (type is None or e.type == type),
            lambda e: e,
            timeout,
            lambda: f"no {type or 'event'} arrived",
        )
        return event

    async def _await(
        self,
        check: Callable[[Any], bool],
        result: Callable[[Any], Any],
        timeout: float | None,
        describe: Callable[[], str],
    ) -> Any:
        return await self._waiters.wait(
            check, result, timeout, describe, before_waiting=lambda: self._frontend(timeout)
        )

    async def _frontend(self, timeout: float | None) -> None:
        """Return once a frontend shows the session; raise NoFrontendError if none comes."""
        grace = FRONTEND_GRACE if timeout is None else min(timeout, FRONTEND_GRACE)
        try:
            await self._waiters.wait(
                lambda _e: self._frontend_connected, lambda _e: None, grace, lambda: ""
            )
        except TimeoutError:
            raise NoFrontendError(
                "no frontend shows this session, so nothing can arrive: display it (end a "
                "cell with `session`) in a notebook open in a browser, then wait again"
            ) from None

    # --- inbound ------------------------------------------------------------------------------

    def _handle_frontend_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        frontend = content.get("frontend")
        if kind == _bridge.HELLO:
            # The latest frontend to start (a reload, a second browser tab) or to claim the
            # session owns it: one iframe, one connection, one stream of snapshots.
            previous = self._owner
            if frontend != previous:
                self._owner = frontend
                self._decoder.reset()
            self.send({"kind": _bridge.OWNER, "frontend": frontend, "previous": previous})
            self._frontend_connected = True
            self._waiters.notify(None)
            self._acknowledge(content.get("posted"))
            pending = self._outbox.pending()
            if pending:
                self.send({"kind": _bridge.INSTRUCTIONS, "items": [list(p) for p in pending]})
        elif kind == _bridge.BATCH:
            # What any frontend posted was delivered, even one that has just lost the session;
            # its events, though, come from an iframe it is dropping.
            self._acknowledge(content.get("posted"))
            if frontend != self._owner:
                if content.get("released"):
                    # the new owner holds back what it got until it hears what we posted
                    posted = content.get("posted")
                    self.send({"kind": _bridge.DELIVERED, "upTo": posted, "by": frontend})
                return
            rejected = content.get("rejected")
            if isinstance(rejected, int) and rejected > 0:
                with applying(self):
                    self.rejected_messages = self.rejected_messages + rejected
            for message, problem in self._decoder.decode(content.get("events")):
                if problem is not None:
                    self._protocol_problem(problem)
                else:
                    self._receive(message)
        elif kind == _bridge.DISMISS:
            self._notices = []

    def _acknowledge(self, posted: Any) -> None:
        if isinstance(posted, int) and not isinstance(posted, bool):
            self._outbox.ack(posted)

    def _receive(self, raw: Any) -> None:
        event, problems = protocol.parse_event(raw)
        for problem in problems:
            self._protocol_problem(problem)
        if event is None:
            return
        if isinstance(event, protocol.StateUpdateEvent):
            self._apply_state(event.state, raw["state"])
        else:
            self._log.add("in", event.type, raw)
        if isinstance(event, protocol.ErrorEvent):
            error = SessionError.from_code(event.error)
            with applying(self):
                self.last_error = error
            self._on_error(error)
        elif isinstance(event, protocol.SessionEndedEvent):
            self._ended = True
            with applying(self):
                self.ended_reason = event.reason
            self._on_session_ended(event.reason)
        elif isinstance(event, protocol.CustomMessageEvent):
            self._on_custom_message(event.message)
        self._on_event(event)
        self._waiters.notify(event)

    def _apply_state(self, state: EmbeddedSessionState, raw: dict[str, Any]) -> None:
        # fields_set holds documented fields by attribute name and unknown ones by wire name
        valid = [protocol.STATE_FIELDS.get(name, name) for name in state.model_fields_set]
        new = {k: raw[k] for k in valid if k in raw}
        old = self._raw_state
        # An unchanged property is the very same object from one snapshot to the next (the
        # decoder keeps it): strict_equal settles it by identity first.
        changed_wire = {
            k
            for k in new.keys() | old.keys()
            if not strict_equal(old.get(k), new.get(k))
        }
        self._raw_state = new
        changed = {protocol.WIRE_TO_FIELD.get(k, k) for k in changed_wire}
        self._log.add(
            "in",
            protocol.STATE_UPDATE,
            {k: new[k] for k in changed_wire if k in new},
            frozenset(changed),
        )
        with applying(self), self.hold_trait_notifications():
            for name, wire in protocol.STATE_FIELDS.items():
                if wire in changed_wire:
                    setattr(self, name, new.get(wire))
            self.state = state
        if state.session_status == "terminated":
            self._ended = True
        if changed:
            self._on_state_change(state, changed)

    def _reset_session_state(self) -> None:
        self._decoder.reset()
        self._raw_state = {}
        self._ended = False
        with applying(self), self.hold_trait_notifications():
            for name in protocol.STATE_FIELDS:
                setattr(self, name, None)
            self.state = None
            self.last_error = None
            self.ended_reason = None

    # --- notices ------------------------------------------------------------------------------

    def _notice(self, level: str, text: str) -> None:
        (_LOG.error if level == "error" else _LOG.warning)("%s", text)
        self._notices = [*self._notices, {"level": level, "text": text}][-_MAX_NOTICES:]

    def _protocol_problem(self, text: str) -> None:
        warnings.warn(text, UpscopeProtocolWarning, stacklevel=2)
        self._notice("warning", text)

    def _callback_failed(self, text: str) -> None:
        self._notice("error", text)

