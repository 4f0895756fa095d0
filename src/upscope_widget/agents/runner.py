"""Run a model's tool calls on a session, safely: a bad call is an answer, never an exception.

Whatever the model sends (an unknown tool, one that was left out, malformed JSON, arguments
nested too deep or naming a key twice, a bad argument), and a session that refuses every
instruction (ended), comes back as ``{"ok": false, "error": "<one sentence>"}`` and nothing
is sent, so the model can read the sentence and correct itself. A call to a replay is logged
and answered with a ``"note"`` saying it was not applied (:data:`REPLAY_NOTE`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .. import protocol
from .._json import (
    MAX_DEPTH,
    DuplicateKeyError,
    json_problem,
    json_text_problem,
    short_repr,
    unique_keys,
)
from .._waiting import check_timeout
from ..errors import NoFrontendError, SessionEndedError
from .effects import EffectTimeoutError, perform
from .tools import (
    GET_SESSION_STATE,
    OPT_IN_TOOLS,
    TOOLS,
    WAIT_FOR_STATUS,
    ToolDef,
    json_object_fields,
    select_tools,
)

if TYPE_CHECKING:
    from ..session import UpscopeSession

#: Told to a model whose call went to a replay: it is logged and shown, and changes nothing.
REPLAY_NOTE = ("this session is a replay of a saved log: the instruction was logged and shown "
               "on the page but not applied; the recording plays on as it was")

# Content blocks a model returns beside its tool calls (Anthropic, the Responses API).
_NOT_CALLS = frozenset({"text", "thinking", "redacted_thinking", "reasoning", "message"})


def state_json(session: UpscopeSession) -> dict[str, Any] | None:
    """Return the current state as snake_case JSON (``None`` before the first snapshot)."""
    state = session.state
    return None if state is None else state.model_dump(mode="json")


def session_json(session: UpscopeSession) -> dict[str, Any]:
    """Return what ``get_session_state`` answers: the state plus the session's own facts."""
    error = session.last_error
    return {
        "ok": True,
        "state": state_json(session),
        "ended": session.ended,
        "ended_reason": session.ended_reason,
        "last_error": None if error is None else {
            "code": error.code, "category": error.category, "description": error.description
        },
    }


def _failure(text: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": text, **extra}


def _example(tool: ToolDef) -> str:
    return json.dumps(dict(tool.example), ensure_ascii=False)


# The arguments object holds the parameters, so a parameter nested as deep as the protocol
# allows (a custom message of MAX_DEPTH levels) sits one level deeper in it.
_ARGUMENTS_DEPTH = MAX_DEPTH + 1


def _decode(text: str | bytes | bytearray, max_depth: int) -> tuple[Any, str | None]:
    """Parse untrusted JSON text: ``(value, None)``, or ``(None, why not)`` as a phrase.

    The phrase follows "is"/"are": the depth and length are bounded before parsing (the
    parser recurses), and an object naming a key twice is refused (the parser would keep the
    last one silently).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
        except ValueError as err:
            return None, f"not valid JSON ({err})"
    problem = json_text_problem(text, max_depth=max_depth)
    if problem is not None:
        return None, problem
    try:
        return json.loads(text, object_pairs_hook=unique_keys), None
    except DuplicateKeyError as err:
        return None, f"JSON naming {err} in one object (a key may appear once)"
    except ValueError as err:
        return None, f"not valid JSON ({err})"


def parse_arguments(tool: ToolDef, arguments: Any) -> dict[str, Any] | str:
    """Return the call's arguments as a dict, or a sentence saying what is wrong with them.

    JSON text is bounded before it is parsed (depth and length as :mod:`upscope_widget._json`
    holds every value to) and may not repeat a key; a dict is held to the same bounds.
    """
    if arguments is None or arguments == "":
        arguments = {}
    elif isinstance(arguments, (str, bytes, bytearray)):
        arguments, problem = _decode(arguments, _ARGUMENTS_DEPTH)
        if problem is not None:
            return (f"the arguments for {tool.name} are {problem}; send a JSON object such "
                    f"as {_example(tool)}")
    if isinstance(arguments, Mapping):
        arguments = dict(arguments)  # any mapping will do: only its items cross as JSON
    bounded = json_problem(arguments, name="arguments", max_depth=_ARGUMENTS_DEPTH)
    if bounded is not None:
        return f"{tool.name}: {bounded}; send a JSON object such as {_example(tool)}"
    if not isinstance(arguments, Mapping):
        return (f"the arguments for {tool.name} must be a JSON object such as "
                f"{_example(tool)}, got {json.dumps(arguments)[:200]}")
    args = dict(arguments)
    for name in json_object_fields(tool):
        value = args.get(name)
        if isinstance(value, str):
            # strict-mode schemas carry free-form objects as JSON strings
            decoded, problem = _decode(value, MAX_DEPTH)
            if problem is not None:
                return (f"{name} must be a JSON object (or a string holding one); "
                        f"{value[:80]!r} is {problem}")
            args[name] = decoded
    optional = {n for n, f in tool.model.model_fields.items() if not f.is_required()}
    # strict-mode schemas make optional parameters nullable: null means "not given"
    return {k: v for k, v in args.items() if not (v is None and k in optional)}


async def run_tool_call(
    session: UpscopeSession,
    name: Any,
    arguments: Any = None,
    *,
    wait: bool = False,
    timeout: float = 10.0,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
    source: str = "agent",
) -> dict[str, Any]:
    """Validate one tool call, run it, and return a JSON-ready answer for the model.

    ``source`` is who made the call: ``"agent"`` (a model's tool call in a cell) or ``"mcp"``
    (the MCP endpoint); the log and ``on_instruction`` show it.
    """
    check_timeout(timeout)
    offered = {tool.name: tool for tool in select_tools(include, exclude)}
    tool = offered.get(name) if isinstance(name, str) else None
    if tool is None:
        return _failure(_unknown_tool(name, offered))
    args = parse_arguments(tool, arguments)
    if isinstance(args, str):
        return _failure(args)
    try:
        params = tool.model.model_validate(args)
    except ValidationError as err:
        return _failure(protocol.describe_error(err, tool.name, list(tool.model.model_fields)))
    values = params.model_dump(exclude_unset=True)

    if tool.name == GET_SESSION_STATE:
        return session_json(session)
    if tool.name == WAIT_FOR_STATUS:
        return await _wait_for_status(session, values, timeout)
    assert tool.action is not None
    try:
        sent = protocol.build_instruction(tool.action, values)
    except ValueError as err:  # pragma: no cover - the model above already validated
        return _failure(str(err))
    ended_before = session.ended
    try:
        if session.read_only:
            session.send_instruction(tool.action, source=source, **values)
            return {"ok": True, "sent": sent, "note": REPLAY_NOTE, "state": state_json(session)}
        if not wait:
            session.send_instruction(tool.action, source=source, **values)
            return {"ok": True, "sent": sent}
        await perform(session, tool.action, values, timeout, source=source)
    except SessionEndedError as err:
        if ended_before:  # refused: nothing was sent
            return _failure(str(err), state=state_json(session))
        return {"ok": True, "sent": sent, "note": str(err), "state": state_json(session)}
    except EffectTimeoutError as err:
        return {"ok": True, "sent": sent, "timeout": str(err), "state": state_json(session)}
    except NoFrontendError as err:
        return {"ok": True, "sent": sent, "note": str(err), "state": state_json(session)}
    return {"ok": True, "sent": sent, "state": state_json(session)}


async def _wait_for_status(
    session: UpscopeSession, values: dict[str, Any], timeout: float
) -> dict[str, Any]:
    status = values["status"]
    seconds = values.get("timeout_seconds") or timeout
    try:
        await session.wait_for_status(status, timeout=seconds)
    except NoFrontendError as err:
        return _failure(str(err), state=state_json(session))
    except TimeoutError:
        return _failure(
            f"session_status did not become {status!r} within {seconds:g} s; it is "
            f"{session.session_status!r}",
            state=state_json(session),
        )
    return {"ok": True, "state": state_json(session)}


def _unknown_tool(name: Any, offered: Mapping[str, ToolDef]) -> str:
    available = ", ".join(offered) or "none"
    if isinstance(name, str) and name in TOOLS:
        why = (" because it runs code in the visitor's page; the notebook must name it in "
               "include=[...] to offer it") if name in OPT_IN_TOOLS else ""
        return f"the tool {name!r} is not offered in this session{why}; available: {available}"
    return f"there is no tool {short_repr(name, 80)}; available: {available}"


# --- lists of calls, as models return them ------------------------------------------------------


def _plain(call: Any) -> Any:
    """Return a call as plain data: SDK objects (pydantic models) are dumped, others kept."""
    dump = getattr(call, "model_dump", None)
    if callable(dump):
        return dump()
    if isinstance(call, Mapping):
        return dict(call)
    return call


def unpack_call(call: Any) -> tuple[Any, Any, Any] | None:
    """``(call_id, name, arguments)`` of one call in any supported shape; ``None`` to skip.

    Shapes: OpenAI chat ``{"id", "function": {"name", "arguments"}}``, the Responses API's
    ``{"type": "function_call", "call_id", "name", "arguments"}``, Anthropic's
    ``{"type": "tool_use", "id", "name", "input"}``, and plain ``{"name", "arguments"}``.
    Text and reasoning blocks are skipped.
    """
    data = _plain(call)
    if not isinstance(data, dict):
        return (None, None, data)
    if data.get("type") in _NOT_CALLS:
        return None
    function = _plain(data.get("function"))
    if isinstance(function, dict):
        return (data.get("id"), function.get("name"), function.get("arguments"))
    call_id = data.get("call_id", data.get("id"))
    arguments = data["input"] if "input" in data else data.get("arguments")
    return (call_id, data.get("name"), arguments)


def _check_calls(calls: Any) -> None:
    """Raise ``TypeError`` unless ``calls`` is a list (or other iterable) of tool calls.

    A string, bytes, a single call (a dict or an SDK object) would iterate as something else:
    characters, keys, fields.
    """
    single = isinstance(calls, Mapping) or callable(getattr(calls, "model_dump", None))
    if (
        isinstance(calls, (str, bytes, bytearray, memoryview))
        or single
        or not isinstance(calls, Iterable)
    ):
        hint = "; for a single call pass [call]" if single else ""
        raise TypeError(
            f"calls must be a list of tool calls (e.g. message.tool_calls or response.content, "
            f"as the model returned them), got {short_repr(calls)} of type "
            f"{type(calls).__name__}{hint}"
        )


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _run_one(
    session: UpscopeSession, call: Any, settings: dict[str, Any]
) -> dict[str, Any] | None:
    """One call's ``{"call_id", "name", "result"}`` (``None`` to skip it), never raising."""
    call_id: Any = None
    name: Any = None
    try:
        unpacked = unpack_call(call)
        if unpacked is None:
            return None
        call_id, name, arguments = unpacked
        if name is None:
            result = _failure(f"this is not a tool call (no tool name): "
                              f"{short_repr(_plain(call), 200)}")
        else:
            result = await run_tool_call(session, name, arguments, **settings)
    except Exception as err:  # the others must still run, and the results so far be returned
        what = name if isinstance(name, str) else "this call"
        result = _failure(_one_line(f"{what} failed: {type(err).__name__}: {err}"))
    if not isinstance(call_id, (str, int)) or isinstance(call_id, bool):
        call_id = None if call_id is None else short_repr(call_id, 80)
    if name is not None and not isinstance(name, str):
        name = short_repr(name, 80)
    return {"call_id": call_id, "name": name, "result": result}


async def run_tool_calls(
    session: UpscopeSession,
    calls: Iterable[Any],
    *,
    wait: bool = False,
    timeout: float = 10.0,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
    source: str = "agent",
) -> list[dict[str, Any]]:
    """Run a model's tool calls in order; one ``{"call_id", "name", "result"}`` per call.

    Every call gets its result, in order, whatever happens in another: a call that cannot be
    read or that fails unexpectedly gets ``{"ok": False, "error": …}`` and the next one runs.
    The notebook's own mistakes raise: ``calls`` that is not a list (or other iterable) of
    calls (``TypeError``), a bad ``timeout`` or tool selection (``ValueError``).
    """
    _check_calls(calls)
    check_timeout(timeout)
    select_tools(include, exclude)  # a bad selection is the notebook's error: raise now
    settings: dict[str, Any] = {
        "wait": wait, "timeout": timeout, "include": include, "exclude": exclude,
        "source": source,
    }
    results: list[dict[str, Any]] = []
    for call in calls:
        result = await _run_one(session, call, settings)
        if result is not None:
            results.append(result)
    return results
