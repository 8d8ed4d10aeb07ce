"""One long-lived poll loop per source: the next cycle starts only when the last has finished."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

from promsoc.text import one_line
from promsoc.tui.backend import Backend, History
from promsoc.tui.messages import HistoriesUpdated, PollFailed, ResultsUpdated

Clock = Callable[[], float]
Expect = Callable[[str, float, Collection[str] | None, float], None]
"""`LiveBackend.expect`: what a source's cycle at a moment will ask (None: it begins), the window."""
HISTORY_WINDOW = 3600.0
HIDDEN_EVERY = 300.0
"""Seconds between refreshes of a sparkline nobody sees (a tile off screen, another view open)."""
EARLY = 1.0
"""Seconds a seen sparkline's refresh may come early: cycles meant to be `history_every` apart
(sources asked together start every `interval` s, see `Tick`) are a few ms short of it as often
as not, and a refresh missed by 1 ms would wait a whole cycle more."""
CURSOR_SETTLE = 0.1
"""Seconds without another cursor move before the moved cursor's cycle starts: a burst of `[`
presses (or a held key) evaluates the final cursor once, not every step on the way."""


class Tick:
    """Shared by the pollers of sources asked together (one request answers them all, see
    `prom.fanin`): their live cycles evaluate the same moment and start at the same time, every
    `refresh` s from the first's start, so their questions meet."""

    def __init__(self) -> None:
        self.moment: float | None = None

    def join(self, now: float, slack: float) -> float:
        """The moment of the cycle that started within `slack` s before `now`, else `now`."""
        if self.moment is not None and 0.0 <= now - self.moment < slack:
            return self.moment
        self.moment = now
        return now

    def wait(self, interval: float, now: float) -> float:
        """Seconds until the group's next cycle starts, `interval` after its last one."""
        if self.moment is None:
            return interval
        return max(0.0, min(interval, self.moment + interval - now))


def ticks(sources: Sequence[str], together: Callable[[str], Sequence[str]] | None) -> dict[str, Tick | None]:
    """One `Tick` per group of sources asked together (`together(source)`: its group), None for
    a source asked alone."""
    found: dict[str, Tick | None] = dict.fromkeys(sources)
    if together is None:
        return found
    for source in sources:
        group: Iterable[str] = together(source)
        members = [name for name in group if name in found]
        if len(members) > 1 and found[source] is None:
            tick = Tick()
            for name in members:
                found[name] = tick
    return found


Say = Callable[[Collection[str]], None]
"""A cycle's way to say which sparklines it will fetch (`saying`)."""


@contextlib.contextmanager
def saying(expect: Expect | None, source: str, at: float) -> Iterator[Say]:
    """A poll cycle of `source` at `at` tells `expect` (`LiveBackend.expect`; None: nobody) what
    it will ask, so sources asked together wait only for those that will ask the same
    (`prom.fanin_plans`): that it begins, then, through what it yields, the sparklines it will
    fetch once its scan is done, and at its end, whatever happened, that it asks nothing more.
    The console's pollers and the served hub's (serve/live.py) say it through this one path."""

    def say(sparklines: Collection[str] | None) -> None:
        if expect is not None:
            expect(source, at, sparklines, HISTORY_WINDOW)

    say(None)
    try:
        yield say
    finally:
        say(())


def hidden_phase(detectors: Iterable[str], every: float) -> dict[str, float]:
    """Each detector's moment within every `every` s: spread evenly over the period, in the
    order of their ids, so every source with the same detectors gives each the same moment."""
    ordered = sorted(set(detectors))
    return {d: every * index / len(ordered) for index, d in enumerate(ordered)}


def crossed(last: float, now: float, phase: float, every: float) -> bool:
    """Whether a moment `phase` s into a period of `every` s (counted from the epoch) fell in
    (last, now]: at most one refresh a period, at least one each period and a cycle."""
    return (now - phase) // every > (last - phase) // every


class Poller:
    """Polls one source forever; `wake()` starts the next cycle early, never a parallel one, and
    `moved()` (the time cursor moved) drops the cycle in flight: its answers are for a cursor no
    longer shown, and on a large cluster they cost the interpreter the keys need (issue 15)."""

    def __init__(
        self,
        backend: Backend,
        source: str,
        *,
        interval: float,
        cursor: Callable[[], float | None],
        post: Callable[[Any], object],
        clock: Clock,
        history_every: float = 30.0,
        seen: Callable[[], Collection[str] | None] = lambda: None,
        hidden_every: float = HIDDEN_EVERY,
        settle: float = CURSOR_SETTLE,
        tick: Tick | None = None,
        first: tuple[float, float] | None = None,
        expect: Expect | None = None,
    ) -> None:
        self.backend = backend
        self.source = source
        self.interval = interval
        self._cursor = cursor
        self._post = post
        self._clock = clock
        self._history_every = history_every
        self._wake = asyncio.Event()
        self._seen = seen
        self._hidden_every = hidden_every
        self._tick = tick
        self._expect = expect
        """Told what each cycle will ask, so sources asked together wait only for who will ask
        the same (`prom.fanin`): that it begins, then the sparklines due, then that it is over."""
        self._first = first
        """(moment, began): a scan the backend began before the console (`LiveBackend.begin`); the
        first cycle evaluates that moment when it is still live (or is the cursor's), and its
        latency counts from when that scan began."""
        self._fetched: dict[str, tuple[float | None, float]] = {}  # detector -> (cursor, fetched at)
        self.settle = settle
        self._moved_at = float("-inf")  # the loop's time of the last cursor move
        self._running: asyncio.Future[None] | None = None  # run()'s cycle in flight
        self.cycles = 0
        self.started = 0
        self.dropped = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def wake(self) -> None:
        """Ask for a cycle as soon as the current one (if any) ends."""
        self._wake.set()

    def moved(self) -> None:
        """The time cursor moved: cancel the cycle in flight and start the next one once the
        cursor has stayed put for `settle` seconds."""
        self._moved_at = asyncio.get_running_loop().time()
        running = self._running
        if running is not None and not running.done():
            running.cancel()
            self.dropped += 1
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._settled()
            self._wake.clear()
            running = self._running = asyncio.ensure_future(self.cycle())
            try:
                await asyncio.wait({running})  # returns when the cycle ends or moved() cancels it
            finally:
                running.cancel()  # run() itself was cancelled (a no-op once the cycle is done)
            error = None if running.cancelled() else running.exception()
            if error is not None:
                raise error
            if not self._wake.is_set():
                await self._pause()

    async def _settled(self) -> None:
        """Wait until the cursor has not moved for `settle` seconds (at once when it has not)."""
        loop = asyncio.get_running_loop()
        # a deadline each move pushes back, not a condition to poll for: no Event to wait on
        while (left := self._moved_at + self.settle - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def _pause(self) -> None:
        """Sleep for the interval or until woken, and always honour cancellation."""
        # asyncio.wait, unlike 3.11's wait_for, never swallows a cancel racing a wake-up (bpo-42130).
        waiter = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({waiter}, timeout=self._wait())
        finally:
            waiter.cancel()

    def _wait(self) -> float:
        """The interval; for a source asked with others, until their shared next start."""
        return self.interval if self._tick is None else self._tick.wait(self.interval, self._clock())

    async def cycle(self) -> None:
        """Evaluate every detector at the cursor, then refresh sparklines when they are due.
        Answers for a cursor that moved meanwhile are not posted: the move's own cycle follows."""
        self.started += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            cursor = self._cursor()
            started = self._clock()
            if self._first is not None:
                moment, began = self._first
                self._first = None
                if cursor == moment or (cursor is None and moment == began and 0.0 <= started - began < self.interval):
                    started = began
            at = started if cursor is None else cursor
            if cursor is None and self._tick is not None:
                at = self._tick.join(started, min(5.0, self.interval / 2))
            with saying(self._expect, self.source, at) as say:
                await self._evaluated(at, cursor, started, say)
        finally:
            self.in_flight -= 1
            self.cycles += 1

    async def _evaluated(self, at: float, cursor: float | None, started: float, say: Say) -> None:
        """The cycle at `at`: its results, then the sparklines due."""
        try:
            results = await self.backend.evaluate(self.source, at)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure becomes a visible reason, never a crash
            if self._cursor() == cursor:
                self._post(PollFailed(self.source, one_line(exc), at, self._clock()))
            return
        if self._cursor() != cursor:
            return
        finished = self._clock()
        self._post(ResultsUpdated(self.source, results, at, finished - started, finished))
        now = at if cursor is None and self._tick is not None else finished  # a group's one moment
        due = self._histories_due([r.detector for r in results], cursor, now)
        say(due)
        if due and await self._histories(due, at, cursor):
            self._fetched.update(dict.fromkeys(due, (cursor, now)))

    def _histories_due(self, detectors: list[str], cursor: float | None, now: float) -> list[str]:
        """Sparklines change slowly: a seen one is refetched when the cursor moved, else every
        `history_every` s; one nobody sees (`seen()` leaves it out) about every `hidden_every` s,
        and at once when it is seen again. Every sparkline is fetched the first time.

        The unseen ones are not all due in the same cycle: each detector has its own moment in
        every `hidden_every` s (`hidden_phase`), so a console of twenty sources refreshes a few
        of them each cycle, not all 340 every tenth; the moment depends on the detector alone, so
        sources asked together (`prom.fanin`) still ask each of them in the same cycle."""
        seen = self._seen()
        phases = hidden_phase(detectors, self._hidden_every)
        due = []
        for detector in detectors:
            last = self._fetched.get(detector)
            if last is None:
                due.append(detector)
            elif seen is None or detector in seen:
                if last[0] != cursor or now - last[1] >= self._history_every - EARLY:
                    due.append(detector)
            elif crossed(last[1], now, phases[detector], self._hidden_every):
                due.append(detector)
        return due

    async def _histories(self, detectors: list[str], at: float, cursor: float | None) -> bool:
        """Fetch and post these sparklines; False when the cursor moved meanwhile (not posted)."""
        async def one(detector: str) -> tuple[str, History | None]:
            try:
                return detector, await self.backend.history(self.source, detector, at, HISTORY_WINDOW)
            except asyncio.CancelledError:
                raise
            except Exception:  # a missing sparkline is not worth a failed cycle
                return detector, None

        pairs = await asyncio.gather(*(one(d) for d in detectors))
        found = {d: h for d, h in pairs if h is not None}
        if self._cursor() != cursor:
            return False
        self._post(HistoriesUpdated(self.source, found, at))
        return True
