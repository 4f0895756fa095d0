"""``UpscopeSession``: a live Upscope co-browsing session as a Jupyter widget.

The widget holds the traits and delegates the rest to small parts that know nothing of
widgets: the one outbound path (``_outbound``), the hand-over between pages (``_ownership``),
the inbound state mirror (``_mirror``), the notices (``_notices``) and the transports
(``_transport``). The instruction methods and the feature doorways are mixed in from
``_instructions`` and ``_features``. ``docs/architecture.md`` draws how they fit.
"""

from __future__ import annotations

import html
import math
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anywidget
import traitlets

from . import _bridge, _frontends
from ._callbacks import Callbacks
from ._features import FeatureMethods
from ._instructions import InstructionMethods
from ._json import json_problem, short_repr
from ._lazy import lazy_module, load_now
from ._mirror import StateMirror
from ._notices import KernelLog, Notices
from ._outbound import Outbound, check_source, params_of
from ._ownership import Ownership
from ._traits import SessionTrait, applying
from ._traits import update as update_traits
from ._transport import Transport, Transports
from ._waiting import Waiters
from .errors import (
    ERROR_DESCRIPTIONS,
    NoFrontendError,
    SessionEndedError,
    SessionErrorInfo,
    SettingError,
)
from .log import SessionLog
from .urls import check_watch_url, origin_of

if TYPE_CHECKING:
    from . import protocol
    from .protocol import AnyEvent, EmbeddedSessionState
    from .simulator import SimulatorControl
    from .simulator.replay import ReplayPlayer
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

_STATIC = Path(__file__).parent / "static"
#: How long an ``await`` waits for a frontend to show up before saying that none will.
FRONTEND_GRACE = 5.0
_CSS_LENGTH = re.compile(r"^\d+(\.\d+)?(px|%|em|rem|vh|vw|ch)$")

F = TypeVar("F", bound=Callable[..., Any])

#: What the view says, one sentence each, when no state arrives within ``load_timeout``; the
#: same text reaches Python as a notice. ``{seconds}`` is filled in.
LOAD_FAILURE_HELP: tuple[str, ...] = (
    "Nothing arrived from the session within {seconds} s.",
    "The watch link may have expired or be wrong: links are short-lived, so make a new one "
    "(UpscopeSession.for_visitor or the REST API) and set session.url to it.",
    "The browser or the link's site may refuse to show the page inside a frame: open the link "
    "in a tab of its own to check, and allow framing for the notebook's address.",
    "The network may be down, or a proxy or firewall may block the link's host: check the "
    "connection, then set session.url again to retry.",
)


def _load_failure_text(seconds: float) -> str:
    return " ".join(LOAD_FAILURE_HELP).format(seconds=f"{seconds:g}")


class _SessionLog(KernelLog, SessionLog):
    """The session's log, which also answers ipywidgets' ``widget.log.warning(...)`` calls."""


class UpscopeSession(InstructionMethods, FeatureMethods, anywidget.AnyWidget):
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
        toolbar: show the agent toolbar above the iframe (tools, call, page, tabs, session);
            ``session.toolbar = False`` hides it later.
        load_timeout: seconds to wait for the first state; after that the view (and a notice
            in Python) says what usually causes it and what to do.
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
    # True for replays: instructions raise, and the toolbar shows but cannot send
    _read_only = traitlets.Bool(False).tag(sync=True)
    toolbar = traitlets.Any(
        True, help="Whether the agent toolbar shows above the iframe (the status line stays)."
    ).tag(sync=True)
    load_timeout = traitlets.Any(
        20.0, help="Seconds to wait for the first state before the view explains what is wrong."
    ).tag(sync=True)
    # Text the frontend draws, defined once in Python: the error sentences, the load-failure
    # help. Read-only: set once here, never from the frontend.
    _ui_text = traitlets.Dict().tag(sync=True)
    # marimo only: the frontend echoes a few state properties here so dependent cells re-run
    _reactive = traitlets.Dict().tag(sync=True)

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
    last_error = SessionTrait(help="The latest SessionErrorInfo the session reported, or None.")
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
        toolbar: bool = True,
        load_timeout: float = 20.0,
        **kwargs: Any,
    ) -> None:
        if not (_STATIC / "widget.js").is_file():
            raise RuntimeError(
                f"the widget's frontend is not built ({_STATIC / 'widget.js'} is missing): "
                "install the package with `pip install -e .` (needs Node.js/npm) "
                "or run `npm install && npm run build`."
            )
        # the protocol's models load here, in the thread that makes the session, before any
        # message can arrive (a comm thread must not be the one to load them)
        load_now(protocol)
        from .simulator import CONTROL_PREFIX  # its page models need pydantic too

        self._closing = False
        self._simulator: SimulatorControl | None = None
        self._player: ReplayPlayer | None = None
        self._decoder = _bridge.InboundDecoder()
        self._mirror = StateMirror()
        self._waiters = Waiters()
        self._notices_ = Notices(self._publish_notices)
        self._log = _SessionLog(log_size, origin=self._log_origin)
        self._marimo = _frontends.in_marimo()
        report = self._callback_failed
        self._on_state_change = Callbacks(report)
        self._on_custom_message = Callbacks(report)
        self._on_error = Callbacks(report)
        self._on_session_ended = Callbacks(report)
        self._on_event = Callbacks(report)
        self._on_instruction = Callbacks(report)
        self._on_close = Callbacks(report)
        self._transports = Transports(self.send, lambda text: self._notices_.add("error", text))
        self._outbound = Outbound(
            log=self._log,
            transport=self._transports.send,
            refuse=self._refusal,
            notify=self._on_instruction,
            control_prefix=CONTROL_PREFIX,
            sent=self._sent,
        )
        self._ownership = Ownership(self._outbound.outbox)
        kwargs.setdefault(
            "_ui_text",
            {
                "errors": dict(ERROR_DESCRIPTIONS),
                "unknownError": "The session reported an error this version does not know.",
                "loadFailure": [*LOAD_FAILURE_HELP, *_frontends.load_failure_hints()],
            },
        )
        super().__init__(
            url=url,
            width=width,
            height=height,
            toolbar=toolbar,
            load_timeout=load_timeout,
            _session_id=uuid.uuid4().hex,
            **kwargs,
        )
        with applying(self):
            self.rejected_messages = 0
        self.on_msg(lambda _widget, content, _buffers: self.receive_frontend_message(content))

    # --- configuration ------------------------------------------------------------------------

    @traitlets.validate("url")
    def _validate_url(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value == "" and self._simulator_page:
            return ""
        try:
            return check_watch_url(value)
        except ValueError as err:
            raise SettingError(str(err)) from None

    @traitlets.validate("width", "height")
    def _validate_length(self, proposal: dict[str, Any]) -> int | str:
        value = proposal["value"]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if isinstance(value, str) and _CSS_LENGTH.match(value.strip()):
            return value.strip()
        raise SettingError(
            f"{proposal['trait'].name}={value!r} is not allowed: use pixels (a positive int) "
            "or a CSS length such as '100%', '640px', '40rem', '80vh'"
        )

    @traitlets.validate("toolbar")
    def _validate_toolbar(self, proposal: dict[str, Any]) -> bool:
        value = proposal["value"]
        if not isinstance(value, bool):
            raise SettingError(f"toolbar={value!r} is not allowed: use True or False")
        return value

    @traitlets.validate("load_timeout")
    def _validate_load_timeout(self, proposal: dict[str, Any]) -> float:
        value = proposal["value"]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise SettingError(
                f"load_timeout={value!r} is not allowed: use a number of seconds > 0, e.g. 20"
            )
        return float(value)

    @traitlets.observe("url")
    def _url_changed(self, change: dict[str, Any]) -> None:
        if change["new"] and self._simulator_page:
            # a real link replaces the simulator
            self._simulator = None
            self._simulator_page = ""
        dropped = self._outbound.outbox.clear()
        if dropped:
            self._notices_.add(
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
        return self._notices_.items

    @property
    def log(self) -> SessionLog:  # shadows ipywidgets' logger, which _SessionLog stands in for
        """Every instruction sent and event received, in order (bounded by ``log_size``)."""
        return self._log

    @property
    def frontend_connected(self) -> bool:
        """Whether a frontend (a notebook open in a browser) shows this session now.

        It turns ``False`` again when the last page showing it goes away (its page released
        the session): awaits then raise ``NoFrontendError`` rather than time out.
        """
        return self._ownership.connected

    @property
    def ended(self) -> bool:
        """Whether the session has ended (``sessionEnded`` or status ``terminated``)."""
        return self._mirror.ended

    @property
    def read_only(self) -> bool:
        """Whether instructions leave the session as it is.

        A replay plays only what was recorded: it logs and shows the instructions it is sent
        (see ``ReplaySession.sent``) but never applies them, and its toolbar sends nothing.
        """
        return bool(self._read_only)

    @property
    def pending_instructions(self) -> list[dict[str, Any]]:
        """Instructions no frontend has posted to the iframe yet, in order."""
        return [message for _, message in self._outbound.outbox.pending()]

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

    def attach_simulator(self, control: type[SimulatorControl]) -> SimulatorControl:
        """Give a simulated session its scripting handle (``simulate()`` does this).

        The handle's control messages take the one outbound path with source ``"simulator"``.
        """
        def post(message: dict[str, Any]) -> None:
            self._outbound.send(message, "simulator")

        self._simulator = control(post=post)
        return self._simulator

    def attach_transport(self, transport: Transport) -> Callable[[], None]:
        """Send the session's messages to another frontend too; return the detach function.

        ``transport.send(message)`` gets every message the session sends to its frontends;
        the frontend's answers go to :meth:`receive_frontend_message`. A notebook needs none:
        the widget's comm is always there.
        """
        return self._transports.attach(transport)

    def __repr__(self) -> str:
        # One line for terminals and logs. Never the watch link: it is a credential.
        where = self.origin if self.url else "simulator"
        error = self.last_error.code if self.last_error is not None else None
        visitor = protocol.visitor_label(self.visitor) or None
        return (
            f"<UpscopeSession {where} status={self.session_status!r} "
            f"current_url={self.current_url!r} visitor={visitor!r} "
            f"connected={self.connected!r} last_error={error!r}>"
        )

    def _repr_mimebundle_(
        self, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return the widget, with a static card and one line for where widgets can't run.

        Frontends that run widgets show the widget; an HTML export without widget state, a
        notebook viewer or a terminal show the card of the state as it was when displayed.
        """
        shown: Any = super()._repr_mimebundle_(**kwargs)
        if shown is None:  # the widget was closed
            return None
        # anywidget answers (data, metadata); keep the metadata where it gave one
        data, metadata = shown if isinstance(shown, tuple) else (shown, {})
        bundle = dict(data)
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._static_card()
        return bundle, metadata

    def _static_card(self) -> str:
        """Return the last known state as self-contained HTML (every value escaped)."""
        esc = html.escape
        rows: list[tuple[str, str]] = [
            ("Status", str(self.session_status or "no state received yet")),
            ("Page", str(self.current_url or "—")),
            ("Visitor", protocol.visitor_label(self.visitor) or "—"),
            ("Connected", {True: "yes", False: "no"}.get(self.connected, "—")),
        ]
        if self.last_error is not None:
            rows.append(("Last error", f"{self.last_error.description} ({self.last_error.code})"))
        if self.ended_reason is not None:
            rows.append(("Ended", str(self.ended_reason)))
        cells = "".join(
            f'<tr><th style="text-align:left;padding:2px 12px 2px 0;font-weight:600">{esc(k)}'
            f'</th><td style="padding:2px 0;word-break:break-all">{esc(v)}</td></tr>'
            for k, v in rows
        )
        return (
            '<div class="upscope-static-card" style="font-family:system-ui,sans-serif;'
            "font-size:13px;border:1px solid #ccc;border-radius:4px;padding:8px 12px;"
            'max-width:640px">'
            '<div style="font-weight:600;margin-bottom:4px">Upscope co-browsing session</div>'
            f'<table style="border-collapse:collapse">{cells}</table>'
            '<div style="color:#666;margin-top:6px">A static card of the state when this '
            "output was made: the live session shows where Jupyter widgets run.</div></div>"
        )


    # --- replays ------------------------------------------------------------------------------

    @classmethod
    def replay(
        cls,
        log: SessionLog | str | os.PathLike[str],
        speed: float = 1.0,
        **session_options: Any,
    ) -> ReplaySession:
        """Play a saved session again on the built-in simulator (no account, no network).

        The recorded states and events reach Python in order (traits, ``on_state_change``,
        ``on_event``, :attr:`log`) with the recorded timing divided by ``speed`` (0: as fast
        as possible, still in order), and the simulated page shows the recorded pages, tabs,
        tool, color and errors. The returned session has ``pause()``, ``play()``,
        ``seek(seconds)``, ``position`` and ``sent`` (the instructions your code sent it,
        logged and shown but never applied), so that it drives an automation under test.

        Args:
            log: a :class:`SessionLog` of one session, or the path of a saved one.
            speed: 1 as recorded, 2 twice as fast, 0 as fast as possible.
            **session_options: as for the constructor (``width``, ``height``, ``log_size``).
        """
        return ReplaySession(log, speed=speed, **session_options)

    def _log_origin(self) -> str | None:
        """Return the origin a saved log's header names (never the watch link)."""
        if self.url:
            return origin_of(self.url)
        return "simulator" if self.simulated else None

    # --- the one outbound path ----------------------------------------------------------------

    def _instruct(self, action: str, params: dict[str, Any], source: str = "python",
                  *, allow_unknown: bool = False) -> None:
        check_source(source)  # before the parameters: a bad source is the caller's first error
        message = self._outbound.build(action, params, allow_unknown=allow_unknown)
        self._outbound.send(message, source)

    def _refusal(self, message: dict[str, Any], source: str) -> Exception | None:
        """Return what refuses a send now, or ``None``.

        A replay takes its own controls, and instructions as a live session would (they are
        logged and shown, never applied); its simulator cannot be scripted: the recording is
        the visitor. An ended session refuses everything but a replay's controls.
        """
        if self._player is not None:
            if source == "replay":
                return None
            if source == "simulator":
                return self._player.refusal(message)
        if self.ended:
            return SessionEndedError(
                f"cannot send {message['action']!r}: the session has ended "
                f"(reason: {self.ended_reason or self.session_status}). "
                "Set session.url to a new watch link or create a new session."
            )
        return None

    def _sent(self, message: dict[str, Any], source: str) -> None:
        if self._player is not None and source != "replay":
            self._player.sent(message, source)

    def close(self) -> None:
        """Close the widget: its views go, and what serves it stops (MCP endpoints, streams).

        The ``on_close`` callbacks run first, once.
        """
        if getattr(self, "_closing", True) is False:  # also when __init__ failed part-way
            self._closing = True
            self._on_close()
        super().close()

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
        """Call ``callback(error: SessionErrorInfo)`` for every ``error`` event."""
        self._on_error.register(callback, remove)
        return callback

    def on_session_ended(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(reason)`` when the session ends (``"ended"`` or ``"error"``)."""
        self._on_session_ended.register(callback, remove)
        return callback

    def on_instruction(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(action, params, source)`` for every instruction sent, whoever sent it.

        ``action`` is the wire action (``"setMode"``), ``params`` its wire parameters
        (``{"mode": "draw"}``) and ``source`` who sent it: ``"python"`` (a method call or
        ``send_instruction``), ``"toolbar"`` (a click in the widget's toolbar, heard after the
        iframe already got it), ``"agent"`` (a tool call through ``run_tool_call(s)``),
        ``"mcp"`` (the MCP endpoint), ``"simulator"`` (``session.simulator``'s scripting) or
        ``"replay"`` (a replay's own controls; its recorded instructions keep their recorded
        source).
        """
        self._on_instruction.register(callback, remove)
        return callback

    def on_event(self, callback: F, remove: bool = False) -> F:
        """Call ``callback(event)`` for every event, as a typed model (see ``protocol``)."""
        self._on_event.register(callback, remove)
        return callback

    def on_close(self, callback: F, remove: bool = False) -> F:
        """Call ``callback()`` once when the session is closed (:meth:`close`)."""
        self._on_close.register(callback, remove)
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
            check, result, timeout, describe, before_waiting=self._frontend
        )

    async def _frontend(self, remaining: float | None) -> None:
        """Return once a frontend shows the session; else raise NoFrontendError.

        It waits the grace period, or the ``remaining`` time of the await if that is shorter.
        """
        if self.frontend_connected:
            return
        grace = FRONTEND_GRACE if remaining is None else min(remaining, FRONTEND_GRACE)
        try:
            if grace <= 0:
                raise TimeoutError
            await self._waiters.wait(
                lambda _e: self.frontend_connected, lambda _e: None, grace, lambda: ""
            )
        except TimeoutError:
            raise NoFrontendError(
                "no frontend shows this session, so nothing can arrive: display it (end a "
                "cell with `session`) in a notebook open in a browser, then wait again. "
                + _frontends.frontend_hint()
            ) from None

    # --- inbound ------------------------------------------------------------------------------

    def receive_frontend_message(self, content: Any) -> None:
        """Handle one message from a frontend (the comm calls this; so does any transport).

        Messages are ``_bridge``'s kinds; anything else is ignored.
        """
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        frontend = content.get("frontend")
        if kind == _bridge.HELLO:
            self._hello(frontend, content.get("posted"))
        elif kind == _bridge.BATCH:
            self._batch(frontend, content)
        elif kind == _bridge.DISMISS:
            self._notices_.dismiss()
        elif kind == _bridge.LOAD_TIMEOUT and frontend is not None \
                and frontend == self._ownership.owner:
            self._load_failed()

    def _hello(self, frontend: Any, posted: Any) -> None:
        new_owner, replies = self._ownership.hello(frontend, posted)
        if not replies:
            self._notices_.protocol_problem(
                f"a frontend said hello without a frontend id ({frontend!r:.80}): ignored")
            return
        if new_owner:
            self._decoder.reset()
        for reply in replies:
            self._transports.send(reply)
        self._waiters.notify(None)

    def _batch(self, frontend: Any, content: dict[str, Any]) -> None:
        verdict = self._ownership.batch(frontend, content)
        for reply in verdict.replies:
            self._transports.send(reply)
        if not verdict.apply:
            if self._ownership.owner is None and frontend is None:
                self._notices_.protocol_problem(
                    "a batch without a frontend id was ignored (no page owns the session)")
            return
        rejected = content.get("rejected")
        if type(rejected) is int and rejected > 0:
            with applying(self):
                self.rejected_messages = self.rejected_messages + rejected
        self._skipped(content.get("skipped"))
        for message, problems in self._decoder.decode(content.get("events")):
            try:
                self._report(problems)
                if isinstance(message, _bridge.ToolbarInstruction):
                    self._toolbar_instruction(message.message)
                elif message is not None:
                    self._receive(message)
            except Exception:  # never let one message stop the next
                self._notices_.add("error", "upscope-widget failed to apply a message from the "
                                   f"session (please report this):\n{traceback.format_exc()}")
        if content.get("released") is True:
            self._ownership.released(frontend)
            if not self._ownership.connected:
                self._waiters.notify(None)

    def _toolbar_instruction(self, raw: Any) -> None:
        """Log a click in the toolbar (the iframe has it already) and tell the callbacks."""
        action = raw.get("action") if isinstance(raw, dict) else None
        if not isinstance(action, str) or not action.strip():
            self._notices_.protocol_problem(
                "the toolbar reported something that is not an instruction: "
                f"{short_repr(raw)}")
            return
        params = params_of(raw)
        try:
            protocol.build_instruction(action, params)  # camelCase keys are accepted
        except ValueError as err:
            # It was posted already; say so rather than hide it.
            self._notices_.protocol_problem(
                f"the toolbar posted an instruction Python would refuse: {err}")
            problem = json_problem(raw, name=action)
            if problem is not None:  # too deep or too big to keep: the log could not save it
                return
        self._outbound.record(dict(raw), "toolbar")

    def _load_failed(self) -> None:
        if self.state is not None:
            return
        text = _load_failure_text(float(self.load_timeout))
        self._notices_.load_failure(" ".join([text, *_frontends.load_failure_hints()]))

    def _skipped(self, seqs: Any) -> None:
        """Drop what the new owner skipped (the vanished previous owner may have posted it)."""
        if not isinstance(seqs, list) or not seqs:
            return
        skipped = self._outbound.outbox.remove({s for s in seqs if type(s) is int})
        if skipped:
            actions = ", ".join(str(m.get("action")) for m in skipped)
            self._notices_.add(
                "warning",
                f"{len(skipped)} instruction(s) were not posted again when this page took the "
                f"session over ({actions}): the page that had them went away before saying "
                "whether it had posted them, and posting twice could repeat an action. "
                "Check the session and send them again if they did not take effect.",
            )

    def _receive(self, raw: Any) -> None:
        if self._player is not None:
            for message, source in self._player.before_event():
                self._outbound.record(message, source)
        inbound = self._mirror.receive(raw)
        for text in inbound.reports:
            self._notices_.protocol_problem(text)
        event, change = inbound.event, inbound.change
        if event is None:
            return
        if change is not None:
            self._apply_state(change)
        else:
            self._log.add("in", event.type, raw)
        if isinstance(event, protocol.ErrorEvent):
            error = SessionErrorInfo.from_code(event.error)
            with applying(self):
                self.last_error = error
            self._on_error(error)
        elif isinstance(event, protocol.SessionEndedEvent):
            with applying(self):
                self.ended_reason = event.reason
            self._on_session_ended(event.reason)
        elif isinstance(event, protocol.CustomMessageEvent):
            self._on_custom_message(event.message)
        self._on_event(event)
        if self._player is not None:
            for message, source in self._player.arrived():
                self._outbound.record(message, source)
        self._waiters.notify(event)

    def _apply_state(self, change: Any) -> None:
        self._log.add("in", protocol.STATE_UPDATE, change.data, change.changed)
        # All in place before the first observer runs, each change announced once, in order;
        # cheaper than setattr under hold_trait_notifications, which cross-validates again.
        update_traits(self, [*change.traits, ("state", change.state)])
        self._notices_.drop_load_failure()  # it came after all
        if self._marimo and (echo := _frontends.reactive_echo(self, change.changed)):
            self.send(echo)
        if change.changed:
            self._on_state_change(change.state, set(change.changed))

    def _reset_session_state(self) -> None:
        self._notices_.drop_load_failure()
        self._decoder.reset()
        self._mirror.reset()
        with applying(self), self.hold_trait_notifications():
            for name in protocol.STATE_FIELDS:
                setattr(self, name, None)
            self.state = None
            self.last_error = None
            self.ended_reason = None

    # --- notices ------------------------------------------------------------------------------

    def _publish_notices(self, items: list[dict[str, str]]) -> None:
        self._notices = items

    def _report(self, problems: list[Any]) -> None:
        if not problems:  # once per item of every batch: most have none
            return
        for text in self._mirror.problems.news(problems):
            self._notices_.protocol_problem(text)

    def _callback_failed(self, text: str) -> None:
        self._notices_.add("error", text)


class ReplaySession(UpscopeSession):
    """A saved session played again on the simulator page (see ``UpscopeSession.replay``).

    The recorded states and events reach Python in order, with the recorded timing divided by
    ``speed``, through the same path as a live session's: traits, ``on_state_change``,
    ``on_event`` and :attr:`log` see them as they saw the original. The recorded instructions
    are shown on the page, never posted; each is logged and told to ``on_instruction`` (with
    its recorded source, whatever version wrote it) just before the first event recorded after
    it (until a :meth:`seek`). The page shows the recorded pages, tabs, tool, color and
    errors. :meth:`pause`, :meth:`play` and :meth:`seek` take the one outbound path with
    source ``"replay"``.

    A replay is a test fixture for automations: instructions sent to it (method calls, tool
    calls, MCP) are checked, logged, told to ``on_instruction`` and shown on the page as on a
    live session, and kept in :attr:`sent`, but never applied (the recording plays on; awaits
    of their effect return at once). After the recorded end they raise
    ``SessionEndedError``, as live. Scripting its simulator raises ``ReplayError``: the
    recording is the visitor.

    Args:
        log: the recording: a :class:`SessionLog` of one session, or a path to a saved one.
        speed: 1 plays as recorded, 2 twice as fast, 0 as fast as possible (still in order).
        clock: the time source for :attr:`position` (tests pass a fake one).
        **session_options: as for ``UpscopeSession`` (``width``, ``height``, ``log_size``:
            by default as many entries as the recording has, and at least 10,000).
    """

    def __init__(
        self,
        log: SessionLog | str | os.PathLike[str],
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        **session_options: Any,
    ) -> None:
        from .simulator import SimulatorControl
        from .simulator.replay import ReplayPlayer

        if isinstance(log, (str, os.PathLike)):
            log = SessionLog.load(log)
        if not isinstance(log, SessionLog):
            raise ValueError(f"log must be a SessionLog or the path of a saved one, got {log!r}")
        player = ReplayPlayer(log, speed=speed, clock=clock)
        # the replay's own log keeps everything the recording holds
        session_options.setdefault("log_size", max(10_000, len(player.recording)))
        super().__init__("", _simulator_page=player.page, _read_only=True, **session_options)
        self._player = player
        self.log.origin = player.recording.origin
        self.attach_simulator(SimulatorControl)  # it exists, and refuses like the instructions

    @property
    def recording(self) -> SessionLog:
        """The log being replayed."""
        return self._replay.recording

    @property
    def sent(self) -> SessionLog:
        """The instructions sent to this replay while it played, in order, with their source.

        Your code's method calls (``"python"``), tool calls (``"agent"``) and MCP calls
        (``"mcp"``): what an automation under test did, apart from the recorded instructions
        (which are in :attr:`log` too, as recorded). Each is checked and logged as on a live
        session and shown on the page, but never applied: the recording plays on as it was.
        """
        return self._replay.sent_log

    @property
    def speed(self) -> float:
        """Recorded seconds played per second (0: as fast as possible)."""
        return self._replay.clock.speed

    @property
    def duration(self) -> float:
        """The recording's length in seconds (first entry to last)."""
        return self._replay.timeline.duration

    @property
    def position(self) -> float:
        """Seconds into the recording, by the kernel's clock.

        It starts when the first replayed event reaches Python (the page plays once it is
        shown) and follows :meth:`pause`, :meth:`play` and :meth:`seek`; the page's own clock
        is within one message's latency of it.
        """
        return self._replay.clock.position

    @property
    def playing(self) -> bool:
        """Whether the replay is playing (not paused); see also :attr:`finished`."""
        return self._replay.clock.playing

    @property
    def finished(self) -> bool:
        """Whether the replay has played to the end of the recording."""
        return self._replay.finished

    def pause(self) -> None:
        """Pause the replay where it is."""
        self._outbound.send(self._replay.pause(), "replay")

    def play(self) -> None:
        """Play on from where the replay was paused (or sought to).

        At the end of the recording there is nothing more to play: ``seek(0)`` starts again.
        """
        self._outbound.send(self._replay.play(), "replay")

    def seek(self, seconds: float) -> None:
        """Jump to the state at ``seconds`` into the recording (0 to :attr:`duration`).

        The page posts that state (as a state update, so Python's traits follow); the events
        in between are skipped. Playing or paused stays as it was.
        """
        control = self._replay.seek(seconds)
        if self.ended:
            # Back before the end: the session is live again (the page posts the end anew if
            # it lies before ``seconds``).
            self._mirror.ended = False
            self._mirror.ended_reason = None
            with applying(self):
                self.ended_reason = None
        self._outbound.send(control, "replay")

    @property
    def _replay(self) -> ReplayPlayer:
        assert self._player is not None
        return self._player

    def __repr__(self) -> str:
        name = f" {self.recording.name!r}" if self.recording.name else ""
        return (f"<ReplaySession{name} {self.position:.1f}/{self.duration:.1f} s "
                f"speed={self.speed:g} status={self.session_status!r} "
                f"current_url={self.current_url!r}>")
