"""The Upscope embedded-session protocol: every wire name, and pydantic models for both directions.

This module is the one place that spells the vendor's wire names (event ``type``s, instruction
``action``s, state keys, enum values). Python attributes are snake_case; the camelCase wire names
are their aliases. Inbound models keep unknown fields, because the vendor may add some.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ._json import MAX_STATE_PROPERTIES, json_problem, short_repr
from .errors import Problem as Problem

# --- Events (iframe -> host) -------------------------------------------------------------------

STATE_UPDATE = "upscope.sessionState.update"
SESSION_ENDED = "sessionEnded"
CUSTOM_MESSAGE = "customMessage"
ERROR = "error"
EVENT_TYPES: tuple[str, ...] = (STATE_UPDATE, SESSION_ENDED, CUSTOM_MESSAGE, ERROR)

SessionEndReason = Literal["ended", "error"]
SESSION_END_REASONS: tuple[str, ...] = get_args(SessionEndReason)

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
    "agentIdleness": get_args(AgentIdleness),
    "audioState": get_args(AudioState),
    "controlTool": get_args(ControlTool),
    "mode": get_args(SharingMode),
    "sessionStatus": get_args(SessionStatus),
}
#: Known prefixes of the ``"<prefix>:<id>"`` video states.
VIDEO_AGENT_STATES: tuple[str, ...] = ("off", "authorizing:", "active:")
VIDEO_VISITOR_STATES: tuple[str, ...] = ("off", "ringing", "authorizing:", "active:")
AVAILABLE_MODES: tuple[str, ...] = get_args(AvailableMode)


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
#: A count, a size or a latency: finite and never negative.
Amount = Annotated[StrictInt | StrictFloat, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=0)]


class Size(_WireModel):
    """The viewer's dimensions in pixels."""

    width: Amount
    height: Amount


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

    @model_validator(mode="wrap")
    @classmethod
    def _set_by_wire_names_only(cls, data: Any, handler: Any) -> Any:
        # Validated by wire name only, a vendor key spelled like a field's Python name
        # (``short_id``) is kept as an unknown key, yet pydantic also counts that field as set:
        # ``to_wire()`` would then add a ``"shortId": None`` that was never sent.
        model = handler(data)
        if isinstance(data, dict):
            for name in _SNAKE_VISITOR_FIELDS.keys() & model.model_fields_set:
                if _SNAKE_VISITOR_FIELDS[name] not in data:
                    model.model_fields_set.discard(name)
        return model


#: Visitor fields whose Python name differs from the wire name -> the wire name (computed once:
#: the validator runs on every snapshot).
_SNAKE_VISITOR_FIELDS = {name: to_camel(name) for name in Visitor.model_fields if "_" in name}


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
    data_bounce_speed: Amount | None = None
    is_video_on: StrictBool | None = None
    mode: StrictStr | None = None
    muted: StrictBool | None = None
    observers_count: Count | None = None
    session_status: StrictStr | None = None
    size: Size | None = None
    video_agent_state: StrictStr | None = None
    video_visitor_state: StrictStr | None = None
    viewer_audio_available: StrictBool | None = None
    visitor: Visitor | None = None
    visitor_audio_available: StrictBool | None = None


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_amount(value: Any) -> bool:
    kind = type(value)
    return (kind is int or (kind is float and math.isfinite(value))) and value >= 0


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


#: The scalar properties' checks, by the type of their field: each says yes only to a value the
#: model takes as it is (``None`` included), so that a snapshot changing only these skips
#: pydantic; anything else goes through the model. A unit test holds them to the model's
#: verdicts.
_SCALAR_CHECKS: dict[Any, Any] = {
    StrictStr | None: _is_str,
    StrictBool | None: _is_bool,
    Amount | None: _is_amount,
    Count | None: _is_count,
}


#: snake_case attribute -> camelCase wire key, for every documented state property.
STATE_FIELDS: dict[str, str] = {
    name: to_camel(name) for name in EmbeddedSessionState.model_fields
}
WIRE_TO_FIELD: dict[str, str] = {wire: name for name, wire in STATE_FIELDS.items()}
#: camelCase wire key -> its place in the documented order (traits change in this order).
WIRE_ORDER: dict[str, int] = {wire: i for i, wire in enumerate(STATE_FIELDS.values())}
#: wire key -> the check of a scalar property (see ``_SCALAR_CHECKS``).
SCALAR_CHECKS: dict[str, Any] = {
    STATE_FIELDS[name]: _SCALAR_CHECKS[info.rebuild_annotation()]
    for name, info in EmbeddedSessionState.model_fields.items()
    if info.rebuild_annotation() in _SCALAR_CHECKS
}


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

SetModeValue = Literal["draw", "pointer", "cursor"]
SET_MODE_VALUES: tuple[str, ...] = get_args(SetModeValue)
#: What ``controlTool`` shows for each ``setMode`` value (``None``: no tool). The one place this
#: is written: the effects, the toolbar and the simulator follow it (``js/protocol.ts`` spells it
#: again as ``CONTROL_TOOL_FOR_MODE``, and a drift test compares the pairs).
CONTROL_TOOL_FOR_MODE: dict[str | None, str | None] = {
    "draw": "drawing",
    "pointer": "pointer",
    "cursor": "cursor",
    None: None,
}


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

    mode: SetModeValue | None


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
INSTRUCTION_PARAMS: dict[str, type[_Params]] = {
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
    """Raise ``ValueError`` unless ``value`` is a bounded JSON object bound for the iframe.

    Bounded: at most ``MAX_DEPTH`` deep and ``MAX_JSON_CHARS`` long, integers within
    JavaScript's safe range (see ``upscope_widget._json``).
    """
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict (a JSON object), got {short_repr(value)}")
    problem = json_problem(value, name=what, safe_ints=True)
    if problem is not None:
        raise ValueError(problem)


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
        parts.append(f"{loc}={short_repr(e['input'])} is not valid: {msg}")
    return f"{label}: " + "; ".join(parts)


def build_instruction(
    action: str, params: dict[str, Any], *, allow_unknown: bool = False
) -> dict[str, Any]:
    """Validate ``params`` for ``action`` and return the wire message ``{"action": …, …}``.

    Documented actions are checked against their parameter model (snake_case or camelCase
    keys). An action this version does not know is refused unless ``allow_unknown`` is true
    (then its parameters are only checked to be bounded JSON); a near miss of a documented
    one (``"setcurrenturl"``, ``"setCurrentUrl "``) is always refused, since it would skip
    that action's checks. Raises ``ValueError`` naming the bad value and what is allowed.
    """
    if not isinstance(action, str) or not action.strip():
        raise ValueError(f"action must be a non-empty string, got {short_repr(action)}")
    if "action" in params:
        raise ValueError("'action' is the instruction's name; it cannot also be a parameter")
    model = INSTRUCTION_PARAMS.get(action)
    if model is None:
        meant = _NORMALISED_ACTIONS.get(action.strip().casefold())
        if meant is not None:
            raise ValueError(
                f"action {short_repr(action)} is not an instruction; did you mean {meant!r}? "
                "(instruction names are exact)"
            )
        if not allow_unknown:
            raise ValueError(
                f"action {short_repr(action)} is not an instruction this version knows; "
                f"allowed: {sorted(INSTRUCTION_PARAMS)}, or pass allow_unknown=True to send an "
                "action the protocol has added since"
            )
        check_json(params, f"{action} parameters")
        return {"action": action, **params}
    try:
        parsed = model.model_validate(params)
    except ValidationError as err:
        raise ValueError(describe_error(err, action, list(model.model_fields))) from None
    message = {"action": action, **parsed.model_dump(by_alias=True, exclude_unset=True)}
    if action == SEND_CUSTOM_MESSAGE:
        return message  # its message was checked, size included
    problem = json_problem(message, name=action, safe_ints=True)
    if problem is not None:  # only a huge string can get here (a URL, a command, a color)
        raise ValueError(problem)
    return message


_NORMALISED_ACTIONS = {name.casefold(): name for name in INSTRUCTION_PARAMS}


# --- Inbound parsing ---------------------------------------------------------------------------


_ABSENT = object()


#: The problem field under which a state with too many properties is reported (once).
TOO_MANY_PROPERTIES = "(properties)"


def bound_properties(state: dict[str, Any]) -> tuple[dict[str, Any], Problem | None]:
    """Return ``state`` with at most ``MAX_STATE_PROPERTIES`` properties, and the problem.

    The documented properties are always kept, then the unknown ones in their order; those
    beyond the limit are left out, and the problem names the first of them. A state within the
    limit comes back as it is, with ``None``.
    """
    if len(state) <= MAX_STATE_PROPERTIES:
        return state, None
    order = WIRE_ORDER
    room = MAX_STATE_PROPERTIES - sum(1 for key in state if key in order)
    kept: dict[str, Any] = {}
    first_left_out: str | None = None
    for key, value in state.items():
        if key in order:
            kept[key] = value
        elif room > 0:
            kept[key] = value
            room -= 1
        elif first_left_out is None:
            first_left_out = key
    # the text stays the same while the state keeps growing: reported once, not per snapshot
    return kept, Problem(TOO_MANY_PROPERTIES, (
        f"the state has more than {MAX_STATE_PROPERTIES} properties; the unknown ones beyond "
        f"the limit are left out, the first of them {short_repr(first_left_out, 60)}"))


def parse_state(
    raw: dict[str, Any],
    previous: dict[str, Any] | None = None,
    previous_state: EmbeddedSessionState | None = None,
) -> tuple[EmbeddedSessionState, dict[str, Any], list[Problem]]:
    """Parse a snapshot, never failing: return the state, the raw values used, and problems.

    A property that is too deep or too long, of the wrong type, or out of range keeps its
    value from ``previous`` (the last raw values applied) and is reported; every other
    property is applied. An enum value this version does not know is kept and reported.

    Only properties whose value is not the very object in ``previous`` are checked: pass
    ``previous_state``, the state parsed from ``previous``, and the others are taken from it
    rather than validated again (a burst of snapshots changes one or two properties each).

    The raw values returned are exactly the properties set in the state (``model_fields_set``,
    documented ones by attribute name, unknown ones by wire name).
    """
    problems: list[Problem] = []
    raw, too_many = bound_properties(raw)
    if too_many is not None:
        problems.append(too_many)
    data = dict(raw)
    previous = previous or {}

    def keep_previous(key: str, text: str) -> None:
        problems.append(Problem(key, f"{text}; kept its last value"))
        if key in previous:
            data[key] = previous[key]
        else:
            data.pop(key, None)

    changed: dict[str, Any] = {}
    for key, value in raw.items():
        if previous.get(key, _ABSENT) is value:
            continue  # the very value applied last time (the decoder keeps it): checked then
        wire = STATE_FIELDS.get(key)
        if wire is not None and wire != key:
            # pydantic would take the Python name for the property (populate_by_name): the
            # state would then disagree with its trait, which follows the wire name
            problems.append(Problem(key, f"state.{key} is not a wire name (the protocol's "
                                         f"is {wire!r}); ignored"))
            del data[key]
            continue
        problem = json_problem(value, name=f"state.{key}")
        if problem is not None:
            keep_previous(key, problem)
        else:
            changed[key] = value
    # From the previous state, unless a property went away (its field must be unset again).
    base = previous_state if previous_state is not None and previous.keys() <= data.keys() \
        else None
    todo = changed if base is not None else data
    if base is not None and changed and _all_scalar(changed):
        # the common case of a burst: a latency or a status changed; the model would only
        # confirm what the checks already know
        state = _with_values(base, {WIRE_TO_FIELD[k]: v for k, v in changed.items()})
        return state, data, _new_enum_problems(state, problems)
    for _ in range(len(STATE_FIELDS) + 1):
        try:
            # wire names only, nested ones too: a vendor key that happens to be a field's
            # Python name (``short_id``) is an unknown key, not that field
            state = EmbeddedSessionState.model_validate(todo, by_alias=True, by_name=False)
            break
        except ValidationError as err:
            bad = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
            if not bad:  # pragma: no cover - defensive: an error with no location
                state, data, base = EmbeddedSessionState(), {}, None
                break
            for key in sorted(bad):
                if key in data and data.get(key) is previous.get(key):
                    data.pop(key)  # the previous value no longer validates: drop it
                    todo.pop(key, None)
                    continue
                keep_previous(key, f"state.{key}={short_repr(data.get(key))} is not "
                                   f"{_expected(key)}")
                changed.pop(key, None)  # the previous state holds its last value
    else:  # pragma: no cover - each round removes or replaces at least one key
        state, data, base = EmbeddedSessionState(), {}, None
    if base is not None and changed:
        state = _merged(base, state)
    elif base is not None:
        state = base
    # a property that kept its last value was reported as such; its kept value, if unknown,
    # was reported when it came: reporting it again would report the field on every snapshot
    return state, data, _new_enum_problems(state, problems)


def _all_scalar(changed: dict[str, Any]) -> bool:
    checks = SCALAR_CHECKS
    for key, value in changed.items():
        check = checks.get(key)
        if check is None or (value is not None and not check(value)):
            return False
    return True


def _new_enum_problems(state: EmbeddedSessionState, problems: list[Problem]) -> list[Problem]:
    """Add the state's unknown enum values to ``problems`` (the reporter says each once)."""
    reported = {p.field for p in problems}
    problems.extend(p for p in _enum_problems(state) if p.field not in reported)
    return problems


def _with_values(base: EmbeddedSessionState, fields: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> EmbeddedSessionState:
    """Return ``base`` with ``fields`` (attribute names) and ``extra`` set, both valid already.

    What ``base.model_copy(update=...)`` makes (documented fields in the model's dict, unknown
    keys among its extras, every key marked as set), built the way ``model_construct`` builds
    a model, at a third of the cost: this runs once per snapshot.
    """
    values = base.__dict__.copy()
    values.update(fields)
    extras = dict(base.__pydantic_extra__ or {})
    if extra:
        extras.update(extra)
    state = EmbeddedSessionState.__new__(EmbeddedSessionState)
    object.__setattr__(state, "__dict__", values)
    object.__setattr__(state, "__pydantic_extra__", extras)
    object.__setattr__(state, "__pydantic_fields_set__",
                       base.__pydantic_fields_set__ | fields.keys() | (extra or {}).keys())
    object.__setattr__(state, "__pydantic_private__", None)
    return state


def _merged(base: EmbeddedSessionState, changes: EmbeddedSessionState) -> EmbeddedSessionState:
    """Return ``base`` with the properties set in ``changes`` (both validated already)."""
    changed_extra = changes.__pydantic_extra__ or {}
    new_values = changes.__dict__
    fields = {n: new_values[n] for n in changes.__pydantic_fields_set__ if n not in changed_extra}
    extra = {n: changed_extra[n] for n in changes.__pydantic_fields_set__ if n in changed_extra}
    return _with_values(base, fields, extra)


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


def _enum_problems(state: EmbeddedSessionState) -> list[Problem]:
    problems = []
    for wire, field, known in _ENUM_FIELDS:
        value = getattr(state, field)
        if value is not None and value not in known:
            problems.append(
                Problem(wire, f"state.{wire}={short_repr(value)} is not a known value {known}; "
                        "kept as is")
            )
    for wire, field, exact, prefixes in _VIDEO_FIELDS:
        value = getattr(state, field)
        if value is not None and value not in exact and not value.startswith(prefixes):
            problems.append(
                Problem(wire, f"state.{wire}={short_repr(value)} is not a known value; kept as is")
            )
    modes = state.available_modes
    unknown_modes = [m for m in modes if m not in AVAILABLE_MODES] if modes else None
    if unknown_modes:
        problems.append(
            Problem(
                "availableModes",
                f"state.availableModes has {short_repr(unknown_modes)}, not known modes "
                f"{AVAILABLE_MODES}; kept",
            )
        )
    return problems


# (wire name, attribute, known values) of the enum fields; (wire name, attribute, exact values,
# "<prefix>:" prefixes) of the video states: computed once, checked on every snapshot
_ENUM_FIELDS = [(wire, WIRE_TO_FIELD[wire], known) for wire, known in STATE_ENUMS.items()]
_VIDEO_FIELDS = [
    (wire, WIRE_TO_FIELD[wire], tuple(p for p in known if not p.endswith(":")),
     tuple(p for p in known if p.endswith(":")))
    for wire, known in (("videoAgentState", VIDEO_AGENT_STATES),
                        ("videoVisitorState", VIDEO_VISITOR_STATES))
]


def parse_event(
    raw: Any,
    previous: dict[str, Any] | None = None,
    previous_state: EmbeddedSessionState | None = None,
) -> tuple[AnyEvent | None, dict[str, Any] | None, list[Problem]]:
    """Parse one inbound message into an event model, never failing.

    Returns ``(event, state_values, problems)``. ``event`` is ``None`` when the message cannot
    be an event at all (not an object, too deep or too long, no string ``type``); an unknown
    ``type`` becomes an ``UnknownEvent``. For a snapshot, ``state_values`` are the raw values
    applied (see :func:`parse_state`, which gets ``previous`` and ``previous_state``); else it
    is ``None``.
    """
    if not isinstance(raw, dict):
        return None, None, [Problem(None, f"ignored a message that is not an object: "
                                          f"{short_repr(raw)}")]
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        # an empty type names nothing: it could be neither told apart nor logged
        return None, None, [Problem(None, f"ignored a message without a string 'type' (or "
                                          f"with an empty one): {short_repr(raw)}")]
    rest = {k: v for k, v in raw.items() if k != "type"}
    if kind == STATE_UPDATE:
        state_raw = rest.pop("state", None)
        if not isinstance(state_raw, dict):
            return None, None, [Problem(None, f"ignored {STATE_UPDATE} whose 'state' is not an "
                                              f"object: {short_repr(state_raw)}")]
        state, values, problems = parse_state(state_raw, previous, previous_state)
        event, extra_problems = _event(StateUpdateEvent, {"state": state}, rest, kind)
        return event, values, problems + extra_problems
    problem = json_problem(rest, name=kind)
    if problem is not None:
        return None, None, [Problem(None, f"ignored a {short_repr(kind)} event: {problem}")]
    if kind == SESSION_ENDED:
        reason = rest.pop("reason", None)
        problems = []
        if not isinstance(reason, str):
            problems.append(Problem(None, f"{SESSION_ENDED}.reason={short_repr(reason)} is not a "
                                          "string; taken as 'error'"))
            reason = "error"
        elif reason not in SESSION_END_REASONS:
            problems.append(Problem(None, f"{SESSION_ENDED}.reason={short_repr(reason)} is not "
                                          f"one of {SESSION_END_REASONS}; kept"))
        event, extra_problems = _event(SessionEndedEvent, {"reason": reason}, rest, kind)
        return event, None, problems + extra_problems
    if kind == CUSTOM_MESSAGE:
        message = rest.pop("message", None)
        if not isinstance(message, dict):
            return None, None, [Problem(None, f"ignored {CUSTOM_MESSAGE} whose 'message' is not "
                                              f"an object: {short_repr(message)}")]
        event, extra_problems = _event(CustomMessageEvent, {"message": message}, rest, kind)
        return event, None, extra_problems
    if kind == ERROR:
        code = rest.pop("error", None)
        if not isinstance(code, str):
            return None, None, [Problem(None, f"ignored {ERROR} whose 'error' is not a string: "
                                              f"{short_repr(code)}")]
        event, extra_problems = _event(ErrorEvent, {"error": code}, rest, kind)
        return event, None, extra_problems
    event, extra_problems = _event(UnknownEvent, {"type": kind}, rest, kind)
    return event, None, extra_problems


def _event(
    model: type[_Event], fields: dict[str, Any], extra: dict[str, Any], kind: str
) -> tuple[Any, list[Problem]]:
    """Build an event, keeping the fields the vendor may add; drop those that clash with ours."""
    if not extra and model is StateUpdateEvent:
        # the common case, once per snapshot: its one field is a state validated already
        event = StateUpdateEvent.__new__(StateUpdateEvent)
        object.__setattr__(event, "__dict__", {"type": STATE_UPDATE, **fields})
        object.__setattr__(event, "__pydantic_extra__", {})
        object.__setattr__(event, "__pydantic_fields_set__", {"state"})
        object.__setattr__(event, "__pydantic_private__", None)
        return event, []
    try:
        return model.model_validate({**extra, **fields}), []
    except ValidationError:
        return model.model_validate(fields), [
            Problem(None, f"{kind}: extra fields {short_repr(sorted(extra))} could not be kept")
        ]


def visitor_label(visitor: Any) -> str:
    """Return the visitor's name, else email, else short id (as the toolbar shows them)."""
    if not isinstance(visitor, dict):
        return ""
    for key in ("callName", "email", "shortId"):
        value = visitor.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
