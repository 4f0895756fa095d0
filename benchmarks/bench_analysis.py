"""Benchmarks of keeping and replaying sessions, each beside a baseline measured in the same run.

Called by benchmarks/run.py:

* :func:`measure_files`: saving and loading a 100,000-entry session log (checked line by line)
  against writing and reading the same records as plain ``json`` lines.
* :func:`measure_replay`: 10,000 states replayed at ``speed=0`` from the simulator page into
  Python, in the notebook page that run.py has open, against the live burst: the same number of
  snapshots posted at once by a protocol-speaking iframe.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upscope_widget import LogEntry, SessionLog
from upscope_widget.analysis.store import entry_line


def counts(args: argparse.Namespace) -> tuple[int, int, int]:
    """(log entries, replayed states, repeats) for a full or a quick run."""
    return (2_000, 50, 1) if args.quick else (100_000, 10_000, 3)


def make_log(n: int) -> SessionLog:
    """A log shaped like a real one: mostly one-property snapshots, some events, instructions."""
    entries: list[LogEntry] = []
    t = 1_764_000_000.0
    for i in range(n):
        t += 0.05
        if i % 50 == 0:
            entries.append(LogEntry(t, "out", "setMode", {"action": "setMode", "mode": "draw"},
                                    source="python"))
        elif i % 97 == 0:
            entries.append(LogEntry(t, "in", "customMessage",
                                    {"type": "customMessage", "message": {"n": i, "text": "hé"}}))
        else:
            entries.append(LogEntry(t, "in", "upscope.sessionState.update",
                                    {"dataBounceSpeed": 80 + i % 40},
                                    frozenset({"data_bounce_speed"})))
    return SessionLog.from_entries(entries, origin="simulator")


def _best_of(repeats: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure_files(args: argparse.Namespace, rows: list[Any], row: Callable[..., Any]) -> None:
    """Save and load a big log; the baseline writes and reads the same lines with bare json."""
    n, _, repeats = counts(args)
    log = make_log(n)
    records = [entry_line(e) for e in log]
    folder = Path(tempfile.mkdtemp(prefix="upscope-bench-log-"))
    ours, plain = folder / "log.jsonl", folder / "plain.jsonl"

    def save_plain() -> None:
        with open(plain, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")

    def load_plain() -> None:
        with open(plain, encoding="utf-8") as handle:
            loaded = [json.loads(line) for line in handle]
        assert len(loaded) == n

    loaded: list[SessionLog] = []
    save_ours = _best_of(repeats, lambda: log.save(ours))
    save_base = _best_of(repeats, save_plain)
    load_ours = _best_of(repeats, lambda: loaded.append(SessionLog.load(ours)))
    load_base = _best_of(repeats, load_plain)
    if len(loaded[-1]) != n or ours.read_bytes() != _resaved(loaded[-1], folder):
        raise RuntimeError("the log did not survive a save and a load unchanged")
    size = ours.stat().st_size / 1e6
    rows.append(row(f"save a {n:,}-entry log", "-", save_ours, save_base, "ms", "-",
                    f"{size:.1f} MB JSON Lines; baseline: the same records as plain json lines"))
    rows.append(row(f"load a {n:,}-entry log", "-", load_ours, load_base, "ms", "-",
                    "every line checked; baseline: json.loads of each line, unchecked"))


def _resaved(log: SessionLog, folder: Path) -> bytes:
    again = folder / "again.jsonl"
    log.save(again)
    return again.read_bytes()


REPLAY_CELL = '''
import time
from upscope_widget import LogEntry, SessionLog, UpscopeSession

_first = dict(BASE, dataBounceSpeed=0)
_entries = [LogEntry(1000.0, "in", "upscope.sessionState.update", _first,
                     frozenset({"session_status", "data_bounce_speed", "color"}))]
_entries += [LogEntry(1000.0 + i * 0.001, "in", "upscope.sessionState.update",
                      {"dataBounceSpeed": i}, frozenset({"data_bounce_speed"}))
             for i in range(1, N)]
replay_seen = []
replay = UpscopeSession.replay(SessionLog.from_entries(_entries), speed=0, height=120)
replay.observe(lambda ch: replay_seen.append((time.time(), ch["new"])), "data_bounce_speed")
display(replay)
'''


def measure_replay(nb: Any, echo_frame: Callable[[], Any], args: argparse.Namespace,
                   rows: list[Any], row: Callable[..., Any], label: str,
                   wait_kernel: Callable[..., Any], lost: type[Exception]) -> None:
    """Replay N states at speed 0 into Python; the baseline is a live burst of N snapshots."""
    _, n, _ = counts(args)
    # the baseline first: the session shown by run.py's notebook, fed by the echo iframe
    nb.kernel.execute("widget_seen.clear()")
    t0 = echo_frame().evaluate(f"burst({n})")
    wait_kernel(nb, "len(widget_seen)", lambda k: k >= n, 120)
    if nb.kernel.eval("[v for _, v in widget_seen]") != list(range(n)):
        raise lost(f"live burst of {n}: not every snapshot reached Python in order")
    base = nb.kernel.eval("widget_seen[-1][0]") * 1000 - t0

    base_state = {"sessionStatus": "viewerReady", "color": "#000000", "connected": True}
    cell = nb.append_cell(f"N = {n}\nBASE = {base_state!r}\n" + REPLAY_CELL)
    nb.run_cell(cell, timeout=120)
    wait_kernel(nb, "len(replay_seen)", lambda k: k >= n, 120)
    if nb.kernel.eval("[v for _, v in replay_seen]") != list(range(n)):
        raise lost(f"replay of {n}: not every state reached Python in order")
    started = None
    for frame in nb.page.frames:
        if frame.url.startswith("blob:"):
            value = frame.evaluate("document.documentElement.dataset.replayStartedAt || null")
            if value:
                started = float(value)
    if started is None:
        raise lost("the replay page never said when it started")
    ours = nb.kernel.eval("replay_seen[-1][0]") * 1000 - started
    first = nb.kernel.eval("replay_seen[0][0]") * 1000 - started
    rows.append(row(f"replay of {n:,} states at speed=0: first post -> last observer", label,
                    ours, base, "ms", "-",
                    f"all {n:,} in order; the first after {first:.0f} ms; baseline: the live "
                    f"burst of {n:,} snapshots"))
