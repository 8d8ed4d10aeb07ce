"""`bench_many_sources.py --console`: the real console, headless at 120x40, left on the overview.

`ConsoleApp` runs as `promsoc tui` runs it (its own pollers, `sparklines_seen` from the overview's
tiles in view, the default refresh), under Textual's `run_test(size=(120, 40))`. Only
`post_message` is wrapped, to note when each source's results and sparklines arrive: a cycle
starts at the earliest of its sources' starts (`polled_at - latency`, one shared moment `at` for
sources asked together) and ends with the last source's last message for that `at`. The run
waits with `asyncio.sleep`, never `pilot.pause` (which posts a callback to every widget and
forces a screen update: with 340 tiles, every 0.2 s, it was most of the CPU measured as the
console's, and stretched twenty sources' cycles far more than one source's).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from proccpu import cpu_seconds
from promsoc.config import Settings
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend, console_options
from promsoc.tui.messages import HistoriesUpdated, PollFailed, ResultsUpdated
from promsoc.tui.poller import HIDDEN_EVERY

SIZE = (120, 40)


@dataclass
class Cycle:
    """One poll cycle of every source (one moment `at`)."""

    start: float = math.inf
    ends: dict[str, float] = field(default_factory=dict)  # source -> its last message
    results: dict[str, float] = field(default_factory=dict)  # source -> its results (or failure)
    sparklines: int = 0  # sparklines fetched in the cycle, every source
    recorded: int = 0  # detector results that read the recording rules' series, every source

    def wall(self) -> float:
        return max(self.ends.values()) - self.start


class Watched(ConsoleApp):
    """The console, unchanged, with its pollers' messages noted as they are posted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen_cycles: dict[float, Cycle] = defaultdict(Cycle)

    def post_message(self, message: Message) -> bool:
        if isinstance(message, ResultsUpdated | PollFailed | HistoriesUpdated):
            now, cycle = time.time(), self.seen_cycles[message.at]
            cycle.ends[message.source] = now
            if isinstance(message, ResultsUpdated):
                cycle.start = min(cycle.start, message.polled_at - message.latency)
                cycle.results[message.source] = now
                cycle.recorded += sum(1 for r in message.results if r.recorded)
            elif isinstance(message, PollFailed):
                cycle.results[message.source] = now
            else:
                cycle.sparklines += len(message.histories)
        return super().post_message(message)


@dataclass
class ConsoleRun:
    cycles: list[Cycle]
    prom_cpu: float  # Prometheus's CPU seconds over the measured cycles
    own_cpu: float  # this process's: the console (Textual, headless) and its backend
    window: float  # seconds the measured cycles took, pauses included
    in_view: dict[str, int]  # source -> its tiles in view at the end
    merged: int
    went: dict[str, int]  # why the grouped sources' batches went (prom.fanin): "asked", "window"

    def per_cycle(self, cpu: float) -> float:
        return cpu / max(1, len(self.cycles))


def needed(count: int, refresh: float) -> int:
    """Cycles to measure so that one falls where the hidden sparklines are due again."""
    return max(count, math.ceil(HIDDEN_EVERY / refresh) + 1)


async def console_cycles(settings: Settings, count: int, pid: int | None) -> ConsoleRun:
    """Run the console until `count` cycles after the first (which fetches every sparkline's
    hour whole) are done; each cycle's wall, what the console and Prometheus spent."""
    options = console_options(settings)
    backend = LiveBackend(settings)
    app = Watched(backend, interval=options.interval, intervals=options.intervals, clock=time.time)
    async with app.run_test(size=SIZE):
        def finished() -> int:
            return min(p.cycles for p in app.pollers.values()) if app.pollers else 0

        # asyncio.sleep, not pilot.pause: a pause walks the screen's ~700 widgets posting each a
        # callback, and forces a screen update; every 0.2 s that was most of what this process
        # spent with twenty sources (and ~20x less with one source's 17 tiles), not the console's
        while finished() < 1:  # noqa: ASYNC110 (the pollers' counters: there is no Event to wait on)
            await asyncio.sleep(0.1)
        prom, own, since = cpu_seconds(pid), time.process_time(), time.monotonic()
        while finished() < count + 1:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        prom, own = cpu_seconds(pid) - prom, time.process_time() - own
        window = time.monotonic() - since
        screen = app.screen
        tiles_in_view = getattr(screen, "tiles_in_view", None)
        in_view = {s: len(tiles_in_view(s)) if tiles_in_view else 0 for s in app.state.sources}
        merged = sum(f.merged for f in backend.pool.groups)
        went = dict(sum((f.went for f in backend.pool.groups), Counter[str]()))
    several = len(settings.sources) > 1  # a source asked alone (a relay's) has its own moments: left out
    grouped = [c for _m, c in sorted(app.seen_cycles.items()) if len(c.results) > 1 or not several]
    cycles = grouped[1 : count + 1]
    print(f"  {len(settings.sources)} source(s), cycles (s wall / sparklines fetched / results read recorded): "
          + " ".join(f"{c.wall():.2f}/{c.sparklines}/{c.recorded}" for c in cycles), flush=True)  # fmt: skip
    return ConsoleRun(cycles, prom, own, window, in_view, merged, went)


def healthy_done(cycles: list[Cycle], unhealthy: str) -> float:
    """Median over the cycles of when the last healthy source's results arrived."""
    return statistics.median(max(t for s, t in c.results.items() if s != unhealthy) - c.start for c in cycles)


def run_console(settings: Settings, count: int, pid: int | None) -> ConsoleRun:
    return asyncio.run(console_cycles(settings, count, pid))
