"""Tool definitions for LLMs: every format's shape, OpenAI's strict-mode rules, the examples."""

from __future__ import annotations

import inspect
import json
from typing import Any

import jsonschema
import pytest

from upscope_widget import UpscopeSession, protocol
from upscope_widget.agents import DEFAULT_TOOLS, FORMATS, TOOLS

INSTRUCTION_TOOLS = {
    "end_session", "set_mode", "switch_color", "toggle_audio", "toggle_video", "set_muted",
    "begin_video", "end_video", "force_refresh", "history_back", "history_forward",
    "reload_page", "request_control", "request_full_tab", "run_console_command",
    "send_custom_message", "set_active_connection", "set_current_url", "stop_full_tab",
    "emoji_confetti",
}
READ_TOOLS = {"get_session_state", "wait_for_status"}

# Keywords OpenAI's strict mode refuses (or that have no meaning there); see the notes.
STRICT_FORBIDDEN = {
    "default", "oneOf", "allOf", "not", "minLength", "maxLength", "patternProperties",
    "propertyNames", "minProperties", "maxProperties", "uniqueItems", "contains", "format",
    "examples", "title", "if", "then", "else", "dependentRequired", "dependentSchemas",
    "unevaluatedProperties", "$schema",
}


def strict_problems(node: Any, path: str = "$") -> list[str]:
    """Every way ``node`` breaks OpenAI's strict-mode rules (written apart from the package)."""
    problems: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            problems += strict_problems(item, f"{path}[{i}]")
        return problems
    if not isinstance(node, dict):
        return problems
    for key in node:
        if key in STRICT_FORBIDDEN:
            problems.append(f"{path}: keyword {key!r}")
    types = node.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    if is_object:
        if node.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties is not false")
        props = node.get("properties")
        if not isinstance(props, dict):
            problems.append(f"{path}: an object without properties")
        elif sorted(node.get("required", [])) != sorted(props):
            problems.append(f"{path}: required {node.get('required')} != properties {list(props)}")
    for name, sub in (node.get("properties") or {}).items():
        problems += strict_problems(sub, f"{path}.{name}")
    for key in ("anyOf", "items"):
        if key in node:
            problems += strict_problems(node[key], f"{path}.{key}")
    for name, sub in (node.get("$defs") or {}).items():
        problems += strict_problems(sub, f"{path}.$defs.{name}")
    return problems


def by_name(specs: list[dict[str, Any]], key: str = "name") -> dict[str, dict[str, Any]]:
    return {spec[key] if key in spec else spec["function"]["name"]: spec for spec in specs}


@pytest.fixture(scope="module")
def session() -> UpscopeSession:
    return UpscopeSession("https://watch.example.com/cobrowse?id=V1")


def test_every_instruction_is_a_tool_named_after_its_method(session):
    assert {t for t in TOOLS if TOOLS[t].action} == INSTRUCTION_TOOLS
    assert set(TOOLS) == INSTRUCTION_TOOLS | READ_TOOLS
    assert {TOOLS[t].action for t in INSTRUCTION_TOOLS} == set(protocol.INSTRUCTION_PARAMS)
    for name in INSTRUCTION_TOOLS:
        method = getattr(UpscopeSession, name)
        params = [p for p in inspect.signature(method).parameters if p != "self"]
        # the tool's parameters are the method's, by name
        assert params == list(TOOLS[name].model.model_fields), name
    assert set(DEFAULT_TOOLS) == set(TOOLS) - {"run_console_command"}
    assert "run_console_command" not in by_name(session.tool_specs("anthropic"))
    assert "run_console_command" in by_name(
        session.tool_specs("anthropic", include=["run_console_command", "set_mode"])
    )


def test_schemas_come_from_the_parameter_models(session):
    for spec in session.tool_specs("json_schema", include="all"):
        tool = TOOLS[spec["name"]]
        model_schema = tool.model.model_json_schema(by_alias=False)
        params = spec["parameters"]
        assert set(params["properties"]) == set(model_schema.get("properties", {}))
        assert params.get("required", []) == model_schema.get("required", [])
        for name, sub in params["properties"].items():
            assert sub["description"].strip(), f"{spec['name']}.{name} has no description"
            # only the description was added, only the titles dropped
            rest = {k: v for k, v in sub.items() if k != "description"}
            assert rest == without_titles(model_schema["properties"][name]), name


def without_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_titles(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [without_titles(v) for v in node]
    return node


def test_openai_chat_format_and_strict_rules(session):
    specs = session.tool_specs("openai", include="all")
    assert len(specs) == len(TOOLS)
    for spec in specs:
        assert set(spec) == {"type", "function"} and spec["type"] == "function"
        fn = spec["function"]
        assert set(fn) == {"name", "description", "parameters", "strict"}
        assert fn["strict"] is True
        assert fn["parameters"]["type"] == "object"
        assert strict_problems(fn["parameters"]) == [], fn["name"]
        jsonschema.Draft202012Validator.check_schema(fn["parameters"])
    params = by_name(specs)["switch_color"]["function"]["parameters"]
    # optional in the model: required and nullable in strict mode
    assert params["required"] == ["color"]
    assert {"type": "null"} in params["properties"]["color"]["anyOf"]
    message = by_name(specs)["send_custom_message"]["function"]["parameters"]
    assert message["properties"]["message"]["type"] == "string"  # a JSON object, as a string


def test_openai_responses_format_is_flat(session):
    chat = by_name(session.tool_specs("openai"))
    for spec in session.tool_specs("openai-responses"):
        assert set(spec) == {"type", "name", "description", "parameters", "strict"}
        assert spec["type"] == "function" and spec["strict"] is True
        assert chat[spec["name"]]["function"]["parameters"] == spec["parameters"]
        assert strict_problems(spec["parameters"]) == []


def test_anthropic_format(session):
    for spec in session.tool_specs("anthropic"):
        assert set(spec) == {"name", "description", "input_schema"}
        assert spec["input_schema"]["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(spec["input_schema"])


def test_mcp_format_and_annotations(session):
    specs = by_name(session.tool_specs("mcp", include="all"))
    for spec in specs.values():
        assert set(spec) == {"name", "description", "inputSchema", "annotations"}
        jsonschema.Draft202012Validator.check_schema(spec["inputSchema"])
    for name in READ_TOOLS:
        assert specs[name]["annotations"]["readOnlyHint"] is True
    for name in ("end_session", "run_console_command"):
        assert specs[name]["annotations"]["destructiveHint"] is True
        assert specs[name]["annotations"]["readOnlyHint"] is False
    assert specs["set_mode"]["annotations"]["destructiveHint"] is False
    assert specs["set_mode"]["annotations"]["readOnlyHint"] is False
    # the SDK's own model accepts them as they are
    import mcp_types

    for spec in specs.values():
        tool = mcp_types.Tool.model_validate(spec)
        assert tool.annotations is not None


def test_json_schema_format(session):
    for spec in session.tool_specs("json_schema"):
        assert set(spec) == {"name", "description", "parameters"}
        schema = spec["parameters"]
        assert schema["$schema"].endswith("2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(schema)
        for example in schema["examples"]:
            jsonschema.validate(example, schema)
            TOOLS[spec["name"]].model.model_validate(example)


def test_descriptions_say_what_the_visitor_sees(session):
    specs = by_name(session.tool_specs("anthropic", include="all"))
    for name, spec in specs.items():
        assert len(spec["description"]) >= 60, name
        assert "``" not in spec["description"], name  # prose for a model, not reST
    assert "visitor" in specs["set_current_url"]["description"]
    assert "'drawing'" in specs["set_mode"]["description"]


def test_include_and_exclude(session):
    specs = session.tool_specs("anthropic", include=["set_mode", "end_session"])
    names = [s["name"] for s in specs]
    assert names == ["end_session", "set_mode"]
    names = [s["name"] for s in session.tool_specs("anthropic", exclude=["end_session"])]
    assert "end_session" not in names and "set_mode" in names
    assert [s["name"] for s in session.tool_specs("mcp", include="get_session_state")] == [
        "get_session_state"
    ]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"format": "gemini"}, r"format='gemini'.*allowed: openai, openai-responses"),
    ({"include": ["set_mode", "fly"]}, r"include names 'fly'.*allowed: end_session"),
    ({"exclude": ["nope"]}, r"exclude names 'nope'"),
    ({"include": 3}, r"include must be a list of tool names, got 3"),
])
def test_bad_selection_is_a_clear_value_error(session, kwargs, match):
    with pytest.raises(ValueError, match=match):
        session.tool_specs(**kwargs)


def test_formats_listed():
    assert FORMATS == ("openai", "openai-responses", "anthropic", "mcp", "json_schema")


def test_specs_are_json():
    session = UpscopeSession("https://watch.example.com/x")
    for fmt in FORMATS:
        json.dumps(session.tool_specs(fmt, include="all"), allow_nan=False)
