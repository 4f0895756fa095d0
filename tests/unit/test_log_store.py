"""Keeping session logs: save as JSON Lines, load back, broken files, several sessions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

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
    log.add("in", "error", {"type": "error", "error": "x"})
    assert [e.source for e in log] == ["python", "toolbar", None]
    with pytest.raises(ValueError, match="source='mouse' is not allowed"):
        log.add("out", "setMode", {}, source="mouse")
    with pytest.raises(ValueError, match="only for instructions"):
        log.add("in", "error", {}, source="python")


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
