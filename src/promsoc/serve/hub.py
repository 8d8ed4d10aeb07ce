"""The evaluation hub: every viewer's console asks it, and it asks Prometheus once for all of them.

The hub is a `Backend` (the interface a local console uses), so a served console is the same code
as a local one. A question is answered by *when* it asks about:
- live (within a minute of now: a console asks for its sparklines at the moment its cycle
  started, which may be seconds ago): the tiles and sparklines come from the source's one poller
  (serve/live.py), the same cycle for every viewer. The other live questions (a chart, the Falco
  view, the timeline, the topology map, Alertmanager's board) are asked once and the answer
  shared until it is one refresh interval old, counted from when it arrived; a viewer who asks
  while one is under way joins it;
- a past moment: snapped to a 10 s grid, evaluated once and kept for ten minutes, so viewers at the
  same moment share one evaluation and a viewer parked there costs Prometheus nothing more.
A failure is shared like an answer (every viewer shows the same reason, the source is not hammered).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from promsoc.alerts import AlertRow, AlertsBoard, Silence
from promsoc.detectors.results import DetectorResult
from promsoc.detectors.timeline import TimelineResult
from promsoc.serve.live import LivePoller
from promsoc.topology.model import Topology
from promsoc.tui.backend import AlertmanagerInfo, Backend, Chart, DetectorInfo, FalcoSummary, History, Silencer
from promsoc.tui.poller import ticks

T = TypeVar("T")

LIVE_SLACK = 60.0  # an asker's moment within a minute of the hub's clock is "now" (as the time cursor's)
PAST_GRID = 10.0  # past moments within one grid step are the same moment
PAST_KEEP = 600.0  # seconds a past moment's answer is kept
HISTORY_FRESH = 30.0  # sparklines change slowly (the console refetches them every 30 s)
CAPACITY = 512  # answers kept at most (least recently asked go first)


@dataclass
class _Entry:
    task: asyncio.Task[Any]
    fresh_until: float = math.inf  # set when the task finishes


@dataclass
class Counters:
    asked: int = 0  # questions from viewers
    computed: int = 0  # questions that went to the domain (and so to Prometheus)
    by_kind: dict[str, int] = field(default_factory=dict)


class SharedCalls:
    """Single-flight memo: one task per key, its answer (or failure) shared while fresh."""

    def __init__(self, clock: Callable[[], float], capacity: int = CAPACITY) -> None:
        self._clock = clock
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._context = contextvars.copy_context()  # shared work runs in no viewer's context
        self.counters = Counters()

    async def call(self, key: tuple[Any, ...], fresh_for: float, make: Callable[[], Awaitable[T]]) -> T:
        self.counters.asked += 1
        entry = self._entries.get(key)
        if entry is None or (entry.task.done() and entry.fresh_until <= self._clock()):
            entry = self._start(key, fresh_for, make)
        self._entries.move_to_end(key)
        # shield: a viewer who leaves mid-question does not cancel it for the others
        result: T = await asyncio.shield(entry.task)
        return result

    def _start(self, key: Hashable, fresh_for: float, make: Callable[[], Awaitable[T]]) -> _Entry:
        async def run() -> T:
            return await make()

        task = asyncio.get_running_loop().create_task(run(), context=self._context.copy())
        entry = _Entry(task)

        def finished(done: asyncio.Task[Any]) -> None:
            entry.fresh_until = self._clock() + fresh_for
            if not done.cancelled():
                done.exception()  # retrieved here, so one nobody awaited is not reported as lost

        task.add_done_callback(finished)
        self._entries[key] = entry
        self.counters.computed += 1
        kind = str(key[0]) if isinstance(key, tuple) and key else "?"
        self.counters.by_kind[kind] = self.counters.by_kind.get(kind, 0) + 1
        while len(self._entries) > self._capacity:
            oldest, old = next(iter(self._entries.items()))
            if not old.task.done():
                break
            del self._entries[oldest]
        return entry

    def __len__(self) -> int:
        return len(self._entries)

    def forget(self, key: Hashable) -> None:
        """Drop a finished answer, so the next asker gets a fresh one (after a write)."""
        entry = self._entries.get(key)
        if entry is not None and entry.task.done():
            del self._entries[key]


class _FreshAfterWrite:
    """A silencer whose writes drop the hub's shared live alert boards: every viewer sees the change."""

    def __init__(self, silencer: Silencer, calls: SharedCalls, sources: Sequence[str]) -> None:
        self._silencer = silencer
        self._calls = calls
        self._sources = list(sources)
        self.author = silencer.author
        self.url = silencer.url

    def _forget(self) -> None:
        for source in self._sources:
            self._calls.forget(("alerts", source, "live"))

    async def silence(self, row: AlertRow, *, comment: str, duration: float, names: Sequence[str]) -> str:
        try:
            return await self._silencer.silence(row, comment=comment, duration=duration, names=names)
        finally:
            self._forget()

    async def expire(self, silence: Silence) -> None:
        try:
            await self._silencer.expire(silence)
        finally:
            self._forget()


class Hub:
    """Shares one domain backend among every viewer; `viewer()` is what each console gets."""

    def __init__(
        self,
        domain: Backend,
        *,
        intervals: Mapping[str, float],
        interval: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.domain = domain
        self.intervals = dict(intervals)
        self.interval = interval
        self.clock = clock
        self.calls = SharedCalls(clock)
        self._detectors = domain.detectors()
        self.viewers = 0
        self._context = contextvars.copy_context()  # the pollers run in no viewer's context
        self.pollers: dict[str, LivePoller] = {}
        # sources answered by the same requests (prom.fanin) poll at the same moments, as in a console
        self._ticks = ticks(list(domain.sources), getattr(domain, "together", None))

    @property
    def sources(self) -> Sequence[str]:
        return self.domain.sources

    def detectors(self) -> list[DetectorInfo]:
        return list(self._detectors)

    def viewer(self) -> HubView:
        return HubView(self)

    def _moment(self, at: float, fresh: float) -> tuple[str | float, float, float]:
        """(key part, moment to evaluate at, seconds the answer stays good) for an asker's `at`."""
        if at >= self.clock() - LIVE_SLACK:
            return "live", at, fresh
        snapped = round(at / PAST_GRID) * PAST_GRID
        return snapped, snapped, PAST_KEEP

    def interval_of(self, source: str) -> float:
        return self.intervals.get(source, self.interval)

    def poller(self, source: str) -> LivePoller:
        """The one poller of `source` (made on first use; it runs while viewers are live on it)."""
        if source not in self.pollers:
            if source not in self.sources:
                raise KeyError(f"no source named {source!r}")
            self.pollers[source] = LivePoller(
                self.domain, source, interval=self.interval_of(source), clock=self.clock, context=self._context,
                tick=self._ticks.get(source), expect=getattr(self.domain, "expect", None),
            )
        return self.pollers[source]

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        moment, when, keep = self._moment(at, self.interval_of(source))
        if moment == "live":
            return await self.poller(source).results()
        return await self.calls.call(("evaluate", source, moment), keep, lambda: self.domain.evaluate(source, when))

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        moment, when, keep = self._moment(at, HISTORY_FRESH)
        if moment == "live":
            shared = await self.poller(source).history(detector, window)
            if shared is not None:
                return shared
        return await self.calls.call(
            ("history", source, detector, window, moment), keep,
            lambda: self.domain.history(source, detector, when, window),
        )  # fmt: skip

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        moment, when, keep = self._moment(at, self.interval_of(source))
        key = ("chart", source, detector, tuple(sorted(labels.items())), window, moment)
        return await self.calls.call(key, keep, lambda: self.domain.chart(source, detector, labels, when, window))

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        moment, when, keep = self._moment(at, self.interval_of(source))
        return await self.calls.call(
            ("falco", source, window, moment), keep, lambda: self.domain.falco(source, when, window)
        )

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        """Lanes shared by viewers looking at the same window (snapped to the grid)."""
        first, last = (round(t / PAST_GRID) * PAST_GRID for t in (start, end))
        return await self.calls.call(
            ("timeline", source, first, last), HISTORY_FRESH, lambda: self.domain.timeline(source, first, last)
        )

    async def topology(self, source: str, at: float) -> Topology:
        moment, when, keep = self._moment(at, self.interval_of(source))
        return await self.calls.call(("topology", source, moment), keep, lambda: self.domain.topology(source, when))

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        return self.domain.alertmanager(source)

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        """Alertmanager's live board is shared like a live answer; a past one like a past moment."""
        moment, when, keep = self._moment(self.clock() if at is None else at, self.interval_of(source))
        ask = None if moment == "live" else when
        return await self.calls.call(("alerts", source, moment), keep, lambda: self.domain.alerts(source, ask))

    def silencer(self, source: str) -> Silencer | None:
        """Writes are never shared: each goes straight to Alertmanager (and its log), then the
        shared live boards are dropped so every viewer sees the change on its next refresh."""
        silencer = self.domain.silencer(source)
        return None if silencer is None else _FreshAfterWrite(silencer, self.calls, self.sources)

    async def aclose(self) -> None:
        for poller in self.pollers.values():
            await poller.aclose()
        await self.domain.aclose()


class HubView:
    """One viewer's handle on the hub: the console's Backend; closing it leaves the hub running."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.viewers += 1
        self._open = True

    @property
    def sources(self) -> Sequence[str]:
        return self.hub.sources

    def detectors(self) -> list[DetectorInfo]:
        return self.hub.detectors()

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        return await self.hub.evaluate(source, at)

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        return await self.hub.history(source, detector, at, window)

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        return await self.hub.chart(source, detector, labels, at, window)

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        return await self.hub.falco(source, at, window)

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        return await self.hub.timeline(source, start, end)

    async def topology(self, source: str, at: float) -> Topology:
        return await self.hub.topology(source, at)

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        return self.hub.alertmanager(source)

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        return await self.hub.alerts(source, at)

    def silencer(self, source: str) -> Silencer | None:
        return self.hub.silencer(source)

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self.hub.viewers -= 1
