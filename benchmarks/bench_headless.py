"""Benchmarks of headless sessions, each beside a baseline measured in the same run.

Called by benchmarks/run.py (:func:`measure_headless`), which runs this file as a fresh process
so that its memory figures count this process and its browser only:

* ``run_headless()`` -> ``viewerReady`` in a shared browser, against the floor for any page of
  that browser: a new context and page loading the same iframe page bare.
* the instruction round trip headless (``switch_color`` until the state shows it), against the
  JupyterLab round trip that run.py measured in the same run, on the same iframe page.
* memory per extra session in a shared browser (PSS of this process and every process under it:
  Playwright's driver and Chromium's), against an extra bare page loading the same iframe page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        tree.setdefault(parent, []).append(int(name))
    return tree


def pss_kib(root: int | None = None) -> int:
    """PSS of ``root`` (this process) and every process under it, in KiB.

    PSS shares each shared page among the processes using it, so that Chromium's many processes
    are not counted once per process for the same library pages.
    """
    tree, total, todo = _children(), 0, [root or os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


async def _settle(seconds: float = 1.0) -> None:
    # Chromium frees and compacts a while after a page is ready: measure once it has
    await asyncio.sleep(seconds)


async def measure(frame_url: str, reps: int, rounds: int, extra: int) -> dict[str, Any]:
    from upscope_widget import UpscopeSession
    from upscope_widget.headless import launch_browser, start_playwright

    playwright = await start_playwright()
    browser = await launch_browser(playwright)
    out: dict[str, Any] = {}
    try:
        # 1. start-up, interleaved with the bare page (the machine's noise hits both alike)
        starts, floors = [], []
        for _ in range(reps):
            session = UpscopeSession(frame_url)
            t0 = time.perf_counter()
            async with session.run_headless(browser=browser):
                await session.wait_for_status("viewerReady", timeout=60)
                starts.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(frame_url, wait_until="load")
            floors.append((time.perf_counter() - t0) * 1000)
            await context.close()
        out["start"], out["start_floor"] = starts, floors

        # 2. round trips, as run.py's ROUND_TRIPS does in JupyterLab
        session = UpscopeSession(frame_url)
        trips: list[float] = []
        async with session.run_headless(browser=browser):
            await session.wait_for_status("viewerReady", timeout=60)
            for i in range(rounds + 5):
                color = "#%06x" % (0x100000 + i)
                t0 = time.perf_counter()
                session.switch_color(color)
                await session.wait_for(lambda s, c=color: s.color == c, timeout=10)
                if i >= 5:  # warm-up
                    trips.append((time.perf_counter() - t0) * 1000)
        out["round_trips"] = trips

        # 3. memory per extra session vs an extra bare page, both in the shared browser
        async with AsyncExitStack() as stack:
            first = UpscopeSession(frame_url)
            await stack.enter_async_context(first.run_headless(browser=browser))
            await first.wait_for_status("viewerReady", timeout=60)
            await _settle()
            one = pss_kib()
            more = [UpscopeSession(frame_url) for _ in range(extra)]
            for s in more:
                await stack.enter_async_context(s.run_headless(browser=browser))
            await asyncio.gather(*(s.wait_for_status("viewerReady", timeout=120) for s in more))
            await _settle()
            out["session_kib"] = (pss_kib() - one) / extra
        pages = []
        await _settle()
        before = pss_kib()
        for _ in range(extra):
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(frame_url, wait_until="load")
            pages.append(context)
        await _settle()
        out["page_kib"] = (pss_kib() - before) / extra
        for context in pages:
            await context.close()
        out["extra"] = extra
    finally:
        await browser.close()
        await playwright.stop()
    return out


def measure_headless(args: argparse.Namespace, rows: list[Any], row: Callable[..., Any],
                     frame_url: str, jupyter_round_trip: float | None,
                     lost: type[Exception]) -> None:
    """Run this file as a fresh process and add its rows (see the module docstring)."""
    reps, extra = (2, 2) if args.quick else (7, 10)
    proc = subprocess.run([sys.executable, str(Path(__file__)), frame_url, str(reps),
                           str(args.rounds), str(extra)], capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        raise lost(f"the headless benchmark failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if len(result["round_trips"]) != args.rounds:
        raise lost(f"headless: {len(result['round_trips'])} of {args.rounds} round trips")
    start, floor = result["start"], result["start_floor"]
    rows.append(row("headless: run_headless() -> viewerReady", "headless",
                    statistics.median(start), statistics.median(floor), "ms", "-",
                    f"median of {len(start)} (range {min(start):.0f}-{max(start):.0f} ms), a "
                    "shared browser; baseline: a new context and page loading the same iframe "
                    "page bare, the floor for any headless page"))
    trips = result["round_trips"]
    rows.append(row("headless: round trip, median", "headless", statistics.median(trips),
                    jupyter_round_trip, "ms", "-",
                    f"n={len(trips)}; Python -> page -> iframe -> page -> Python, no Jupyter; "
                    "baseline: the widget's round trip in JupyterLab (stock server) in this "
                    "run, same iframe page"))
    rows.append(row("headless: memory per extra session", "headless",
                    result["session_kib"] / 1024, result["page_kib"] / 1024, "MiB", "-",
                    f"PSS of Python, Playwright and Chromium, {result['extra']} more sessions "
                    "in one shared browser; baseline: as many more bare pages loading the same "
                    "iframe page"))


if __name__ == "__main__":
    url, n_reps, n_rounds, n_extra = sys.argv[1], *map(int, sys.argv[2:5])
    print(json.dumps(asyncio.run(measure(url, n_reps, n_rounds, n_extra))))
