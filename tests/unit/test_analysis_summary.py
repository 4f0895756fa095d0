"""summary() and plot() against a hand-made log whose every figure is known."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from support.wire import batch, full, snapshot
from upscope_widget import LogEntry, SessionLog
from upscope_widget.analysis import LatencyStats, SessionSummary
from upscope_widget.protocol import WIRE_TO_FIELD

STATE = "upscope.sessionState.update"
T0 = 1_700_000_000.0
SHOP = "https://shop.example"


def state(t: float, gone: tuple[str, ...] = (), **data: Any) -> LogEntry:
    names = {WIRE_TO_FIELD.get(k, k) for k in (*data, *gone)}
    return LogEntry(T0 + t, "in", STATE, data, frozenset(names))


def out(t: float, action: str, source: str = "python", **params: Any) -> LogEntry:
    return LogEntry(T0 + t, "out", action, {"action": action, **params}, source=source)


def event(t: float, kind: str, **fields: Any) -> LogEntry:
    return LogEntry(T0 + t, "in", kind, {"type": kind, **fields})


HAND_MADE = [
    out(0.0, "setMode", mode="draw"),  # queued before the first state
    state(0.5, sessionStatus="waiting", dataBounceSpeed=0),  # 0: not measured yet
    state(1.0, sessionStatus="active", dataBounceSpeed=100, currentUrl=SHOP + "/",
          activeConnectionId="c1"),
    state(1.5, sessionStatus="snapshotReceived"),
    state(2.5, sessionStatus="viewerReady", dataBounceSpeed=300),
    out(3.0, "switchColor", source="toolbar"),
    out(3.5, "upscope-sim:navigate", "simulator", url=SHOP + "/cart"),  # a simulator control
    state(4.0, currentUrl=SHOP + "/cart", dataBounceSpeed=200),
    event(4.5, "error", error="connection:user_not_found"),
    out(5.0, "sendCustomMessage", message={"q": 1}),
    event(5.5, "customMessage", message={"a": 1}),
    event(6.0, "customMessage", message={"a": 2}),
    state(6.5, activeConnectionId="c2", currentUrl=SHOP + "/"),  # a page seen before
    event(7.0, "error", error="remote_control:inactive"),
    event(7.5, "error", error="connection:user_not_found"),
    state(8.0, dataBounceSpeed=900),
    out(8.5, "setMode", source="toolbar", mode="pointer"),
    state(9.0, gone=("sessionStatus",)),  # the status disappeared
    state(9.5, sessionStatus="terminated", dataBounceSpeed=400),
    event(10.0, "sessionEnded", reason="ended"),
]


def test_summary_figures_of_a_hand_made_log():
    s = SessionLog.from_entries(HAND_MADE, name="hand").summary()
    assert isinstance(s, SessionSummary)
    assert s.name == "hand" and s.entries == len(HAND_MADE)
    assert s.duration == pytest.approx(10.0)
    assert s.time_to_ready == pytest.approx(2.0)  # first state 0.5 s -> viewerReady 2.5 s
    assert s.status_timeline == (
        (0.5, "waiting"), (1.0, "active"), (1.5, "snapshotReceived"), (2.5, "viewerReady"),
        (9.0, None), (9.5, "terminated"),
    )
    # measured latencies: 100, 300, 200, 900, 400 (the 0 is "not measured yet")
    assert s.latency == LatencyStats(count=5, min=100, median=300, p95=900, max=900)
    assert s.instructions_by_action == {"setMode": 2, "sendCustomMessage": 1, "switchColor": 1}
    assert s.instructions == 4
    assert s.instructions_by_source == {"python": 2, "toolbar": 2}
    assert s.simulator_controls == {"upscope-sim:navigate": 1}
    assert s.errors_by_code == {"connection:user_not_found": 2, "remote_control:inactive": 1}
    assert s.errors == 3
    assert (s.custom_messages_in, s.custom_messages_out) == (2, 1)
    assert s.pages == (SHOP + "/", SHOP + "/cart")
    assert s.tabs == ("c1", "c2")
    assert s.ended == "ended"
    assert s.sessions == ()


def test_p95_is_the_nearest_rank():
    entries = [state(i, dataBounceSpeed=v) for i, v in enumerate(range(1, 101))]
    lat = SessionLog.from_entries(entries).summary().latency
    assert lat is not None
    assert (lat.min, lat.median, lat.p95, lat.max, lat.count) == (1, 50.5, 95, 100, 100)


def test_an_empty_or_never_ready_log():
    empty = SessionLog().summary()
    assert empty.entries == 0 and empty.duration == 0 and empty.latency is None
    assert empty.time_to_ready is None and empty.status_timeline == ()
    assert "never ready" in repr(empty)
    waiting = SessionLog.from_entries([state(0, sessionStatus="waiting")]).summary()
    assert waiting.time_to_ready is None


def test_summary_reads_well_as_text_and_as_html():
    s = SessionLog.from_entries(HAND_MADE, name="hand").summary()
    text = repr(s)
    assert text.splitlines()[0] == "SessionSummary 'hand'"
    for expected in ("duration                   10.0 s", "2.00 s",
                     "waiting (0.50 s) → active (1.00 s)",
                     "min 100 · median 300 · p95 900 · max 900 ms (n=5)",
                     "python 2, toolbar 2", "connection:user_not_found 2",
                     "in 2 · out 1", "2: c1, c2"):
        assert expected in text, expected
    page = s._repr_html_()
    assert page.startswith("<table") and "<th" in page and "Session summary: hand" in page
    hostile = SessionLog.from_entries([state(0, currentUrl="https://x.example/<script>")])
    assert "<script>" not in hostile.summary()._repr_html_()


def test_a_concatenated_log_restarts_the_status_per_session():
    a = SessionLog.from_entries([state(0, sessionStatus="viewerReady")], name="a")
    b = SessionLog.from_entries([state(5, sessionStatus="viewerReady")], name="b")
    s = SessionLog.concat([a, b]).summary()
    assert s.sessions == ("a", "b")
    assert [status for _, status in s.status_timeline] == ["viewerReady", "viewerReady"]


def test_a_concatenated_log_times_each_session_from_its_own_first_state():
    never = SessionLog.from_entries([state(0, sessionStatus="waiting"),
                                     state(30, sessionStatus="active")], name="never")
    later = SessionLog.from_entries([state(100, sessionStatus="waiting"),
                                     state(102, sessionStatus="viewerReady")], name="later")
    assert SessionLog.concat([never, later]).summary().time_to_ready == pytest.approx(2.0)
    # the first session to be ready counts, timed from that session's first state
    fast = SessionLog.from_entries([state(200, sessionStatus="waiting"),
                                    state(200.5, sessionStatus="viewerReady")], name="fast")
    assert SessionLog.concat([never, later, fast]).summary().time_to_ready == pytest.approx(2.0)
    assert SessionLog.concat([never, fast]).summary().time_to_ready == pytest.approx(0.5)
    assert SessionLog.concat([never, never]).summary().time_to_ready is None


# The simulator's and a replay's own messages, told apart by their source alone.
SIMULATED = [
    out(0.0, "setMode", mode="draw"),
    out(1.0, "upscope-sim:navigate", "simulator", url=SHOP + "/cart"),
    out(2.0, "upscope-sim:replayPause", "replay"),
    out(3.0, "upscope-sim:replaySeek", "replay", to=1.0),
    out(4.0, "setLatency", "simulator", ms=5),  # a control named without the prefix
    out(5.0, "upscope-sim:oddName", "toolbar"),  # an instruction whatever its name
]


def test_simulated_sources_are_counted_apart_from_instructions():
    s = SessionLog.from_entries(SIMULATED).summary()
    assert s.instructions_by_action == {"setMode": 1, "upscope-sim:oddName": 1}
    assert s.instructions_by_source == {"python": 1, "toolbar": 1}
    assert s.simulator_controls == {"upscope-sim:replaySeek": 1, "setLatency": 1,
                                    "upscope-sim:navigate": 1, "upscope-sim:replayPause": 1}
    assert "simulator controls         4: " in repr(s)


def test_plot_leaves_out_simulated_sources():
    import matplotlib

    matplotlib.use("Agg")

    fig = SessionLog.from_entries(SIMULATED).plot()
    marks = {c.get_label(): len(c.get_offsets()) for c in fig.axes[0].collections}
    assert marks == {"instruction (python)": 1, "instruction (toolbar)": 1}


def test_session_summary_is_its_log_summary(make_session):
    session, c = make_session()
    session.set_mode("draw")
    c.from_frontend(batch(full(snapshot(sessionStatus="active", dataBounceSpeed=80))))
    c.from_frontend(batch({"s": {"sessionStatus": "viewerReady"}}))
    s = session.summary()
    assert s.instructions_by_source == {"python": 1}
    assert [status for _, status in s.status_timeline] == ["active", "viewerReady"]
    assert s.latency is not None and s.latency.max == 80


def test_plot_draws_latency_statuses_and_instructions():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = SessionLog.from_entries(HAND_MADE, name="hand").plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    line = next(x for x in ax.get_lines() if x.get_label() == "dataBounceSpeed")
    assert list(line.get_ydata()) == [100, 300, 200, 900, 400, 400]  # held to the end
    assert list(line.get_xdata()) == pytest.approx([1.0, 2.5, 4.0, 8.0, 9.5, 10.0])
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["waiting", "active", "snapshotReceived", "viewerReady", "None",
                      "terminated"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "instruction (python)" in legend and "instruction (toolbar)" in legend
    assert "error" in legend
    marks = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert marks == {"instruction (python)": 2, "instruction (toolbar)": 2, "error": 3}
    fig.savefig(__import__("io").BytesIO(), format="png")  # it renders


def test_plot_into_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    try:
        assert SessionLog.from_entries(HAND_MADE).plot(ax=right) is fig
        assert right.get_lines() and not left.get_lines()
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("module", "call"), [
    ("pandas", lambda log: log.to_dataframe()),
    ("matplotlib", lambda log: log.plot()),
    ("matplotlib.pyplot", lambda log: log.plot()),
])
def test_without_the_analysis_extra_the_error_says_how_to_get_it(monkeypatch, module, call):
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    log = SessionLog.from_entries(HAND_MADE)
    with pytest.raises(ImportError, match=r"'analysis' extra: pip install "
                                          r"'upscope-widget\[analysis\]'"):
        call(log)
    assert log.summary().entries == len(HAND_MADE)  # the summary needs neither
