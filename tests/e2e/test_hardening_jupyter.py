"""Issue #13 in a real JupyterLab: two sessions side by side, a storm, and 100 lifecycles."""

from __future__ import annotations

from typing import Any

import pytest

from support.frames import find_frame

# Counts what the widget's code leaves behind in the page: message/pagehide/pageshow
# listeners on window, object URLs, and timers not yet fired or cleared.
PROBE = """
(() => {
  const probe = { listeners: 0, blobs: new Set(), timers: new Set() };
  window.__probe = probe;
  const watched = new Set(["message", "pagehide", "pageshow"]);
  const add = window.addEventListener, remove = window.removeEventListener;
  const seen = new WeakMap();
  window.addEventListener = function (type, listener, options) {
    if (this === window && watched.has(type) && listener) {
      const types = seen.get(listener) || new Set();
      if (!types.has(type)) { types.add(type); seen.set(listener, types); probe.listeners++; }
    }
    return add.call(this, type, listener, options);
  };
  window.removeEventListener = function (type, listener, options) {
    if (this === window && watched.has(type) && listener) {
      const types = seen.get(listener);
      if (types && types.delete(type)) probe.listeners--;
    }
    return remove.call(this, type, listener, options);
  };
  const create = URL.createObjectURL, revoke = URL.revokeObjectURL;
  URL.createObjectURL = (o) => { const u = create.call(URL, o); probe.blobs.add(u); return u; };
  URL.revokeObjectURL = (u) => { probe.blobs.delete(u); return revoke.call(URL, u); };
  const st = window.setTimeout, ct = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...args) {
    const run = (...a) => { probe.timers.delete(id); if (typeof fn === "function") fn(...a); };
    const id = st.call(window, run, ms, ...args);
    probe.timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) { probe.timers.delete(id); return ct.call(window, id); };
})();
"""

COUNTS = """() => ({
  listeners: window.__probe.listeners,
  blobs: window.__probe.blobs.size,
  timers: window.__probe.timers.size,
  iframes: document.querySelectorAll('iframe.upscope-frame').length,
  bridges: (window[Symbol.for('upscope-widget.bridges')] || new Map()).size,
})"""

RSS = (
    "def rss_mb():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmRSS'):\n"
    "            return int(line.split()[1]) / 1024\n"
)


def session_frames(nb: Any, origin: str, count: int) -> list[Any]:
    for _ in range(300):
        frames = [f for f in nb.page.frames if f.url.startswith(origin + "/frame.html")]
        ready = [f for f in frames
                 if find_frame(nb.page, f.url, "typeof window.post === 'function'")]
        if len(frames) >= count and len(ready) >= count:
            return frames[:count]
        nb.pump(100)
    raise AssertionError(f"{count} session iframes from {origin} never loaded\n{nb.diagnostics()}")


def test_two_sessions_in_one_notebook_never_count_each_other(lab_server, make_notebook, origins):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        f"a = UpscopeSession({url!r}, height=150)\na",
        f"b = UpscopeSession({url!r}, height=150)\nb",
    ])
    nb.run_all()
    frames = session_frames(nb, origins[1], 2)
    for i in range(25):
        for f in frames:
            f.evaluate(f"postState({{dataBounceSpeed: {i}}})")
    nb.wait_for_kernel("(a.data_bounce_speed, b.data_bounce_speed)", lambda v: v == [24, 24],
                       timeout=30)
    nb.pump(500)  # the lazy flush that would carry rejection counts
    assert nb.kernel.eval("(a.rejected_messages, b.rejected_messages)") == [0, 0]


def test_a_storm_of_10000_snapshots_arrives_whole_in_order_and_the_kernel_stays_usable(
    lab_server, make_notebook, origins
):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        RSS
        + "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=150)\n"
        "speeds = []\n"
        "session.on_state_change(lambda st, ch: speeds.append(st.data_bounce_speed))\n"
        "session",
    ])
    nb.run_all()
    [frame] = session_frames(nb, origins[1], 1)
    before = nb.kernel.eval("rss_mb()")
    # 10,000 snapshots spread over about one second
    frame.evaluate(
        """() => {
             let i = 0;
             const t0 = performance.now();
             const step = () => {
               const due = Math.min(10000, Math.ceil((performance.now() - t0) / 1000 * 10000) + 1);
               while (i < due) postState({dataBounceSpeed: i++});
               if (i < 10000) setTimeout(step, 0);
             };
             step();
           }"""
    )
    # a cell still runs while the storm is on (its latency is a benchmark, not a test)
    assert nb.kernel.execute("print('alive')", timeout=60).strip() == "alive"
    nb.wait_for_kernel("len(speeds)", lambda n: n >= 10000, timeout=120)
    assert nb.kernel.eval("speeds == list(range(10000))") is True
    after = nb.kernel.eval("rss_mb()")
    assert after - before < 150, (before, after)  # bounded: the log keeps 10,000 entries


@pytest.mark.filterwarnings("ignore")
def test_100_create_display_close_cycles_leave_nothing_behind(lab_server, make_notebook, page):
    page.add_init_script(PROBE)
    nb = make_notebook(lab_server, [
        RSS
        + "import gc\n"
        "from IPython.display import clear_output, display\n"
        "from upscope_widget import UpscopeSession\n"
        "async def cycles(n):\n"
        "    for _ in range(n):\n"
        "        s = UpscopeSession.simulate(time_scale=0, height=120)\n"
        "        clear_output()\n"
        "        display(s)\n"
        "        await s.wait_for_status('viewerReady', timeout=60)\n"
        "        s.close()\n"
        "    gc.collect()\n"
        "    return rss_mb()",
        "first = await cycles(10)",
        "second = await cycles(90)",
    ])
    nb.run_cell(0)
    start = nb.evaluate(COUNTS)
    nb.run_cell(1, timeout=300)
    nb.pump(1000)
    after_10 = nb.evaluate(COUNTS)
    nb.run_cell(2, timeout=600)
    nb.pump(1000)
    after_100 = nb.evaluate(COUNTS)
    assert after_100["iframes"] == 0 and after_100["bridges"] == 0, after_100
    assert after_100["blobs"] == start["blobs"], (start, after_100)
    assert after_100["listeners"] == start["listeners"], (start, after_100)
    # JupyterLab keeps a few timers of its own; ours would add up to 100 or more
    assert after_100["timers"] - after_10["timers"] < 10, (start, after_10, after_100)
    first, second = nb.kernel.eval("(first, second)")
    assert second - first < 40, (first, second)  # 90 more sessions, flat memory
