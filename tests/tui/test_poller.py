"""Poll cycles never overlap, failures become messages, and a cursor move wakes the loop early."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import Any

from promsoc.tui.backend import History
from promsoc.tui.messages import HistoriesUpdated, PollFailed, ResultsUpdated
from promsoc.tui.poller import Poller, ticks
from tests.tui.conftest import until
from tests.tui.fakes import NOW, FakeBackend


def make(backend: FakeBackend, interval: float = 0.01) -> tuple[Poller, list[Any], list[float | None]]:
    posted: list[Any] = []
    cursor: list[float | None] = [None]
    poller = Poller(backend, "demo", interval=interval, cursor=lambda: cursor[0], post=posted.append, clock=lambda: NOW)
    return poller, posted, cursor


async def test_cycles_never_overlap_even_when_woken_during_a_slow_query() -> None:
    backend = FakeBackend(delay=0.05)
    poller, posted, _ = make(backend)
    task = asyncio.create_task(poller.run())
    for _ in range(10):
        poller.wake()
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert poller.cycles >= 2
    assert poller.max_in_flight == 1
    assert any(isinstance(m, ResultsUpdated) for m in posted)


async def test_a_failing_source_posts_the_reason_and_recovers() -> None:
    backend = FakeBackend()
    backend.down = "connection refused: 127.0.0.1:9"
    poller, posted, _ = make(backend)
    await poller.cycle()
    assert isinstance(posted[-1], PollFailed)
    assert posted[-1].reason == "connection refused: 127.0.0.1:9"
    backend.down = None
    await poller.cycle()
    assert any(isinstance(m, ResultsUpdated) for m in posted)


async def test_live_evaluates_at_the_clock_and_a_cursor_at_its_moment() -> None:
    backend = FakeBackend()
    poller, posted, cursor = make(backend)
    await poller.cycle()
    cursor[0] = NOW - 3600
    await poller.cycle()
    assert backend.evaluated_at == [NOW, NOW - 3600]
    histories = [m for m in posted if isinstance(m, HistoriesUpdated)]
    assert [h.at for h in histories] == [NOW, NOW - 3600]  # a moved cursor refetches sparklines


class Recording(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.histories: list[str] = []

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        self.histories.append(detector)
        return await super().history(source, detector, at, window)


async def test_sparklines_nobody_sees_are_refreshed_rarely_and_at_once_when_seen_again() -> None:
    backend = Recording()
    now, seen = [NOW], [{"ingress-bruteforce"}]
    poller = Poller(backend, "demo", interval=30, cursor=lambda: None, post=lambda _m: None,
                    clock=lambda: now[0], seen=lambda: seen[0], hidden_every=300)  # fmt: skip
    every = {d.id for d in backend.detectors()}
    await poller.cycle()
    assert set(backend.histories) == every  # the first frame has every sparkline
    unseen: list[list[str]] = []
    for step in range(1, 11):  # five minutes of 30 s cycles: the seen tile's sparkline each time
        backend.histories.clear()
        now[0] = NOW + 30 * step
        await poller.cycle()
        assert backend.histories[0] == "ingress-bruteforce"
        unseen.append(backend.histories[1:])
    # each unseen one once in the five minutes, and never all in the same cycle
    assert sorted(d for one in unseen for d in one) == sorted(every - {"ingress-bruteforce"})
    assert max(len(one) for one in unseen) == 1
    seen[0] = set()  # another view opened: nothing is seen
    now[0] = NOW + 305
    backend.histories.clear()
    await poller.cycle()
    assert backend.histories == []  # all fetched within the last five minutes
    oldest = next(one[0] for one in unseen if one)  # the first refreshed unseen, four minutes ago or more
    seen[0] = {"ingress-bruteforce", oldest}  # back on the overview, scrolled
    now[0] = NOW + 320
    await poller.cycle()
    assert backend.histories == [oldest]  # stale and seen again; the other one is fresh
    backend.histories.clear()
    seen[0] = set()
    now[0] = NOW + 640
    await poller.cycle()
    assert set(backend.histories) == every  # unseen, and hidden_every passed for all


async def test_grouped_sources_refresh_each_unseen_sparkline_in_the_same_cycle() -> None:
    """Sources asked together ask each hidden sparkline at the same moment (one merged request),
    although their cycles end at different times; a seen one is refreshed every cycle although
    the group's cycles are a hair under `history_every` apart."""
    backends = {"a": Recording(), "b": Recording()}
    now = [NOW]
    shared = ticks(["a", "b"], lambda _s: ["a", "b"])
    def clock(skew: float) -> Callable[[], float]:
        return lambda: now[0] + skew

    pollers = {name: Poller(backend, name, interval=30, cursor=lambda: None, post=lambda _m: None,
                            clock=clock(skew), seen=lambda: {"ingress-bruteforce"}, hidden_every=300,
                            tick=shared[name])
               for (name, backend), skew in zip(backends.items(), (-0.2, 0.2), strict=True)}  # fmt: skip
    fetched: dict[str, list[list[str]]] = {"a": [], "b": []}
    for step in range(21):  # ten minutes; "b" ends each cycle 0.4 s after "a", across phase moments
        now[0] = NOW + 30 * step - 0.001 * step  # a shared Tick's starts come a hair early as often as late
        for name, poller in pollers.items():
            backends[name].histories.clear()
            await poller.cycle()
            fetched[name].append(sorted(backends[name].histories))
    assert fetched["a"] == fetched["b"]
    assert all("ingress-bruteforce" in one for one in fetched["a"])
    assert sum(len(one) for one in fetched["a"][1:]) == 20 + 2 * (len(backends["a"].detectors()) - 1)


async def test_a_moved_cursor_drops_the_cycle_in_flight_and_evaluates_only_where_it_settled() -> None:
    backend = FakeBackend(delay=0.2)
    poller, posted, cursor = make(backend, interval=30)
    poller.settle = 0.1
    task = asyncio.create_task(poller.run())
    await until(lambda: backend.in_flight == 1)  # the live cycle is waiting on the server
    for step in (1, 2, 3):  # a burst of `[`
        cursor[0] = NOW - 300 * step
        poller.moved()
        await asyncio.sleep(0.02)
    await until(lambda: any(isinstance(m, HistoriesUpdated) for m in posted))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert backend.evaluated_at == [NOW - 900]  # not live, not the steps on the way
    assert [m.at for m in posted if isinstance(m, ResultsUpdated | HistoriesUpdated)] == [NOW - 900, NOW - 900]
    assert poller.dropped == 1 and poller.started == 2


async def test_answers_for_a_cursor_that_moved_meanwhile_are_never_posted() -> None:
    backend = FakeBackend(delay=0.05)
    poller, posted, cursor = make(backend)
    older = asyncio.create_task(poller.cycle())  # live; nothing cancels a cycle run on its own
    await asyncio.sleep(0.01)
    cursor[0] = NOW - 300
    await asyncio.gather(older, poller.cycle())
    assert backend.evaluated_at == [NOW, NOW - 300]  # both ran...
    assert {m.at for m in posted} == {NOW - 300}  # ...only the answers for the cursor shown were posted


async def test_sources_asked_together_evaluate_one_moment_and_start_their_cycles_together() -> None:
    """Pollers sharing a `Tick` (their sources are answered by the same requests, `prom.fanin`)
    evaluate the moment the first of them started, and wait for the same next start."""
    backend = FakeBackend()
    now = [NOW]
    together = {"a": ["a", "b"], "b": ["a", "b"], "c": ["c"]}
    shared = ticks(["a", "b", "c"], lambda source: together[source])
    assert shared["a"] is shared["b"] and shared["a"] is not None and shared["c"] is None
    pollers = {name: Poller(backend, name, interval=30, cursor=lambda: None, post=lambda _m: None,
                            clock=lambda: now[0], tick=shared[name]) for name in "abc"}  # fmt: skip
    await pollers["a"].cycle()
    now[0] = NOW + 1.5  # b starts a moment later (a slower previous cycle)
    await pollers["b"].cycle()
    await pollers["c"].cycle()
    assert backend.evaluated_at == [NOW, NOW, NOW + 1.5]
    now[0] = NOW + 4
    assert pollers["a"]._wait() == pollers["b"]._wait() == 26.0  # both start again at NOW + 30
    assert pollers["c"]._wait() == 30.0
    now[0] = NOW + 31  # the next cycle is a new moment
    await pollers["b"].cycle()
    assert backend.evaluated_at[-1] == NOW + 31


async def test_a_cycle_says_what_it_will_ask_when_it_begins_after_its_scan_and_when_it_ends() -> None:
    """`expect` (LiveBackend's: sources asked together wait only for who will ask the same) hears
    that a cycle begins, the sparklines due once its results are in (before any is asked), and
    that it asks nothing more when it ends, also when it failed."""
    backend = Recording()
    said: list[tuple[str, float, list[str] | None, int]] = []

    def expect(source: str, at: float, sparklines: Collection[str] | None, window: float) -> None:
        said.append((source, at, None if sparklines is None else sorted(sparklines), len(backend.histories)))

    poller = Poller(backend, "demo", interval=30, cursor=lambda: None, post=lambda _m: None, clock=lambda: NOW,
                    seen=lambda: {"ingress-bruteforce"}, expect=expect)  # fmt: skip
    await poller.cycle()
    every = sorted(d.id for d in backend.detectors())
    assert said == [("demo", NOW, None, 0), ("demo", NOW, every, 0), ("demo", NOW, [], len(every))]
    said.clear()
    backend.down = "connection refused"
    await poller.cycle()
    assert said == [("demo", NOW, None, len(every)), ("demo", NOW, [], len(every))]
