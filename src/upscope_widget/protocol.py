"""The Upscope embedded-session protocol: every wire name, and pydantic models for both directions.

This module is the one place that spells the vendor's wire names (event ``type``s, instruction
``action``s, state keys, enum values). Python attributes are snake_case; the camelCase wire names
are their aliases. Inbound models keep unknown fields, because the vendor may add some.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

# --- Events (iframe -> host) -------------------------------------------------------------------

STATE_UPDATE = "upscope.sessionState.update"
SESSION_ENDED = "sessionEnded"
CUSTOM_MESSAGE = "customMessage"
ERROR = "error"
EVENT_TYPES: tuple[str, ...] = (STATE_UPDATE, SESSION_ENDED, CUSTOM_MESSAGE, ERROR)

SessionEndReason = Literal["ended", "error"]
SESSION_END_REASONS: tuple[str, ...] = ("ended", "error")

# --- State enums -------------------------------------------------------------------------------

AgentIdleness = Literal["active", "willDisconnect", "disconnected"]
AudioState = Literal["off", "ringing", "accepted", "authorizing", "active"]
AvailableMode = Literal["visitor_browser", "visitor_screen", "agent_screen"]
ControlTool = Literal["cursor", "drawing", "pointer"]
SharingMode = Literal["visitor_browser", "visitor_screen", "agent_screen", "other_agent_screen"]
SessionStatus = Literal[
    "waiting", "pendingRequest", "active", "snapshotReceived", "viewerReady", "terminated"
]

#: Known values of each enum-valued state field (wire name -> values). A value outside these is
#: kept (the vendor may add one) and reported as a warning.
STATE_ENUMS: dict[str, tuple[str, ...]] = {
    "agentIdleness": ("active", "willDisconnect", "disconnected"),
    "audioState": ("off", "ringing", "accepted", "authorizing", "active"),
    "controlTool": ("cursor", "drawing", "pointer"),
    "mode": ("visitor_browser", "visitor_screen", "agent_screen", "other_agent_screen"),
    "sessionStatus": (
        "waiting",
        "pendingRequest",
        "active",
        "snapshotReceived",
        "viewerReady",
        "terminated",
    ),
}
#: Known prefixes of the ``"<prefix>:<id>"`` video states.
VIDEO_AGENT_STATES: tuple[str, ...] = ("off", "authorizing:", "active:")
VIDEO_VISITOR_STATES: tuple[str, ...] = ("off", "ringing", "authorizing:", "active:")
AVAILABLE_MODES: tuple[str, ...] = ("visitor_browser", "visitor_screen", "agent_screen")


class _WireModel(BaseModel):
    """Inbound data: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        populate_by_name=True,
        extra="allow",
        strict=True,
        frozen=True,
        defer_build=True,  # built on first use: keeps `import upscope_widget` fast
    )

    def to_wire(self) -> dict[str, Any]:
        """Return the object as the wire carries it (camelCase keys, unknown fields included)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


Number = StrictInt | StrictFloat


class Size(_WireModel):
    """The viewer's dimensions in pixels."""

    width: Number
    height: Number


class Connection(_WireModel):
    """One visitor connection (a browser tab or app instance). Only ``id`` is documented."""

    id: StrictStr


class Visitor(_WireModel):
    """The visitor in the session, as the embedded state carries it (camelCase on the wire).

    Every field is optional; fields the vendor adds are kept as extra attributes.
    """

    short_id: StrictStr | None = None
    unique_id: StrictStr | None = None
    lookup_code: StrictStr | None = None
    call_name: StrictStr | None = None
    email: StrictStr | None = None
    identities: list[Any] | None = None
    tags: list[Any] | None = None
    is_online: StrictBool | None = None
    is_in_session: StrictBool | None = None
    last_url: StrictStr | None = None
    last_seen_at: Any = None
    browser_name: StrictStr | None = None
    device_name: StrictStr | None = None
    device_type: StrictStr | None = None
    location_city: StrictStr | None = None
    location_country: StrictStr | None = None
    location_country_name: StrictStr | None = None
    ip_address: StrictStr | None = None


class EmbeddedSessionState(_WireModel):
    """A full snapshot of the session, as posted by ``upscope.sessionState.update``.

    Attributes are snake_case; the camelCase wire names are their aliases. A property the snapshot
    lacks is ``None``. Enum-valued fields are plain strings so that a value the vendor adds later
    is kept rather than lost (it is reported as a warning).
    """

    active_connection_id: StrictStr | None = None
    agent_idleness: StrictStr | None = None
    audio_state: StrictStr | None = None
    available_modes: list[StrictStr] | None = None
    color: StrictStr | None = None
    connected: StrictBool | None = None
    connections: list[Connection] | None = None
    control_tool: StrictStr | None = None
    current_url: StrictStr | None = None
    data_bounce_speed: Number | None = None
    is_video_on: StrictBool | None = None
    mode: StrictStr | None = None
    muted: StrictBool | None = None
    observers_count: StrictInt | None = None
    session_status: StrictStr | None = None
    size: Size | None = None
    video_agent_state: StrictStr | None = None
    video_visitor_state: StrictStr | None = None
    viewer_audio_available: StrictBool | None = None
    visitor: Visitor | None = None
    visitor_audio_available: StrictBool | None = None


#: snake_case attribute -> camelCase wire key, for every documented state property.
STATE_FIELDS: dict[str, str] = {
    name: to_camel(name) for name in EmbeddedSessionState.model_fields
}
WIRE_TO_FIELD: dict[str, str] = {wire: name for name, wire in STATE_FIELDS.items()}


# --- Events as models --------------------------------------------------------------------------


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class StateUpdateEvent(_Event):
    """``upscope.sessionState.update``: a full snapshot of the session."""

    type: Literal["upscope.sessionState.update"] = "upscope.sessionState.update"
    state: EmbeddedSessionState


class SessionEndedEvent(_Event):
    """``sessionEnded``: the session is over; ``reason`` is ``"ended"`` or ``"error"``."""

    type: Literal["sessionEnded"] = "sessionEnded"
    reason: str


class CustomMessageEvent(_Event):
    """``customMessage``: the visitor's SDK sent a message."""

    type: Literal["customMessage"] = "customMessage"
    message: dict[str, Any]


class ErrorEvent(_Event):
    """``error``: a connection or remote-control error, with its wire code."""

    type: Literal["error"] = "error"
    error: str


class UnknownEvent(_Event):
    """An event whose ``type`` this version does not know; every field is kept as it came."""

    type: str


#: What ``on_event`` callbacks receive: a model per known ``type``, else ``UnknownEvent``.
AnyEvent = (
    StateUpdateEvent | SessionEndedEvent | CustomMessageEvent | ErrorEvent | UnknownEvent
)


# --- Instructions (host -> iframe) -------------------------------------------------------------

END_SESSION = "endSession"
SET_MODE = "setMode"
SWITCH_COLOR = "switchColor"
TOGGLE_AUDIO = "toggleAudio"
TOGGLE_VIDEO = "toggleVideo"
SET_MUTED = "setMuted"
BEGIN_VIDEO = "beginVideo"
END_VIDEO = "endVideo"
FORCE_REFRESH = "forceRefresh"
HISTORY_BACK = "historyBack"
HISTORY_FORWARD = "historyForward"
RELOAD_PAGE = "reloadPage"
REQUEST_CONTROL = "requestControl"
REQUEST_FULL_TAB = "requestFullTab"
RUN_CONSOLE_COMMAND = "runConsoleCommand"
SEND_CUSTOM_MESSAGE = "sendCustomMessage"
SET_ACTIVE_CONNECTION = "setActiveConnection"
SET_CURRENT_URL = "setCurrentUrl"
STOP_FULL_TAB = "stopFullTab"
EMOJI_CONFETTI = "emojiConfetti"

SET_MODE_VALUES: tuple[str, ...] = ("draw", "pointer", "cursor")


class _Params(BaseModel):
    """Instruction parameters: strict (``"yes"`` is not a bool), no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
        defer_build=True,
    )


class NoParams(_Params):
    """An instruction without parameters."""


class SetModeParams(_Params):
    """``setMode``: the agent's tool, or ``None`` for no tool."""

    mode: Literal["draw", "pointer", "cursor"] | None


class SwitchColorParams(_Params):
    """``switchColor``: a color, or none to cycle through the built-in colors."""

    color: StrictStr | None = None

    @field_validator("color")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a color must be a non-empty string such as '#ff5500' or 'red'")
        return value


class ToggleAudioParams(_Params):
    """``toggleAudio``: turn the audio call on or off."""

    on: StrictBool


class SetMutedParams(_Params):
    """``setMuted``: mute or unmute the agent's audio."""

    muted: StrictBool


def _non_empty(what: str) -> Any:
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"{what} must be a non-empty string")
        return value

    return check


class RunConsoleCommandParams(_Params):
    """``runConsoleCommand``: JavaScript to run in the visitor's console."""

    command: StrictStr

    _check = field_validator("command")(_non_empty("command"))


class SendCustomMessageParams(_Params):
    """``sendCustomMessage``: a JSON object for the visitor's SDK."""

    message: dict[StrictStr, Any]

    @field_validator("message")
    @classmethod
    def _json_object(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_json(value, "message")
        return value


class SetActiveConnectionParams(_Params):
    """``setActiveConnection``: the connection (tab) to view, by its id."""

    connection_id: StrictStr

    _check = field_validator("connection_id")(_non_empty("connection_id"))


class SetCurrentUrlParams(_Params):
    """``setCurrentUrl``: navigate the visitor's page to an absolute http(s) URL."""

    url: StrictStr

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from .urls import check_page_url

        return check_page_url(value)


class EmojiConfettiParams(_Params):
    """``emojiConfetti``: the emoji to rain on the visitor's page."""

    emoji: StrictStr

    @field_validator("emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("emoji must be a non-empty string such as '🎉'")
        if len(value) > 16:
            raise ValueError("emoji must be one emoji (at most 16 characters)")
        return value


#: Every documented instruction: wire action -> its parameter model.
INSTRUCTIONS: dict[str, type[_Params]] = {
    END_SESSION: NoParams,
    SET_MODE: SetModeParams,
    SWITCH_COLOR: SwitchColorParams,
    TOGGLE_AUDIO: ToggleAudioParams,
    TOGGLE_VIDEO: NoParams,
    SET_MUTED: SetMutedParams,
    BEGIN_VIDEO: NoParams,
    END_VIDEO: NoParams,
    FORCE_REFRESH: NoParams,
    HISTORY_BACK: NoParams,
    HISTORY_FORWARD: NoParams,
    RELOAD_PAGE: NoParams,
    REQUEST_CONTROL: NoParams,
    REQUEST_FULL_TAB: NoParams,
    RUN_CONSOLE_COMMAND: RunConsoleCommandParams,
    SEND_CUSTOM_MESSAGE: SendCustomMessageParams,
    SET_ACTIVE_CONNECTION: SetActiveConnectionParams,
    SET_CURRENT_URL: SetCurrentUrlParams,
    STOP_FULL_TAB: NoParams,
    EMOJI_CONFETTI: EmojiConfettiParams,
}


def check_json(value: Any, what: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a JSON object (str keys, JSON values, finite)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict (a JSON object), got {value!r}")
    try:
        json.dumps(value, allow_nan=False, default=_not_json)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be JSON (str keys; str, int, float, bool, None, list, "
                         f"dict values): {err}") from None
    for key in _all_keys(value):
        if not isinstance(key, str):
            raise ValueError(f"{what} must have str keys, got key {key!r}")


def _all_keys(value: Any) -> list[Any]:
    keys: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            keys.append(k)
            keys.extend(_all_keys(v))
    elif isinstance(value, (list, tuple)):
        for v in value:
            keys.extend(_all_keys(v))
    return keys


def _not_json(value: Any) -> Any:
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON")


_TYPE_HINTS = {
    "bool_type": "True or False",
    "string_type": "a string",
    "dict_type": "a dict (a JSON object)",
}


def describe_error(err: ValidationError, label: str, fields: list[str] | None = None) -> str:
    """Turn a pydantic error into one sentence naming each bad value and what is allowed."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "parameters"
        msg = str(e["msg"])
        if e["type"] == "literal_error" and "expected" in e.get("ctx", {}):
            msg = f"allowed: {e['ctx']['expected']}"
        elif e["type"] in _TYPE_HINTS:
            msg = f"allowed: {_TYPE_HINTS[e['type']]}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e["type"] == "extra_forbidden":
            allowed = ", ".join(fields or []) or "none"
            msg = f"unknown parameter (allowed: {allowed})"
        if e["type"] == "missing":
            parts.append(f"{loc} is required")
            continue
        parts.append(f"{loc}={e['input']!r} is not valid: {msg}")
    return f"{label}: " + "; ".join(parts)


def build_instruction(action: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``params`` for ``action`` and return the wire message ``{"action": …, …}``.

    Documented actions are checked against their parameter model (snake_case or camelCase keys);
    unknown actions are passed through, their parameters only checked to be JSON.
    Raises ``ValueError`` naming the bad value and what is allowed.
    """
    if not isinstance(action, str) or not action.strip():
        raise ValueError(f"action must be a non-empty string, got {action!r}")
    if "action" in params:
        raise ValueError("'action' is the instruction's name; it cannot also be a parameter")
    model = INSTRUCTIONS.get(action)
    if model is None:
        check_json(params, f"{action} parameters")
        return {"action": action, **params}
    try:
        parsed = model.model_validate(params)
    except ValidationError as err:
        raise ValueError(describe_error(err, action, list(model.model_fields))) from None
    return {"action": action, **parsed.model_dump(by_alias=True, exclude_unset=True)}


# --- Inbound parsing ---------------------------------------------------------------------------


def parse_state(raw: dict[str, Any]) -> tuple[EmbeddedSessionState, list[str]]:
    """Parse a snapshot, never failing: return the state and a list of problems found.

    A property of the wrong type becomes ``None`` (and is reported); the rest is applied.
    An enum value this version does not know is kept and reported.
    """
    problems: list[str] = []
    data = dict(raw)
    for _ in range(len(STATE_FIELDS) + 1):
        try:
            state = EmbeddedSessionState.model_validate(data)
            break
        except ValidationError as err:
            bad = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
            for key in sorted(bad):
                problems.append(
                    f"state.{key}={data.get(key)!r} has the wrong type "
                    f"(expected {_expected(key)}); ignored"
                )
                data.pop(key, None)
            if not bad:  # pragma: no cover - defensive: an error with no location
                state = EmbeddedSessionState()
                break
    else:  # pragma: no cover - each round removes at least one key
        state = EmbeddedSessionState()
    problems.extend(_enum_problems(state))
    return state, problems


_EXPECTED = {
    "activeConnectionId": "string",
    "agentIdleness": "string",
    "audioState": "string",
    "availableModes": "list of strings",
    "color": "string",
    "connected": "boolean",
    "connections": "list of objects with a string 'id'",
    "controlTool": "string or null",
    "currentUrl": "string or null",
    "dataBounceSpeed": "number",
    "isVideoOn": "boolean",
    "mode": "string",
    "muted": "boolean",
    "observersCount": "integer",
    "sessionStatus": "string",
    "size": "object {width: number, height: number}",
    "videoAgentState": "string",
    "videoVisitorState": "string",
    "viewerAudioAvailable": "boolean",
    "visitor": "object",
    "visitorAudioAvailable": "boolean",
}


def _expected(wire_key: str) -> str:
    return _EXPECTED.get(wire_key, "a valid value")


def _enum_problems(state: EmbeddedSessionState) -> list[str]:
    problems = []
    for wire, known in STATE_ENUMS.items():
        value = getattr(state, WIRE_TO_FIELD[wire])
        if value is not None and value not in known:
            problems.append(f"state.{wire}={value!r} is not a known value {known}; kept as is")
    for wire, prefixes in (
        ("videoAgentState", VIDEO_AGENT_STATES),
        ("videoVisitorState", VIDEO_VISITOR_STATES),
    ):
        value = getattr(state, WIRE_TO_FIELD[wire])
        if value is not None and not any(
            value == p or (p.endswith(":") and value.startswith(p)) for p in prefixes
        ):
            problems.append(f"state.{wire}={value!r} is not a known value; kept as is")
    for mode in state.available_modes or []:
        if mode not in AVAILABLE_MODES:
            problems.append(
                f"state.availableModes has {mode!r}, not a known mode {AVAILABLE_MODES}; kept"
            )
    if state.data_bounce_speed is not None and not math.isfinite(state.data_bounce_speed):
        problems.append(f"state.dataBounceSpeed={state.data_bounce_speed!r} is not finite")
    return problems


def parse_event(raw: Any) -> tuple[AnyEvent | None, list[str]]:
    """Parse one inbound message into an event model, never failing.

    Returns ``(event, problems)``; ``event`` is ``None`` when the message cannot be an event at
    all (not an object, or no string ``type``). An unknown ``type`` becomes an ``UnknownEvent``.
    """
    if not isinstance(raw, dict):
        return None, [f"ignored a message that is not an object: {_short(raw)}"]
    kind = raw.get("type")
    if not isinstance(kind, str):
        return None, [f"ignored a message without a string 'type': {_short(raw)}"]
    if kind == STATE_UPDATE:
        state_raw = raw.get("state")
        if not isinstance(state_raw, dict):
            return None, [f"ignored {STATE_UPDATE} whose 'state' is not an object: "
                          f"{_short(state_raw)}"]
        state, problems = parse_state(state_raw)
        extra = {k: v for k, v in raw.items() if k not in ("type", "state")}
        return StateUpdateEvent(state=state, **extra), problems
    if kind == SESSION_ENDED:
        reason = raw.get("reason")
        problems = []
        if not isinstance(reason, str):
            problems.append(f"{SESSION_ENDED}.reason={reason!r} is not a string; taken as 'error'")
            reason = "error"
        elif reason not in SESSION_END_REASONS:
            problems.append(f"{SESSION_ENDED}.reason={reason!r} is not one of "
                            f"{SESSION_END_REASONS}; kept")
        rest = {k: v for k, v in raw.items() if k not in ("type", "reason")}
        return SessionEndedEvent(reason=reason, **rest), problems
    if kind == CUSTOM_MESSAGE:
        message = raw.get("message")
        if not isinstance(message, dict):
            return None, [f"ignored {CUSTOM_MESSAGE} whose 'message' is not an object: "
                          f"{_short(message)}"]
        rest = {k: v for k, v in raw.items() if k not in ("type", "message")}
        return CustomMessageEvent(message=message, **rest), []
    if kind == ERROR:
        code = raw.get("error")
        if not isinstance(code, str):
            return None, [f"ignored {ERROR} whose 'error' is not a string: {_short(code)}"]
        rest = {k: v for k, v in raw.items() if k not in ("type", "error")}
        return ErrorEvent(error=code, **rest), []
    return UnknownEvent(**raw), []


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
