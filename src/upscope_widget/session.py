"""``UpscopeSession``: a live Upscope co-browsing session as a Jupyter widget."""

from __future__ import annotations

import html
import logging
import math
import re
import traceback
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anywidget
import traitlets

from . import _bridge, _frontends
from ._callbacks import Callbacks
from ._lazy import lazy_module, load_now
from ._traits import SessionTrait, applying, strict_equal
from ._traits import update as update_traits
from ._waiting import Waiters
from .errors import (
    ERROR_DESCRIPTIONS,
    NoFrontendError,
    SessionEndedError,
    SessionErrorInfo,
    UpscopeProtocolWarning,
)
from .log import SessionLog
from .urls import check_watch_url, origin_of

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from . import protocol
    from .agents.effects import EventStream
    from .agents.mcp import McpServerHandle
    from .analysis.summary import SessionSummary
    from .protocol import AnyEvent, EmbeddedSessionState
    from .rest import UpscopeClient
    from .simulator import SimulatorControl
    from .simulator.replay import ReplaySession
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

_STATIC = Path(__file__).parent / "static"
_LOG = logging.getLogger("upscope_widget")
_MAX_NOTICES = 20
_MAX_NOTICE_CHARS = 4000
#: Fields whose current problem was reported (so that it is not reported again); bounded.
_MAX_REPORTED = 64
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
        self._outbox = _bridge.Outbox()
        self._decoder = _bridge.InboundDecoder()
        self._raw_state: dict[str, Any] = {}
        self._ended = False
        self._simulator: SimulatorControl | None = None
        self._waiters = Waiters()
        self._log = SessionLog(log_size, origin=self._log_origin)
        self._frontend_connected = False
        self._marimo = _frontends.in_marimo()
        self._owner: object = None  # the frontend that may show the iframe (the latest hello)
        self._previous_owner: object = None  # the one before, until it says what it posted
        self._previous_limit = 0  # the last instruction the previous owner could have had
        # whether the owner's iframe has loaded (until then it can have posted nothing), and
        # whether the previous owner's had: only then is what it was sent in doubt
        self._owner_loaded = False
        self._previous_loaded = False
        self._reported: dict[str, str] = {}  # field -> its problem, reported once
        self._on_state_change = Callbacks(self._callback_failed)
        self._on_custom_message = Callbacks(self._callback_failed)
        self._on_error = Callbacks(self._callback_failed)
        self._on_session_ended = Callbacks(self._callback_failed)
        self._on_event = Callbacks(self._callback_failed)
        self._on_instruction = Callbacks(self._callback_failed)
        self._load_notice: dict[str, str] | None = None
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

    @traitlets.validate("toolbar")
    def _validate_toolbar(self, proposal: dict[str, Any]) -> bool:
        value = proposal["value"]
        if not isinstance(value, bool):
            raise ValueError(f"toolbar={value!r} is not allowed: use True or False")
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
            raise ValueError(
                f"load_timeout={value!r} is not allowed: use a number of seconds > 0, e.g. 20"
            )
        return float(value)

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
        # One line for terminals and logs. Never the watch link: it is a credential.
        where = self.origin if self.url else "simulator"
        error = self.last_error.code if self.last_error is not None else None
        return (
            f"<UpscopeSession {where} status={self.session_status!r} "
            f"current_url={self.current_url!r} visitor={_visitor_label(self.visitor) or None!r} "
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
            ("Visitor", _visitor_label(self.visitor) or "—"),
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

    # --- analysis and replay ------------------------------------------------------------------

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
        ``seek(seconds)`` and ``position``; instructions raise ``ReplayError``.

        Args:
            log: a :class:`SessionLog` of one session, or the path of a saved one.
            speed: 1 as recorded, 2 twice as fast, 0 as fast as possible.
            **session_options: as for the constructor (``width``, ``height``, ``log_size``).
        """
        from .simulator.replay import ReplaySession

        return ReplaySession(log, speed=speed, **session_options)

    def summary(self) -> SessionSummary:
        """Key figures of the session so far (from :attr:`log`): see ``SessionLog.summary``."""
        return self._log.summary()

    def _log_origin(self) -> str | None:
        """Return the origin a saved log's header names (never the watch link)."""
        if self.url:
            return origin_of(self.url)
        return "simulator" if self.simulated else None

    def _read_only_error(self, message: dict[str, Any]) -> Exception:
        from .simulator.replay import ReplayError

        return ReplayError(f"cannot send {message.get('action')!r}: this session is read-only")

    def _send_control(self, message: dict[str, Any]) -> None:
        """Post a control message to the page: numbered and kept, but not logged."""
        seq = self._outbox.add(message)
        self.send({"kind": _bridge.KIND_INSTRUCTIONS, "items": [[seq, message]]})

    # --- instructions -------------------------------------------------------------------------

    def send_instruction(
        self, action: str, /, *, allow_unknown: bool = False, **params: Any
    ) -> None:
        """Send an instruction by its wire name, validated like the method for it.

        ``session.send_instruction("setMode", mode="draw")`` is ``session.set_mode("draw")``.
        An action this version does not know raises ``ValueError`` unless ``allow_unknown=True``
        (then its parameters are only checked to be JSON); a near miss of a known action
        (``"setcurrenturl"``) is always refused, since it would skip that action's checks.
        """
        self._post(protocol.build_instruction(action, params, allow_unknown=allow_unknown))

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
        message = protocol.build_instruction(action, params)
        self._post(message)
        self._on_instruction(action, _params_of(message), "python")

    def _post(self, message: dict[str, Any]) -> None:
        """Send an instruction (or a simulator control message): numbered, logged, kept."""
        if self._read_only:
            raise self._read_only_error(message)
        if self._ended:
            raise SessionEndedError(
                f"cannot send {message['action']!r}: the session has ended "
                f"(reason: {self.ended_reason or self.session_status}). "
                "Set session.url to a new watch link or create a new session."
            )
        self._log.add("out", str(message["action"]), message)
        seq = self._outbox.add(message)
        self.send({"kind": _bridge.KIND_INSTRUCTIONS, "items": [[seq, message]]})

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
        (``{"mode": "draw"}``) and ``source`` ``"python"`` (a method call) or ``"toolbar"`` (a
        click in the widget's toolbar, heard after the iframe already got it).
        """
        self._on_instruction.register(callback, remove)
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
            check, result, timeout, describe, before_waiting=self._frontend
        )

    async def _frontend(self, remaining: float | None) -> None:
        """Return once a frontend shows the session; else raise NoFrontendError.

        It waits the grace period, or the ``remaining`` time of the await if that is shorter.
        """
        if self._frontend_connected:
            return
        grace = FRONTEND_GRACE if remaining is None else min(remaining, FRONTEND_GRACE)
        try:
            if grace <= 0:
                raise TimeoutError
            await self._waiters.wait(
                lambda _e: self._frontend_connected, lambda _e: None, grace, lambda: ""
            )
        except TimeoutError:
            raise NoFrontendError(
                "no frontend shows this session, so nothing can arrive: display it (end a "
                "cell with `session`) in a notebook open in a browser, then wait again. "
                + _frontends.frontend_hint()
            ) from None

    # --- agents (upscope_widget.agents: tools for LLMs, awaitable effects, MCP) ---------------

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
            self, name, arguments, wait=wait, timeout=timeout, include=include, exclude=exclude
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
            self, calls, wait=wait, timeout=timeout, include=include, exclude=exclude
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

        return await perform(self, action, params, timeout)

    def events(
        self, types: str | Iterable[str] | None = None, *, timeout: float | None = None
    ) -> EventStream:
        """``async for event in session.events(): ...``: every event as it arrives, in order.

        ``types``: a wire event type or several (e.g. ``"customMessage"``) to keep only those.
        ``timeout``: seconds to wait for each next event before ``TimeoutError`` (``None``:
        forever). The stream stops listening when the loop ends; call it where an asyncio loop
        runs (a notebook cell).
        """
        from .agents.effects import EventStream

        return EventStream(self, types, timeout)

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
            self, port, host=host, allow_remote=allow_remote, token=token, include=include,
            exclude=exclude, wait=wait, timeout=timeout,
        )

    # --- inbound ------------------------------------------------------------------------------

    def _handle_frontend_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        frontend = content.get("frontend")
        if kind == _bridge.HELLO:
            self._hello(frontend, content.get("posted"))
        elif kind == _bridge.BATCH:
            self._batch(frontend, content)
        elif kind == _bridge.DISMISS:
            self._notices = []
            self._load_notice = None
        elif kind == _bridge.LOAD_TIMEOUT and frontend == self._owner:
            self._load_failed()

    def _toolbar_instruction(self, raw: Any) -> None:
        """Log a click in the toolbar (the iframe has it already) and tell the callbacks."""
        action = raw.get("action") if isinstance(raw, dict) else None
        if not isinstance(action, str):
            self._protocol_problem(f"the toolbar reported something that is not an instruction: "
                                   f"{raw!r:.120}")
            return
        params = {k: v for k, v in raw.items() if k != "action"}
        try:
            protocol.build_instruction(action, params)  # camelCase keys are accepted
        except ValueError as err:
            # It was posted already; say so rather than hide it.
            self._protocol_problem(f"the toolbar posted an instruction Python would refuse: {err}")
        self._log.add("out", action, dict(raw), source="toolbar")
        self._on_instruction(action, params, "toolbar")

    def _load_failed(self) -> None:
        if self.state is not None or self._load_notice is not None:
            return
        text = _load_failure_text(float(self.load_timeout))
        notice = {"level": "warning", "text": " ".join([text, *_frontends.load_failure_hints()])}
        _LOG.warning("%s", notice["text"])
        self._load_notice = notice
        self._notices = [*self._notices, notice][-_MAX_NOTICES:]

    def _drop_load_notice(self) -> None:
        if self._load_notice is not None:
            self._notices = [n for n in self._notices if n != self._load_notice]
            self._load_notice = None

    def _hello(self, frontend: Any, posted: Any) -> None:
        # The latest frontend to start (a reload, a second browser tab) or to claim the
        # session owns it: one iframe, one connection, one stream of snapshots.
        self._acknowledge(frontend, posted)
        if frontend != self._owner:
            if self._owner is not None:
                # It may still post what it holds until it hears it lost the session; what it
                # says it posted (up to the last instruction it could have had) counts.
                self._previous_owner, self._previous_limit = self._owner, self._outbox.last
                self._previous_loaded = self._owner_loaded
            self._owner = frontend
            self._owner_loaded = False
            self._decoder.reset()
        self.send({"kind": _bridge.OWNER, "frontend": frontend, "previous": self._previous_owner})
        self._frontend_connected = True
        self._waiters.notify(None)
        pending = self._outbox.pending()
        if pending:
            doubt = (
                self._previous_limit
                if self._previous_owner is not None and self._previous_loaded
                else 0
            )
            items = [[seq, message, seq <= doubt] for seq, message in pending]
            self.send({"kind": _bridge.KIND_INSTRUCTIONS, "items": items})

    def _batch(self, frontend: Any, content: dict[str, Any]) -> None:
        # What the owner or the previous owner posted was delivered; events, though, count only
        # from the owner (the other is dropping its iframe).
        self._acknowledge(frontend, content.get("posted"))
        released = content.get("released") is True
        if frontend != self._owner:
            if released and frontend == self._previous_owner:
                # the new owner holds back what it got until it hears what we posted
                upTo = min(_int_or(content.get("posted"), 0), self._previous_limit)
                self._previous_owner = None
                self.send({"kind": _bridge.DELIVERED, "upTo": upTo, "by": frontend})
            return
        if content.get("loaded") is True:
            self._owner_loaded = True
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
                self._notice("error", "upscope-widget failed to apply a message from the "
                             f"session (please report this):\n{traceback.format_exc()}")
        if released:
            # The page is going away and said what it posted: nothing is in doubt, and the next
            # page to show the session need not wait for this one.
            self._owner = None
            self._previous_owner = None

    def _acknowledge(self, frontend: Any, posted: Any) -> None:
        """Count ``posted`` only from the owner, or the previous owner for what it had."""
        if type(posted) is not int or posted <= 0:
            return
        if frontend == self._owner:
            self._outbox.ack(min(posted, self._outbox.last))
        elif frontend == self._previous_owner and frontend is not None:
            self._outbox.ack(min(posted, self._previous_limit))

    def _skipped(self, seqs: Any) -> None:
        """Drop what the new owner skipped (the vanished previous owner may have posted it)."""
        if not isinstance(seqs, list) or not seqs:
            return
        skipped = self._outbox.remove({s for s in seqs if type(s) is int})
        if skipped:
            actions = ", ".join(str(m.get("action")) for m in skipped)
            self._notice(
                "warning",
                f"{len(skipped)} instruction(s) were not posted again when this page took the "
                f"session over ({actions}): the page that had them went away before saying "
                "whether it had posted them, and posting twice could repeat an action. "
                "Check the session and send them again if they did not take effect.",
            )

    def _receive(self, raw: Any) -> None:
        event, values, problems = protocol.parse_event(raw, self._raw_state, self.state)
        if isinstance(event, protocol.StateUpdateEvent) and values is not None:
            status = event.state.session_status
            if self._ended and status != "terminated":
                self._report([protocol.Problem("(ended)", f"ignored snapshots that came after "
                                               f"the session ended (sessionStatus={status!r})")])
                return
            if problems or self._reported:  # else there is nothing to report or forget
                self._report(problems, fields=values.keys() | raw["state"].keys())
            self._apply_state(event.state, values)
        else:
            self._report(problems)
        if event is None or (isinstance(event, protocol.StateUpdateEvent) and values is None):
            return
        if isinstance(event, protocol.SessionEndedEvent) and self.ended_reason is not None:
            self._report([protocol.Problem(None, f"ignored a second {event.type} "
                                           f"(reason={event.reason!r}); the session ended "
                                           f"already (reason={self.ended_reason!r})")])
            return
        if not isinstance(event, protocol.StateUpdateEvent):
            self._log.add("in", event.type, raw)
        if isinstance(event, protocol.ErrorEvent):
            error = SessionErrorInfo.from_code(event.error)
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
        new = raw  # parse_state's values: exactly the properties set in ``state``
        old = self._raw_state
        # An unchanged property is the very same object from one snapshot to the next (the
        # decoder keeps it): identity settles most of them before strict_equal is called.
        # A property that is gone counts as None, as before.
        get = old.get
        changed_wire = [
            k for k, v in new.items() if get(k) is not v and not strict_equal(get(k), v)
        ]
        changed_wire += [k for k, v in old.items() if v is not None and k not in new]
        self._raw_state = new
        changed = {protocol.WIRE_TO_FIELD.get(k, k) for k in changed_wire}
        self._log.add(
            "in",
            protocol.STATE_UPDATE,
            {k: new[k] for k in changed_wire if k in new},
            frozenset(changed),
        )
        # All in place before the first observer runs, each change announced once, in order;
        # cheaper than setattr under hold_trait_notifications, which cross-validates again.
        order = protocol.WIRE_ORDER
        traits = [wire for wire in changed_wire if wire in order]
        if len(traits) > 1:
            traits.sort(key=order.__getitem__)  # announced in the documented order
        update_traits(self, [
            *((protocol.WIRE_TO_FIELD[wire], new.get(wire)) for wire in traits),
            ("state", state),
        ])
        if state.session_status == "terminated":
            self._ended = True
        self._drop_load_notice()  # it came after all
        if self._marimo and (echo := _frontends.reactive_echo(self, changed)):
            self.send(echo)
        if changed:
            self._on_state_change(state, changed)

    def _reset_session_state(self) -> None:
        self._drop_load_notice()
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
        text = _cap(text)
        (_LOG.error if level == "error" else _LOG.warning)("%s", text)
        self._notices = [*self._notices, {"level": level, "text": text}][-_MAX_NOTICES:]

    def _report(self, problems: list[protocol.Problem], fields: Any = ()) -> None:
        """Report each problem; a field's only once until its problem changes or goes away.

        ``fields`` are the state properties of a snapshot being applied: those without a
        problem in it are well again, so their next problem is news.
        """
        current = {p.field for p in problems}
        for field in [f for f in self._reported if f in fields and f not in current]:
            del self._reported[field]
        for problem in problems:
            if problem.field is not None:
                if self._reported.get(problem.field) == problem.text:
                    continue
                self._reported[problem.field] = problem.text
                while len(self._reported) > _MAX_REPORTED:
                    del self._reported[next(iter(self._reported))]
            self._protocol_problem(problem.text)

    def _protocol_problem(self, text: str) -> None:
        text = _cap(text)
        # warn_explicit without a registry: Python's warnings registry would keep one entry per
        # distinct text forever; the session reports each problem once by itself.
        warnings.warn_explicit(text, UpscopeProtocolWarning, __file__, 0, registry=None)
        self._notice("warning", text)

    def _callback_failed(self, text: str) -> None:
        self._notice("error", text)


def _cap(text: str) -> str:
    """Notices are synced to the browser whole on every change: keep each one small."""
    return text if len(text) <= _MAX_NOTICE_CHARS else text[: _MAX_NOTICE_CHARS - 1] + "…"


def _int_or(value: Any, default: int) -> int:
    return value if type(value) is int else default


def _params_of(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "action"}


def _visitor_label(visitor: Any) -> str:
    """Return the visitor's name, else email, else short id (as the toolbar shows them)."""
    if not isinstance(visitor, dict):
        return ""
    for key in ("callName", "email", "shortId"):
        value = visitor.get(key)
        if isinstance(value, str) and value:
            return value
    return ""

