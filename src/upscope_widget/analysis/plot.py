"""``log.plot()``: latency over time, status changes and instructions marked (matplotlib)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import protocol
from .._entries import SIMULATED_SOURCES
from ..errors import missing_extra
from .summary import is_latency, summarize

if TYPE_CHECKING:
    from ..log import SessionLog

_SOURCE_STYLE = {"python": ("#1f6f43", "^"), "toolbar": ("#0091ff", "v")}


def plot(log: SessionLog, ax: Any = None) -> Any:
    """Draw ``log`` and return the matplotlib ``Figure`` (into ``ax`` if given).

    The line is ``dataBounceSpeed`` (ms) at each snapshot that measured it, held until the next;
    dashed verticals mark each ``sessionStatus`` change; triangles along the bottom mark
    instructions (by source; the simulator's and a replay's own messages are left out) and red
    crosses along the top mark ``error`` events.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise missing_extra("SessionLog.plot()", "matplotlib") from None
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
        plt.close(fig)  # shown once, by the notebook displaying the returned figure
    else:
        fig = ax.figure
    entries = list(log)
    start = entries[0].time if entries else 0.0
    times: list[float] = []
    bounces: list[float] = []
    instructions: dict[str, list[float]] = {}
    errors: list[float] = []
    for e in entries:
        offset = e.time - start
        if e.direction == "out":
            if e.source not in SIMULATED_SOURCES:  # the simulator's own: never sent
                instructions.setdefault(e.source or "unknown", []).append(offset)
        elif e.kind == protocol.STATE_UPDATE:
            value = e.data.get("dataBounceSpeed")
            if is_latency(value):
                times.append(offset)
                bounces.append(value)
        elif e.kind == protocol.ERROR:
            errors.append(offset)
    end = entries[-1].time - start if entries else 0.0
    if times:
        ax.step([*times, end], [*bounces, bounces[-1]], where="post", color="#6e56cf",
                linewidth=1.5, label="dataBounceSpeed")
        ax.plot(times, bounces, "o", color="#6e56cf", markersize=3)
        ax.axhline(500, color="#e5484d", linewidth=0.8, linestyle=":", label="slow (500 ms)")
    for offset, status in summarize(log).status_timeline:
        ax.axvline(offset, color="#8b8d98", linewidth=0.8, linestyle="--")
        ax.annotate(str(status), (offset, 0.98), xycoords=("data", "axes fraction"),
                    rotation=90, va="top", ha="right", fontsize=7, color="#555")
    bottom = ax.get_xaxis_transform()
    for source, offsets in instructions.items():
        color, marker = _SOURCE_STYLE.get(source, ("#f76b15", "s"))
        ax.scatter(offsets, [0.03] * len(offsets), transform=bottom, color=color,
                   marker=marker, s=30, zorder=3, label=f"instruction ({source})")
    if errors:
        ax.scatter(errors, [0.9] * len(errors), transform=bottom, color="#e5484d", marker="x",
                   s=40, zorder=3, label="error")
    ax.set_xlabel("seconds since the first entry")
    ax.set_ylabel("dataBounceSpeed (ms)")
    ax.set_xlim(0, max(end, 1e-3))
    ax.set_ylim(bottom=0)
    ax.set_title(f"Session {log.name}" if log.name else "Session latency")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", fontsize=7, framealpha=0.8, ncols=4)
    return fig
