"""The hub's one poller per source: what every live viewer's tiles and sparklines come from.

While any viewer is live on a source, this loop evaluates it, pauses one refresh interval, and
evaluates again, exactly as a local console's poller does, and every 30 s refetches the
sparklines that some viewer has on screen (all of them the first time).
Viewers never start an evaluation of a live source themselves: they get the latest cycle. So the
sources cost Prometheus one console's worth however many viewers are connected.

A viewer gets the latest cycle while it is at most one interval old; when it is older, a cycle is
under way (or the loop had stopped and starts again), and the viewer waits for that cycle rather
than being handed stale tiles as if fresh: a slow or silent Prometheus shows in every console as
it would in a local one. The loop stops when no viewer has asked for a while.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable

from promsoc.detectors.results import DetectorResult
from promsoc.tui.backend import Backend, History
from promsoc.tui.poller import HISTORY_WINDOW, Expect, Tick, saying

HISTORY_EVERY = 30.0  # as a local console's poller


class LivePoller:
    """Polls one source while viewers are live on it; `results()` and `history()` serve them."""

    def __init__(
        self,
        domain: Backend,
        source: str,
        *,
        interval: float,
        clock: Callable[[], float],
        context: contextvars.Context,
        tick: Tick | None = None,
        expect: Expect | None = None,
    ) -> None:
        self.domain = domain
        self._expect = expect  # told what each cycle will ask, as a console's pollers tell it (`saying`)
        self._tick = tick  # shared with the pollers of the sources asked together
        self.source = source
        self.interval = interval
        self.clock = clock
        self._context = context
        self.history_every = HISTORY_EVERY
        self.idle_after = 3 * interval + HISTORY_EVERY  # no viewer asked for this long: stop polling
        self._results: list[DetectorResult] | None = None
        self._error: BaseException | None = None
        self._done_at: float | None = None  # when the latest cycle finished
        self._cycle_done = asyncio.Event()  # set when a cycle finishes; a fresh one per cycle
        self._histories: dict[str, tuple[float, History]] = {}  # detector -> (fetched at, sparkline)
        self._history_at: float | None = None  # when the latest round of sparklines was fetched
        self._wanted: dict[str, float] = {}  # detector -> when a viewer last asked for its sparkline
        self._fetching: asyncio.Future[None] | None = None  # a sparkline fetch under way
        self._asked_at = clock()
        self._task: asyncio.Task[None] | None = None
        self.cycles = 0

    # -- what viewers ask ----------------------------------------------------------------------
    async def results(self) -> list[DetectorResult]:
        """The latest cycle if at most one interval old, else the cycle under way."""
        self._touch()
        if self._done_at is None or self.clock() - self._done_at > self.interval:
            await self._next_cycle()
        if self._error is not None:
            raise self._error
        assert self._results is not None
        return self._results

    async def history(self, detector: str, window: float) -> History | None:
        """The loop's sparkline of `detector` (waiting for a fetch under way if it has none recent);
        None when it has none for this window, and the hub asks the domain instead."""
        self._touch()
        if window != HISTORY_WINDOW:
            return None
        self._wanted[detector] = self.clock()
        if self._fresh(detector) is None and self._fetching is not None:
            await asyncio.shield(self._fetching)
        return self._fresh(detector)

    def _fresh(self, detector: str) -> History | None:
        fetched_at, history = self._histories.get(detector, (None, None))
        limit = self.history_every + self.interval + 60  # a round is due every 30 s, at a cycle's end
        return history if fetched_at is not None and self.clock() - fetched_at <= limit else None

    def _touch(self) -> None:
        self._asked_at = self.clock()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"hub poller {self.source}", context=self._context.copy()
            )

    async def _next_cycle(self) -> None:
        event = self._cycle_done
        await event.wait()

    # -- the loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while self.clock() - self._asked_at < self.idle_after:
            await self._cycle()
            await asyncio.sleep(self._wait())

    def _wait(self) -> float:
        """The interval; for a source asked with others, until their shared next start."""
        return self.interval if self._tick is None else self._tick.wait(self.interval, self.clock())

    async def _cycle(self) -> None:
        at = self.clock()
        if self._tick is not None:
            at = self._tick.join(at, min(5.0, self.interval / 2))
        with saying(self._expect, self.source, at) as say:
            try:
                self._results, self._error = await self.domain.evaluate(self.source, at), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every viewer shows the reason, as a local console would
                self._error = exc
            self._done_at = self.clock()
            self.cycles += 1
            done, self._cycle_done = self._cycle_done, asyncio.Event()
            done.set()
            refresh = self._results is not None and self._error is None and self._history_due()
            due = self._to_refresh([r.detector for r in self._results or []]) if refresh else []
            say(due)
            if refresh:
                await self._fetch_histories(due, at)

    def _to_refresh(self, detectors: list[str]) -> list[str]:
        """Every sparkline the first time; after that those some viewer has on screen (a console
        asks for a tile's sparkline every 30 s while it is seen, every 5 min while it is not: those
        it then gets from the hub's shared calls)."""
        if self._history_at is None:
            return detectors
        recent = self.clock() - (self.history_every + 2 * self.interval + 5)
        return [d for d in detectors if self._wanted.get(d, -1.0) >= recent]

    def _history_due(self) -> bool:
        return self._history_at is None or self.clock() - self._history_at >= self.history_every

    async def _fetch_histories(self, detectors: list[str], at: float) -> None:
        fetched_at = self.clock()
        self._fetching = asyncio.get_running_loop().create_future()
        try:
            answers = await asyncio.gather(
                *(self.domain.history(self.source, d, at, HISTORY_WINDOW) for d in detectors), return_exceptions=True
            )
            for detector, answer in zip(detectors, answers, strict=True):
                if isinstance(answer, History):
                    self._histories[detector] = (fetched_at, answer)
                elif isinstance(answer, asyncio.CancelledError):
                    raise answer
            self._history_at = fetched_at
        finally:
            self._fetching.set_result(None)
            self._fetching = None

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
