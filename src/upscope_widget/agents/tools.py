"""Tool definitions for LLM agents, generated from the protocol's parameter models.

Every tool's JSON Schema comes from the pydantic model that validates the instruction
(``protocol.INSTRUCTION_PARAMS``), so a schema is never written twice. What this module adds
is prose:
what each tool does and what the visitor sees, a description per parameter, an example call,
and the hints MCP clients show (read-only, destructive, idempotent).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_snake

from .. import protocol

Format = Literal["openai", "openai-responses", "anthropic", "mcp", "json_schema"]
FORMATS: tuple[str, ...] = ("openai", "openai-responses", "anthropic", "mcp", "json_schema")

GET_SESSION_STATE = "get_session_state"
WAIT_FOR_STATUS = "wait_for_status"
#: Offered only when ``include`` names it: it runs code in the visitor's page.
OPT_IN_TOOLS: frozenset[str] = frozenset({to_snake(protocol.RUN_CONSOLE_COMMAND)})
MAX_WAIT_SECONDS = 300.0

_JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class WaitForStatusParams(BaseModel):
    """``wait_for_status``: the status to wait for, and for how long."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    status: protocol.SessionStatus
    timeout_seconds: Annotated[float, Field(gt=0, le=MAX_WAIT_SECONDS)] | None = None


@dataclass(frozen=True)
class ToolDef:
    """One tool: its name, the instruction it sends (``None`` for read tools), and its prose."""

    name: str
    action: str | None
    model: type[BaseModel]
    description: str
    params: Mapping[str, str] = field(default_factory=dict)
    example: Mapping[str, Any] = field(default_factory=dict)
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False

    @property
    def title(self) -> str:
        """A human title, e.g. ``"Set mode"``."""
        return self.name.replace("_", " ").capitalize()


# Prose for every instruction, keyed by wire action: (description, parameter descriptions,
# example arguments, flags). The schemas themselves come from protocol.INSTRUCTION_PARAMS.
_IDEMPOTENT = "idempotent"
_DESTRUCTIVE = "destructive"
_TEXT: dict[str, tuple[str, dict[str, str], dict[str, Any], frozenset[str]]] = {
    protocol.END_SESSION: (
        "End the co-browsing session for good. The agent view closes and the visitor's page "
        "stops being shared; the session cannot be resumed and every later instruction fails. "
        "Use it only when the person asks to finish.",
        {}, {}, frozenset({_DESTRUCTIVE, _IDEMPOTENT}),
    ),
    protocol.SET_MODE: (
        "Choose the agent's tool on the visitor's page: 'draw' draws on the page (the visitor "
        "sees the strokes in the agent's color), 'pointer' shows a spotlight pointer, 'cursor' "
        "shows the agent's cursor, null puts the tool away. Afterwards the state's control_tool "
        "reads 'drawing', 'pointer', 'cursor' or null.",
        {"mode": "The tool: 'draw', 'pointer' or 'cursor'; null for no tool."},
        {"mode": "draw"}, frozenset({_IDEMPOTENT}),
    ),
    protocol.SWITCH_COLOR: (
        "Change the color of the agent's drawings and pointer, as the visitor sees them. "
        "The state's color shows the new color.",
        {"color": "A CSS color such as '#e4572e' or 'red'; null cycles to the next built-in "
                  "color."},
        {"color": "#e4572e"}, frozenset(),
    ),
    protocol.TOGGLE_AUDIO: (
        "Start (on=true) or hang up (on=false) an audio call with the visitor. Starting rings "
        "the visitor, who must accept: audio_state goes 'ringing', then 'active'. Needs the "
        "visitor online.",
        {"on": "true to start the call, false to hang up."},
        {"on": True}, frozenset({_IDEMPOTENT}),
    ),
    protocol.TOGGLE_VIDEO: (
        "Switch the agent's video on if it is off, or off if it is on. The visitor starts or "
        "stops seeing the agent's camera; is_video_on shows which. Prefer begin_video or "
        "end_video when you know which one you want.",
        {}, {}, frozenset(),
    ),
    protocol.SET_MUTED: (
        "Mute (muted=true) or unmute (muted=false) the agent's microphone in the audio call: "
        "the visitor stops or starts hearing the agent. The state's muted shows it.",
        {"muted": "true to mute the agent, false to unmute."},
        {"muted": True}, frozenset({_IDEMPOTENT}),
    ),
    protocol.BEGIN_VIDEO: (
        "Start the agent's video: once the camera is authorized the visitor sees it "
        "(video_agent_state 'authorizing:<id>', then 'active:<id>' and is_video_on true).",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.END_VIDEO: (
        "Stop the agent's video: the visitor no longer sees the agent's camera "
        "(is_video_on false).",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.FORCE_REFRESH: (
        "Force a refresh of the session's view of the visitor's page, e.g. when it looks "
        "stale or broken. session_status passes 'snapshotReceived' and returns to "
        "'viewerReady'.",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.HISTORY_BACK: (
        "Go back one page in the visitor's active tab, like the browser's Back button. The "
        "visitor's page changes; current_url shows the new page.",
        {}, {}, frozenset(),
    ),
    protocol.HISTORY_FORWARD: (
        "Go forward one page in the visitor's active tab, like the browser's Forward button. "
        "The visitor's page changes; current_url shows the new page.",
        {}, {}, frozenset(),
    ),
    protocol.RELOAD_PAGE: (
        "Reload the page in the visitor's active tab, like the browser's Reload button. The "
        "visitor sees the page reload; what they typed into it and did not save may be lost.",
        {}, {}, frozenset(),
    ),
    protocol.REQUEST_CONTROL: (
        "Ask the visitor for remote control of their page, so that the agent can click and "
        "type for them. The visitor may be asked to allow it.",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.REQUEST_FULL_TAB: (
        "Ask to see the visitor's whole screen instead of only their browser tab. The visitor "
        "is asked to share it; once they do, the state's mode is 'visitor_screen'.",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.RUN_CONSOLE_COMMAND: (
        "Run JavaScript in the visitor's page, as if typed into their browser console. It can "
        "read and change anything on their page: use it only when the person asks for it. "
        "Refused with an error event unless the session allows console commands.",
        {"command": "The JavaScript to run, e.g. 'document.title'."},
        {"command": "document.title"}, frozenset({_DESTRUCTIVE}),
    ),
    protocol.SEND_CUSTOM_MESSAGE: (
        "Send a JSON object to the code of the visitor's website (through Upscope's SDK). "
        "The site decides what the visitor sees, and may answer with a customMessage event.",
        {"message": "A JSON object, e.g. {\"question\": \"Shall I help with the checkout?\"}."},
        {"message": {"question": "Shall I help with the checkout?"}}, frozenset(),
    ),
    protocol.SET_ACTIVE_CONNECTION: (
        "Switch to another of the visitor's tabs (connections), by its id from the state's "
        "connections list. The agent then sees that tab: active_connection_id and current_url "
        "change. An unknown id gets the error 'connection:user_not_found'.",
        {"connection_id": "The id of a connection in the state's connections, e.g. 'conn-2'."},
        {"connection_id": "conn-2"}, frozenset({_IDEMPOTENT}),
    ),
    protocol.SET_CURRENT_URL: (
        "Navigate the visitor's active tab to a web page. The visitor's browser loads it; "
        "current_url shows it.",
        {"url": "An absolute http: or https: URL, e.g. 'https://shop.example/cart'."},
        {"url": "https://shop.acme-outfitters.example/cart"}, frozenset({_IDEMPOTENT}),
    ),
    protocol.STOP_FULL_TAB: (
        "Stop viewing the visitor's whole screen and go back to their browser tab (mode "
        "'visitor_browser').",
        {}, {}, frozenset({_IDEMPOTENT}),
    ),
    protocol.EMOJI_CONFETTI: (
        "Rain confetti of one emoji over the visitor's page, e.g. to celebrate a finished "
        "order. Purely visual; nothing else changes.",
        {"emoji": "One emoji, e.g. '🎉'."},
        {"emoji": "🎉"}, frozenset(),
    ),
}


def _build_tools() -> dict[str, ToolDef]:
    missing = set(protocol.INSTRUCTION_PARAMS) - set(_TEXT)
    if missing:  # pragma: no cover - guarded by a unit test
        raise RuntimeError(f"no tool description for the instructions {sorted(missing)}")
    tools: dict[str, ToolDef] = {}
    for action, model in protocol.INSTRUCTION_PARAMS.items():
        description, params, example, flags = _TEXT[action]
        name = to_snake(action)
        tools[name] = ToolDef(
            name=name,
            action=action,
            model=model,
            description=description,
            params=params,
            example=example,
            destructive=_DESTRUCTIVE in flags,
            idempotent=_IDEMPOTENT in flags,
        )
    tools[GET_SESSION_STATE] = ToolDef(
        name=GET_SESSION_STATE,
        action=None,
        model=protocol.NoParams,
        description=(
            "Read the session's current state: session_status, the page the visitor is on "
            "(current_url), their tabs (connections, active_connection_id), the agent's tool "
            "(control_tool) and color, audio and video, the sharing mode, the visitor, the "
            "last error, and whether the session has ended. Changes nothing."
        ),
        read_only=True,
        idempotent=True,
    )
    tools[WAIT_FOR_STATUS] = ToolDef(
        name=WAIT_FOR_STATUS,
        action=None,
        model=WaitForStatusParams,
        description=(
            "Wait until session_status has a value, e.g. 'viewerReady' (the visitor's page is "
            "visible and instructions take effect). Returns the state then, or an error with "
            "the last state after timeout_seconds. Changes nothing."
        ),
        params={
            "status": "The session status to wait for.",
            "timeout_seconds": f"How long to wait, in seconds (at most {MAX_WAIT_SECONDS:g}); "
                               "null for the default.",
        },
        example={"status": "viewerReady", "timeout_seconds": 10},
        read_only=True,
        idempotent=True,
    )
    return tools


#: Every tool by name, in the protocol's order, then the read tools.
TOOLS: dict[str, ToolDef] = _build_tools()
#: The tools offered when ``include`` is not given: all but :data:`OPT_IN_TOOLS`.
DEFAULT_TOOLS: tuple[str, ...] = tuple(n for n in TOOLS if n not in OPT_IN_TOOLS)


def select_tools(
    include: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None
) -> list[ToolDef]:
    """Return the tools to offer: ``include`` minus ``exclude``.

    ``include`` defaults to every tool but ``run_console_command``; ``"all"`` is every tool.
    Raises ``ValueError`` naming an unknown tool.
    """
    if include is None:
        names = list(DEFAULT_TOOLS)
    elif include == "all":
        names = list(TOOLS)
    else:
        names = _names(include, "include")
    dropped = set(_names(exclude, "exclude")) if exclude is not None else set()
    return [TOOLS[n] for n in TOOLS if n in names and n not in dropped]


def _names(value: str | Iterable[str], what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    try:
        names = list(items)
    except TypeError:
        raise ValueError(
            f"{what} must be a list of tool names, got {value!r}; allowed: {', '.join(TOOLS)}"
        ) from None
    for name in names:
        if name not in TOOLS:
            raise ValueError(
                f"{what} names {name!r}, which is not a tool; allowed: {', '.join(TOOLS)}"
            )
    return names


# --- schemas -----------------------------------------------------------------------------------


def input_schema(tool: ToolDef) -> dict[str, Any]:
    """Return the tool's arguments as a JSON Schema (draft 2020-12), from its pydantic model.

    Titles and the model's docstring are dropped (the tool's description says it better) and
    each property gets its description; nothing else is changed.
    """
    schema = copy.deepcopy(tool.model.model_json_schema(by_alias=False))
    schema.pop("description", None)
    schema = _drop_titles(schema)
    properties: dict[str, Any] = schema.setdefault("properties", {})
    if set(properties) != set(tool.params):  # pragma: no cover - guarded by a unit test
        raise RuntimeError(
            f"{tool.name}: parameter descriptions {sorted(tool.params)} do not match the "
            f"model's fields {sorted(properties)}"
        )
    for name, text in tool.params.items():
        properties[name] = {"description": text, **properties[name]}
    schema.setdefault("required", [])
    result: dict[str, Any] = schema
    return result


def _drop_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                {name: _drop_titles(sub) for name, sub in value.items()}
                if key in ("properties", "$defs")
                else _drop_titles(value)
            )
            for key, value in node.items()
            if key != "title"
        }
    if isinstance(node, list):
        return [_drop_titles(item) for item in node]
    return node


# Keywords OpenAI's strict mode accepts; anything else (default, examples, format, minLength,
# title, ...) is dropped rather than risk a 400 for the whole request.
_STRICT_KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf",
    "items", "description", "$ref", "$defs", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "pattern", "minItems", "maxItems",
})
JSON_STRING_NOTE = "Encoded as a string holding a JSON object."


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a JSON Schema for OpenAI's strict mode.

    Every object gets ``additionalProperties: false`` and lists every property in
    ``required``; an optional property becomes nullable instead; unsupported keywords go. A
    free-form object (which strict mode cannot express) becomes a string holding JSON: the
    tool runner decodes it.
    """
    result = _strict(dict(schema))
    assert isinstance(result, dict)
    return result


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties") or {}
        if not properties and node.get("additionalProperties") not in (None, False):
            text = node.get("description", "")
            return {"type": "string", "description": f"{text} {JSON_STRING_NOTE}".strip()}
        required = set(node.get("required") or [])
        strict_props = {}
        for name, sub in properties.items():
            converted = _strict(sub)
            strict_props[name] = converted if name in required else _nullable(converted)
        out: dict[str, Any] = {
            "type": "object",
            "properties": strict_props,
            "required": list(properties),
            "additionalProperties": False,
        }
        if "description" in node:
            out["description"] = node["description"]
        return out
    out = {}
    for key, value in node.items():
        if key not in _STRICT_KEYWORDS:
            continue
        if key in ("anyOf", "items"):
            out[key] = _strict(value)
        elif key == "$defs":
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        else:
            out[key] = value
    return out


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    options = node.get("anyOf")
    if isinstance(options, list):
        if not any(option.get("type") == "null" for option in options):
            node = {**node, "anyOf": [*options, {"type": "null"}]}
        return node
    if node.get("type") == "null":
        return node
    inner = {k: v for k, v in node.items() if k != "description"}
    out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if "description" in node:
        out = {"description": node["description"], **out}
    return out


def json_object_fields(tool: ToolDef) -> frozenset[str]:
    """Parameters whose schema is a JSON object: a model may send them as a JSON string."""
    properties = input_schema(tool).get("properties", {})
    return frozenset(
        name
        for name, sub in properties.items()
        if sub.get("type") == "object"
        or any(o.get("type") == "object" for o in sub.get("anyOf", []) if isinstance(o, dict))
    )


def mcp_annotations(tool: ToolDef) -> dict[str, Any]:
    """MCP tool annotations (``readOnlyHint``, ``destructiveHint``, ...)."""
    hints: dict[str, Any] = {
        "title": tool.title,
        "readOnlyHint": tool.read_only,
        "idempotentHint": tool.idempotent,
        # every tool acts on (or reads) a live person's browser, outside this process
        "openWorldHint": True,
    }
    if not tool.read_only:
        # MCP's default for destructiveHint is true: say so explicitly either way
        hints["destructiveHint"] = tool.destructive
    return hints


def tool_spec(tool: ToolDef, format: str) -> dict[str, Any]:
    """One tool's definition in one of :data:`FORMATS`."""
    schema = input_schema(tool)
    examples = [dict(tool.example)]
    if format == "openai":
        return {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": strict_schema(schema),
                "strict": True,
            },
        }
    if format == "openai-responses":
        return {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": strict_schema(schema),
            "strict": True,
        }
    if format == "anthropic":
        return {
            "name": tool.name,
            "description": tool.description,
            "input_schema": {**schema, "examples": examples},
        }
    if format == "mcp":
        return {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": {**schema, "examples": examples},
            "annotations": mcp_annotations(tool),
        }
    if format == "json_schema":
        return {
            "name": tool.name,
            "description": tool.description,
            "parameters": {"$schema": _JSON_SCHEMA_DIALECT, **schema, "examples": examples},
        }
    raise ValueError(f"format={format!r} is not a tool format; allowed: {', '.join(FORMATS)}")


def tool_specs(
    format: str = "openai",
    *,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Return the selected tools' definitions in ``format`` (see :data:`FORMATS`)."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r} is not a tool format; allowed: {', '.join(FORMATS)}")
    return [tool_spec(tool, format) for tool in select_tools(include, exclude)]
