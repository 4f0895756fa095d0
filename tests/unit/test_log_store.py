"""Keeping session logs: save as JSON Lines, load back, broken files, several sessions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.wire import batch, full, snapshot
from upscope_widget import LogEntry, SessionLog, __version__
from upscope_widget.analysis import FORMAT, FORMAT_VERSION

URL = "https://watch.example.com/cobrowse?id=VISITOR123&token=SECRET"


def recorded(make_session: Any) -> SessionLog:
    """A live session's log: instructions, snapshots (one property gone), events."""
    session, c = make_session(URL)
    session.set_mode("draw")
    c.from_frontend(batch(full(snapshot(controlTool=None))))
    c.from_frontend(batch({"s": {"controlTool": "drawing"}, "x": ["size"]},
                          {"e": {"type": "customMessage", "message": {"a": [1, "é"]}}},
                          {"e": {"type": "error", "error": "connection:data"}},
                          {"e": {"type": "futureEvent", "payload": {"x": 1}}}))
    session.log.add("out", "switchColor", {"action": "switchColor"}, source="toolbar")
    return session.log


def test_save_load_save_gives_the_same_bytes(make_session, tmp_path):
    log = recorded(make_session)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log.save(first)
    loaded = SessionLog.load(first)
    loaded.save(second)
    assert first.read_bytes() == second.read_bytes()
    assert [e.to_record() for e in loaded] == [e.to_record() for e in log]
    assert [e.time for e in loaded] == [e.time for e in log]  # floats survive exactly
    assert loaded.name == "a" and loaded.started == log.started
    # what the entries say, field by field
    gone = loaded[2]
    assert gone.data == {"controlTool": "drawing"}
    assert gone.changed == frozenset({"control_tool", "size"})  # size disappeared
    assert [e.source for e in loaded] == ["python", None, None, None, None, None, "toolbar"]
    assert loaded[5].kind == "futureEvent" and loaded[5].data["payload"] == {"x": 1}


def test_the_header_names_the_origin_never_the_watch_link(make_session, tmp_path):
    log = recorded(make_session)
    path = tmp_path / "s.jsonl"
    log.save(path)
    text = path.read_text(encoding="utf-8")
    assert "SECRET" not in text and "VISITOR123" not in text
    header = json.loads(text.splitlines()[0])
    assert header == {"format": FORMAT, "version": FORMAT_VERSION, "package": __version__,
                      "origin": "https://watch.example.com", "started": log.started,
                      "dropped": 0, "entries": len(log)}
    assert len(text.splitlines()) == 1 + len(log)
    assert text.endswith("\n")


def test_unknown_fields_are_kept_through_load_and_save(tmp_path):
    path = tmp_path / "future.jsonl"
    lines = [
        {"format": FORMAT, "version": 1, "package": "9.9", "origin": None, "started": 5.5,
         "dropped": 3, "recordedBy": "a later version"},
        {"time": 6, "direction": "in", "kind": "upscope.sessionState.update",
         "data": {"sessionStatus": "active", "newProp": {"deep": [1]}},
         "changed": ["newProp", "session_status"], "confidence": 0.9},
        {"time": 7.25, "direction": "in", "kind": "visitorWaved", "data": {"type": "visitorWaved"},
         "tags": ["x"]},
        {"time": 8.0, "direction": "out", "kind": "setMode", "data": {"action": "setMode"},
         "source": "agent"},
    ]
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    log = SessionLog.load(path)
    assert log.dropped == 3 and log.started == 5.5 and log.origin is None
    assert log.header_extra == {"recordedBy": "a later version"}
    assert log[0].extra == {"confidence": 0.9} and log[1].extra == {"tags": ["x"]}
    assert log[2].source == "agent"  # a source this version does not know is kept too
    again = tmp_path / "again.jsonl"
    log.save(again)
    saved = [json.loads(line) for line in again.read_text().splitlines()]
    assert saved[0]["recordedBy"] == "a later version" and saved[0]["package"] == __version__
    assert saved[1:] == lines[1:]


ENTRY = '{"time": 1, "direction": "in", "kind": "x", "data": {}}'


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("", 1, "empty"),
        ("hello\n", 1, "not valid JSON"),
        ('{"format": "something else"}\n', 1, "not an upscope-widget session log"),
        ('[1, 2]\n', 1, "not an upscope-widget session log"),
        ('{"format": "upscope-widget session log", "version": 7}\n', 1, "newer"),
        ('{"format": "upscope-widget session log", "version": "1"}\n', 1, "version='1'"),
        ('{"format": "upscope-widget session log", "version": 1, "dropped": -1}\n', 1,
         "dropped=-1"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x"}\n', 2, "has no 'data'"),
        ("HEADER\n" + '{"time": 1, "direction": "up", "kind": "x", "data": {}}\n', 2,
         "direction='up'"),
        ("HEADER\n" + '{"time": "noon", "direction": "in", "kind": "x", "data": {}}\n', 2,
         "time='noon'"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "", "data": {}}\n', 2, "kind=''"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x", "data": []}\n', 2, "data=[]"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x", "data": {}, '
         '"changed": "color"}\n', 2, "changed='color'"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x", "data": {}, '
         '"source": 3}\n', 2, "source=3"),
        ("HEADER\n" + "[]\n", 2, "not a JSON object"),
        ("HEADER\n" + ENTRY + "\n" + ENTRY + "," + ENTRY + "\n", 3, "not valid JSON"),
        ("HEADER\n" + ENTRY + "\n\n" + ENTRY + "\n", 3, "not valid JSON"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x", "da', 2, "cut short"),
        ("HEADER\n" + '{"time": 1, "direction": "in", "kind": "x", "data": {}}', 2, "cut short"),
    ],
)
def test_broken_files_name_the_file_and_the_line(tmp_path, content, line, message):
    header = json.dumps({"format": FORMAT, "version": 1, "origin": None, "started": 0})
    path = tmp_path / "broken.jsonl"
    path.write_text(content.replace("HEADER", header), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        SessionLog.load(path)
    text = str(err.value)
    assert text.startswith(f"{path}: line {line}")
    assert message in text


def test_a_cut_short_save_is_detected_whatever_the_cut(make_session, tmp_path):
    log = recorded(make_session)
    path = tmp_path / "whole.jsonl"
    log.save(path)
    data = path.read_bytes()
    assert "é".encode() in data  # a cut can fall inside a character, too
    for cut in range(1, len(data)):
        part = tmp_path / "part.jsonl"
        part.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=r"part\.jsonl: line \d+.*cut short"):
            SessionLog.load(part)


def test_not_text_and_missing_files(tmp_path):
    binary = tmp_path / "image.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ValueError, match=r"image\.jsonl: line 1 is not UTF-8"):
        SessionLog.load(binary)
    with pytest.raises(FileNotFoundError):
        SessionLog.load(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match=r"at least one file"):
        SessionLog.load()
    with pytest.raises(ValueError, match=r"str or os\.PathLike"):
        SessionLog.load(42)  # type: ignore[arg-type]


def test_nothing_is_half_loaded_from_several_files(make_session, tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    recorded(make_session).save(good)
    bad.write_text("nonsense\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl: line 1"):
        SessionLog.load(good, bad)


def _entries(t0: float, n: int) -> list[LogEntry]:
    return [LogEntry(t0 + i, "in", "upscope.sessionState.update", {"dataBounceSpeed": 100 + i},
                     frozenset({"data_bounce_speed"})) for i in range(n)]


def test_several_files_give_one_table_with_a_session_column(tmp_path):
    for name, t0 in (("monday", 10.0), ("tuesday", 50.0)):
        log = SessionLog.from_entries(_entries(t0, 3), origin="simulator")
        log.save(tmp_path / f"{name}.jsonl")
    log = SessionLog.load(tmp_path / "monday.jsonl", tmp_path / "tuesday.jsonl")
    assert log.sessions == ["monday", "tuesday"] and len(log) == 6
    assert log.origin == "simulator" and log.started == 10.0
    frame = log.to_dataframe()
    assert list(frame.columns) == ["time", "direction", "kind", "changed", "data", "source",
                                   "session"]
    assert frame["session"].tolist() == ["monday"] * 3 + ["tuesday"] * 3
    assert frame.groupby("session").size().to_dict() == {"monday": 3, "tuesday": 3}
    # a list of files works too, and a concatenated log keeps its labels through a save
    same = SessionLog.load([tmp_path / "monday.jsonl", tmp_path / "tuesday.jsonl"])
    assert same.sessions == log.sessions
    log.save(tmp_path / "both.jsonl")
    assert SessionLog.load(tmp_path / "both.jsonl").sessions == ["monday", "tuesday"]
    tuesday = log.session("tuesday")
    assert [e.time for e in tuesday] == [50.0, 51.0, 52.0] and tuesday.sessions == []
    with pytest.raises(ValueError, match="session='friday' is not in this log"):
        log.session("friday")


def test_concat_names_unnamed_and_same_named_logs():
    a = SessionLog.from_entries(_entries(0, 1))
    b = SessionLog.from_entries(_entries(5, 1), name="x")
    c = SessionLog.from_entries(_entries(9, 1), name="x", origin="https://o.example")
    log = SessionLog.concat([a, b, c])
    assert log.sessions == ["session1", "x", "x (2)"]
    assert log.origin is None  # the sessions came from different origins
    one = SessionLog.to_dataframe(SessionLog.from_entries(_entries(0, 2)))
    assert "session" not in one.columns and "source" in one.columns
    with pytest.raises(ValueError, match="needs at least one log"):
        SessionLog.concat([])
    with pytest.raises(ValueError, match="SessionLog objects"):
        SessionLog.concat(["a.jsonl"])  # type: ignore[list-item]


def test_source_is_checked_and_defaults_to_python_for_instructions():
    log = SessionLog()
    log.add("out", "setMode", {"action": "setMode", "mode": "draw"})
    log.add("out", "setMode", {"action": "setMode", "mode": "pointer"}, source="toolbar")
    # a source that a newer version sends with (a replay of its log) is kept as it is
    log.add("out", "setMode", {"action": "setMode", "mode": "draw"}, source="voice")
    log.add("in", "error", {"type": "error", "error": "x"})
    assert [e.source for e in log] == ["python", "toolbar", "voice", None]
    for bad in ("", 3, b"python"):
        with pytest.raises(ValueError) as err:
            log.add("out", "setMode", {}, source=bad)  # type: ignore[arg-type]
        text = str(err.value)
        assert f"source={bad!r}" in text and "non-empty string" in text
        assert "'python', 'toolbar', 'agent', 'mcp', 'simulator', 'replay'" in text
    with pytest.raises(ValueError, match="only for instructions"):
        log.add("in", "error", {}, source="python")
    assert len(log) == 4  # nothing refused was logged


def test_a_source_this_version_does_not_know_survives_load_summary_and_save(tmp_path):
    lines = [
        {"format": FORMAT, "version": 1, "origin": None, "started": 1.0, "entries": 2},
        {"time": 1.0, "direction": "out", "kind": "setMode",
         "data": {"action": "setMode", "mode": "draw"}, "source": "voice-assistant"},
        {"time": 2.0, "direction": "out", "kind": "setMode",
         "data": {"action": "setMode", "mode": "pointer"}, "source": "python"},
    ]
    path = tmp_path / "newer.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    log = SessionLog.load(path)
    assert [e.source for e in log] == ["voice-assistant", "python"]
    assert log.summary().instructions_by_source == {"python": 1, "voice-assistant": 1}
    log.save(tmp_path / "again.jsonl")
    again = SessionLog.load(tmp_path / "again.jsonl")
    assert [e.source for e in again] == ["voice-assistant", "python"]


def test_simulator_controls_of_older_files_are_loaded_as_the_simulator_s(tmp_path):
    # Before sources said so, a simulator control was logged with source "python".
    lines = [
        {"format": FORMAT, "version": 1, "origin": "simulator", "started": 1.0, "entries": 4},
        {"time": 1.0, "direction": "out", "kind": "upscope-sim:navigate",
         "data": {"action": "upscope-sim:navigate", "url": "https://shop.example/"},
         "source": "python"},
        {"time": 2.0, "direction": "out", "kind": "setMode",
         "data": {"action": "setMode", "mode": "draw"}, "source": "python"},
        {"time": 3.0, "direction": "out", "kind": "upscope-sim:replayPause",
         "data": {"action": "upscope-sim:replayPause"}, "source": "replay"},
        {"time": 4.0, "direction": "in", "kind": "upscope-sim:echo",
         "data": {"type": "upscope-sim:echo"}},
    ]
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    log = SessionLog.load(path)
    assert [e.source for e in log] == ["simulator", "python", "replay", None]
    summary = log.summary()
    assert summary.instructions_by_action == {"setMode": 1}
    assert summary.instructions_by_source == {"python": 1}
    assert summary.simulator_controls == {"upscope-sim:navigate": 1,
                                          "upscope-sim:replayPause": 1}


@pytest.mark.parametrize("missing", [1, 2, 7])
def test_a_log_cut_at_the_end_of_a_line_names_the_line_after_the_last_entry(tmp_path, missing):
    log = SessionLog.from_entries(_entries(0, 7), origin="simulator")
    whole = tmp_path / "whole.jsonl"
    log.save(whole)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 1 + len(log)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-missing]), encoding="utf-8")
    kept = len(log) - missing
    with pytest.raises(ValueError) as err:
        SessionLog.load(cut)
    # line 1 is the header, so the last entry kept is on line 1 + kept
    assert str(err.value).startswith(
        f"{cut}: line {kept + 2}: the file ends after {kept} entries but its header announces "
        f"{len(log)}")


def nested(depth: int) -> Any:
    """A value nested ``depth`` deep: a list in a list in … (``depth`` lists)."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [5_000, 100])
def test_data_nested_too_deep_in_a_file_names_the_file_and_the_line(tmp_path, depth):
    header = {"format": FORMAT, "version": 1, "origin": None, "started": 0, "entries": 2}
    good = {"time": 1, "direction": "in", "kind": "x", "data": {}}
    deep = {"time": 2, "direction": "out", "kind": "setMode", "source": "toolbar",
            "data": {"action": "setMode", "mode": "x"}}
    text = "".join(json.dumps(x) + "\n" for x in (header, good, deep))
    text = text.replace('"mode": "x"', '"mode": ' + "[" * depth + "]" * depth)
    path = tmp_path / "deep.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        SessionLog.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: line 3 ")
    assert "nested deeper than 64 levels" in message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_cannot_carry_name_the_line(tmp_path, constant):
    header = {"format": FORMAT, "version": 1, "origin": None, "started": 0, "entries": 1}
    path = tmp_path / "nan.jsonl"
    path.write_text(json.dumps(header) + "\n"
                    + '{"time": 1, "direction": "in", "kind": "x", "data": {"v": '
                    + constant + "}}\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        SessionLog.load(path)
    assert str(err.value).startswith(f"{path}: line 2 is not valid JSON")
    assert constant in str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("out", "", {"action": ""}), "kind=''"),
        (("in", 7, {}), "kind=7"),
        (("sideways", "x", {}), "direction='sideways'"),
        (("in", "x", ["not", "a", "dict"]), "data=['not', 'a', 'dict']"),
        (("out", "setMode", {"action": "setMode", "mode": nested(3_000)}),
         "cannot log 'setMode': data['mode'][0][0]"),
        (("in", "x", {"v": float("nan")}), "data['v'] is nan"),
        (("in", "x", {"v": {1: "one"}}), "data['v'] has the key 1"),
        (("in", "x", {"v": object()}), "data['v'] is <object object"),
        (("in", "x", {"v": 1}, frozenset({"a", 2})), "changed="),
    ],
)
def test_add_refuses_what_could_not_be_saved(args, message):
    log = SessionLog()
    with pytest.raises(ValueError) as err:
        log.add(*args)
    assert message in str(err.value)
    if message.startswith("cannot log"):
        assert str(err.value).endswith("[0] is nested deeper than 64 levels")
    assert len(log) == 0


def test_everything_add_accepts_is_saved_and_loaded_back(tmp_path):
    log = SessionLog()
    log.add("out", "setMode", {"action": "setMode", "mode": nested(64)}, source="toolbar")
    log.add("in", "upscope.sessionState.update", {"p": nested(64), "q": "é\u2028\x00"},
            frozenset({"p", "q", "gone"}))
    log.add("out", "a", {"action": "a", "n": 2**70, "f": -0.0, "none": None},
            source="future-source")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log.save(first)
    loaded = SessionLog.load(first)
    assert [e.to_record() for e in loaded] == [e.to_record() for e in log]
    loaded.save(second)
    assert first.read_bytes() == second.read_bytes()


def test_a_lone_surrogate_from_a_javascript_string_is_saved_and_loaded_back(tmp_path):
    log = SessionLog()
    log.add("out", "sendCustomMessage", {"action": "sendCustomMessage",
                                         "message": {"text": "half an emoji: \ud83d"}},
            source="toolbar")
    log.save(tmp_path / "s.jsonl")
    assert "\\ud83d" in (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    loaded = SessionLog.load(tmp_path / "s.jsonl")
    assert loaded[0].data["message"] == {"text": "half an emoji: \ud83d"}


def test_save_refuses_what_load_would_refuse(tmp_path):
    # hand-made entries do not go through add(): save checks them, naming the entry
    for bad, message in ((LogEntry(1.0, "in", "", {}), "kind=''"),
                         (LogEntry(1.0, "in", "x", {"v": nested(100)}),
                          "nested deeper than 64 levels")):
        log = SessionLog.from_entries([LogEntry(0.5, "in", "fine", {}), bad])
        with pytest.raises(ValueError) as err:
            log.save(tmp_path / "bad.jsonl")
        assert f"cannot save entry 2 ({bad.kind!r}) to {tmp_path / 'bad.jsonl'}" in str(err.value)
        assert message in str(err.value)
        assert not (tmp_path / "bad.jsonl").exists()


WATCH_LINK = "https://watch.example.com:8443/w/TOKEN123/view?token=SECRET#frag"


def test_a_header_holding_a_watch_link_keeps_only_its_origin(tmp_path):
    header = {"format": FORMAT, "version": 1, "origin": WATCH_LINK, "started": 0, "entries": 0}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(header) + "\n", encoding="utf-8")
    log = SessionLog.load(path)
    assert log.origin == "https://watch.example.com:8443"
    log.save(tmp_path / "again.jsonl")
    text = (tmp_path / "again.jsonl").read_text(encoding="utf-8")
    assert "TOKEN123" not in text and "SECRET" not in text and "frag" not in text
    assert json.loads(text)["origin"] == "https://watch.example.com:8443"


@pytest.mark.parametrize(
    ("origin", "written"),
    [
        (WATCH_LINK, "https://watch.example.com:8443"),
        ("https://watch.example.com/cobrowse?id=VISITOR123&token=SECRET",
         "https://watch.example.com"),
        ("http://user:SECRET@localhost:8888/w/TOKEN123", "http://localhost:8888"),
        ("https://watch.example.com", "https://watch.example.com"),
        ("simulator", "simulator"),
        (None, None),
    ],
)
def test_save_writes_only_the_origin_of_a_url(tmp_path, origin, written):
    log = SessionLog.from_entries(_entries(0, 1), origin=origin)
    log.save(tmp_path / "s.jsonl")
    text = (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    assert json.loads(text.splitlines()[0])["origin"] == written
    assert "TOKEN123" not in text and "SECRET" not in text and "VISITOR123" not in text
    assert SessionLog.load(tmp_path / "s.jsonl").origin == written


def test_saving_data_that_is_not_json_says_which_entry(tmp_path):
    log = SessionLog.from_entries([LogEntry(1.0, "in", "x", {"v": float("nan")})])
    with pytest.raises(ValueError, match=r"entry 1 .*'x'.* not JSON"):
        log.save(tmp_path / "nan.jsonl")
    assert not (tmp_path / "nan.jsonl").exists()


def test_the_sample_log_ships_with_the_package():
    from upscope_widget.samples import shop_session

    log = shop_session()
    assert len(log) > 20 and log.origin == "simulator"
    assert Path(sys.modules["upscope_widget.samples"].__file__ or "").parent.joinpath(
        "shop_session.jsonl").is_file()


# Anything, JSON or not: what a frontend or a caller could hand add().
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["\ud800", "a\udfffb", "\u2028", "é"]),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=20,
)
DEPTHS = st.sampled_from([1, 63, 64, 65, 200, 3_000])


def as_json(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples are lists)."""
    return json.loads(json.dumps(value))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.text(max_size=6), data=st.dictionaries(st.text(max_size=4), ANY_VALUE, max_size=3),
       depth=DEPTHS, source=st.none() | st.text(max_size=6))
def test_whatever_add_accepts_is_saved_and_loaded_back(tmp_path, kind, data, depth, source):
    log = SessionLog()
    data = {**data, "deep": nested(depth)}
    try:
        log.add("out", kind, data, source=source)
    except ValueError as err:
        assert str(err)  # refused, saying why: nothing was logged
        assert len(log) == 0
        return
    path = tmp_path / "any.jsonl"
    log.save(path)
    loaded = SessionLog.load(path)
    assert len(loaded) == 1
    assert as_json(loaded[0].to_record()) == as_json(log[0].to_record())
    again = tmp_path / "again.jsonl"
    loaded.save(again)
    assert SessionLog.load(again)[0].to_record() == loaded[0].to_record()
