"""The hub's sharing rules, on the console tests' fake domain (its counters show every question).

Live questions run on real time with short intervals (the hub's poller really sleeps); past
moments use a fixed clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any

from promsoc.alerts import AlertsBoard
from promsoc.serve.hub import PAST_GRID, Hub
from promsoc.tui.backend import History, Silencer
from tests.tui.fakes import NOW, FakeBackend

INTERVAL = 0.3


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Counting(FakeBackend):
    """The fake domain, also noting which sparklines were asked for."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay=delay)
        self.history_calls: list[str] = []

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        self.history_calls.append(detector)
        return await super().history(source, detector, at, window)


def live_hub(delay: float = 0.05, interval: float = INTERVAL) -> tuple[Hub, Counting]:
    domain = Counting(delay=delay)
    return Hub(domain, intervals={"demo": interval}, clock=time.time), domain


async def console_polls(hub: Hub, seconds: float) -> int:
    """What a console's poller does: evaluate live, pause one interval, again."""
    view, answers = hub.viewer(), 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await view.evaluate("demo", time.time())
        answers += 1
        await asyncio.sleep(INTERVAL)
    await view.aclose()
    return answers


async def test_five_live_viewers_cost_what_one_does() -> None:
    one_hub, one = live_hub()
    await console_polls(one_hub, 2.0)
    five_hub, five = live_hub()
    answers = await asyncio.gather(*(console_polls(five_hub, 2.0) for _ in range(5)))
    assert all(a >= 4 for a in answers)  # every viewer kept getting tiles
    assert len(five.evaluated_at) <= len(one.evaluated_at) + 1, (len(five.evaluated_at), len(one.evaluated_at))
    assert five_hub.poller("demo").cycles == len(five.evaluated_at)  # nobody but the poller evaluated
    await one_hub.aclose()
    await five_hub.aclose()


async def test_viewers_get_the_same_cycle() -> None:
    hub, _ = live_hub()
    viewers = [hub.viewer() for _ in range(5)]
    answers = await asyncio.gather(*(v.evaluate("demo", time.time()) for v in viewers))
    assert all(a is answers[0] for a in answers)
    await hub.aclose()


async def test_an_answer_older_than_an_interval_is_not_handed_out() -> None:
    hub, _ = live_hub(delay=0.4, interval=0.2)
    view = hub.viewer()
    first = await view.evaluate("demo", time.time())
    await asyncio.sleep(0.3)  # the next cycle is under way (0.2 s pause, then a 0.4 s query)
    asked = time.time()
    second = await view.evaluate("demo", asked)
    assert second[0].evaluated_at > first[0].evaluated_at  # waited for the new cycle
    assert time.time() - asked > 0.1
    await hub.aclose()


async def test_the_poller_stops_when_nobody_is_live_and_starts_again() -> None:
    hub, domain = live_hub(delay=0.0, interval=0.1)
    view = hub.viewer()
    await view.evaluate("demo", time.time())
    poller = hub.poller("demo")
    poller.idle_after = 0.5
    deadline = time.monotonic() + 30  # it stops about 0.5 s after the last ask (later on a busy machine)
    while poller._task is not None and not poller._task.done():
        assert time.monotonic() < deadline, "the poller kept polling with nobody live"
        await asyncio.sleep(0.1)
    stopped_at = len(domain.evaluated_at)
    await asyncio.sleep(0.5)
    assert len(domain.evaluated_at) == stopped_at  # no viewer: no polling
    assert len(await view.evaluate("demo", time.time())) > 0
    assert len(domain.evaluated_at) == stopped_at + 1
    await hub.aclose()


async def test_sparklines_come_from_the_poller() -> None:
    hub, _ = live_hub(delay=0.0)
    view = hub.viewer()
    results = await view.evaluate("demo", time.time())
    history = await view.history("demo", results[0].detector, time.time(), 3600)
    assert history.points
    assert "history" not in hub.calls.counters.by_kind  # the poller had fetched them
    await view.history("demo", results[0].detector, time.time(), 600)  # another window: asked once
    assert hub.calls.counters.by_kind["history"] == 1
    await hub.aclose()


async def test_a_failure_reaches_every_viewer_once() -> None:
    hub, domain = live_hub()
    domain.down = "connection refused"
    viewers = [hub.viewer() for _ in range(3)]
    results = await asyncio.gather(*(v.evaluate("demo", time.time()) for v in viewers), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) and "connection refused" in str(r) for r in results)
    assert hub.poller("demo").cycles == 1
    domain.down = None
    await asyncio.sleep(INTERVAL + 0.2)
    assert len(await viewers[0].evaluate("demo", time.time())) > 0
    await hub.aclose()


async def test_a_viewer_leaving_mid_cycle_does_not_cancel_it_for_the_others() -> None:
    hub, _ = live_hub(delay=0.2)
    leaver, stayer = hub.viewer(), hub.viewer()
    leaving = asyncio.create_task(leaver.evaluate("demo", time.time()))
    staying = asyncio.create_task(stayer.evaluate("demo", time.time()))
    await asyncio.sleep(0.05)
    leaving.cancel()
    await leaver.aclose()
    assert len(await staying) > 0
    assert leaving.cancelled()
    assert hub.viewers == 1
    await hub.aclose()


async def test_past_moment_is_evaluated_once_on_a_grid_and_kept() -> None:
    domain, clock = FakeBackend(delay=0.05), Clock()
    hub = Hub(domain, intervals={"demo": 30.0}, clock=clock)
    a, b = hub.viewer(), hub.viewer()
    past = NOW - 3600 + 2.0  # two viewers a couple of seconds apart are at the same moment
    await asyncio.gather(a.evaluate("demo", past), b.evaluate("demo", past + 1.5))
    assert domain.evaluated_at == [NOW - 3600]  # snapped to the grid
    assert (NOW - 3600) % PAST_GRID == 0
    clock.now += 300  # their consoles poll again and again: Prometheus is not asked again
    await asyncio.gather(a.evaluate("demo", past), b.evaluate("demo", past))
    assert len(domain.evaluated_at) == 1
    await a.evaluate("demo", NOW - 7200)  # another moment is its own evaluation
    assert len(domain.evaluated_at) == 2
    await hub.aclose()


async def test_other_live_questions_are_shared_by_their_own_key() -> None:
    domain, clock = FakeBackend(), Clock()
    hub = Hub(domain, intervals={"demo": 30.0}, clock=clock)
    a, b = hub.viewer(), hub.viewer()
    for viewer in (a, b):
        await viewer.falco("demo", clock(), 3600)
        await viewer.topology("demo", clock())
        await viewer.chart("demo", "falco-blind", {"pod": "x"}, clock(), 3600)
    await a.chart("demo", "falco-blind", {"pod": "y"}, clock(), 3600)
    assert hub.calls.counters.by_kind == {"falco": 1, "topology": 1, "chart": 2}
    assert hub.calls.counters.asked == 7
    clock.now += 31  # one interval later: asked again
    await a.falco("demo", clock(), 3600)
    assert hub.calls.counters.by_kind["falco"] == 2
    await hub.aclose()


class _Recorder:
    author = "oncall"
    url = "http://alertmanager.example:9093"

    def __init__(self) -> None:
        self.writes: list[str] = []

    async def silence(self, row: object, *, comment: str, duration: float, names: object) -> str:
        self.writes.append(comment)
        return "new-id"

    async def expire(self, silence: object) -> None:
        self.writes.append("expire")


class AlertsDomain(FakeBackend):
    """The fake domain with an Alertmanager board, counting how often it is asked."""

    def __init__(self) -> None:
        super().__init__()
        from tests.tui.fakes import alert_board

        self.alert_board = alert_board()
        self.asked = 0
        self.recorder = _Recorder()

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        self.asked += 1
        return await super().alerts(source, at)

    def silencer(self, source: str) -> Silencer | None:
        return self.recorder


async def test_viewers_share_the_live_alert_board_and_a_write_refreshes_it_for_all() -> None:
    domain = AlertsDomain()
    hub = Hub(domain, intervals={"demo": 60.0}, clock=time.time)
    first, second = hub.viewer(), hub.viewer()
    boards = [await first.alerts("demo", None), await second.alerts("demo", None)]
    assert boards[0] is boards[1] and domain.asked == 1  # one question to Alertmanager for both
    silencer = second.silencer("demo")
    assert silencer is not None and silencer.author == "oncall"
    row = boards[0].rows[0]
    assert await silencer.silence(row, comment="pentest", duration=60, names=["alertname"]) == "new-id"
    await first.alerts("demo", None)
    assert domain.recorder.writes == ["pentest"] and domain.asked == 2  # the write dropped the shared board
    await first.aclose()
    await second.aclose()
    await hub.aclose()


async def test_the_poller_refreshes_only_the_sparklines_someone_sees() -> None:
    hub, domain = live_hub(delay=0.0, interval=0.1)
    view = hub.viewer()
    results = await view.evaluate("demo", time.time())
    poller = hub.poller("demo")
    poller.history_every = 0.2
    seen, unseen = results[0].detector, results[1].detector
    await view.history("demo", seen, time.time(), 3600)  # the first round fetched every sparkline
    first_round = domain.history_calls.copy()
    assert set(first_round) == {r.detector for r in results}
    for _ in range(8):  # a console asks every round for the tiles it shows
        await asyncio.sleep(0.1)
        await view.evaluate("demo", time.time())
        await view.history("demo", seen, time.time(), 3600)
    assert domain.history_calls.count(seen) >= 3
    assert domain.history_calls.count(unseen) == 1  # nobody has it on screen: not refetched
    await hub.aclose()


class Grouped(FakeBackend):
    """Two sources the domain asks together (as `LiveBackend.together` says of a `prom.fanin` group)."""

    def __init__(self) -> None:
        super().__init__(("a", "b", "c"))
        self.asked: list[tuple[str, float]] = []

    def together(self, source: str) -> list[str]:
        return ["a", "b"] if source in ("a", "b") else [source]

    async def evaluate(self, source: str, at: float) -> list[Any]:
        self.asked.append((source, at))
        return await super().evaluate(source, at)


async def test_the_hubs_pollers_of_sources_asked_together_evaluate_one_moment() -> None:
    domain = Grouped()
    hub = Hub(domain, intervals=dict.fromkeys("abc", INTERVAL), clock=time.time)
    view = hub.viewer()
    await view.evaluate("a", time.time())
    await asyncio.sleep(0.05)  # b's viewer comes a moment later
    await asyncio.gather(view.evaluate("b", time.time()), view.evaluate("c", time.time()))
    moments = dict(domain.asked)
    assert moments["a"] == moments["b"]  # b joined a's cycle's moment
    assert moments["c"] != moments["a"]
    await view.aclose()
    await hub.aclose()


class Saying(Counting):
    """The fake domain, also hearing what each poll cycle says it will ask (`LiveBackend.expect`)."""

    def __init__(self) -> None:
        super().__init__(delay=0.0)
        self.said: list[tuple[str, float, list[str] | None, int]] = []  # and the sparklines asked by then
        self.evaluated: list[float] = []

    def expect(self, source: str, at: float, sparklines: Collection[str] | None, window: float) -> None:
        assert window == 3600
        self.said.append((source, at, None if sparklines is None else sorted(sparklines), len(self.history_calls)))

    async def evaluate(self, source: str, at: float) -> list[Any]:
        self.evaluated.append(at)
        return await super().evaluate(source, at)


async def test_the_hubs_poller_says_what_each_cycle_will_ask_as_a_consoles_does() -> None:
    """Each cycle of the hub's poller says it begins (before its scan), then which sparklines it
    will fetch (every one the first time; later only those a viewer sees; none when no round is
    due) before fetching them, then that it asks nothing more, all at the moment it evaluates:
    grouped sources' questions then wait only for who will ask them (`prom.fanin_plans`)."""
    domain = Saying()
    hub = Hub(domain, intervals={"demo": 0.1}, clock=time.time)
    view = hub.viewer()
    results = await view.evaluate("demo", time.time())
    every = sorted(r.detector for r in results)
    poller = hub.poller("demo")
    poller.history_every = 0.25
    seen = results[0].detector
    await view.history("demo", seen, time.time(), 3600)  # the first round: every sparkline
    while len({s[1] for s in domain.said}) < 5:  # a few more cycles, the tile in view asked for
        await asyncio.sleep(0.05)
        await view.evaluate("demo", time.time())
        await view.history("demo", seen, time.time(), 3600)
    await hub.aclose()
    cycles: dict[float, list[tuple[list[str] | None, int]]] = {}
    for source, at, sparklines, asked in domain.said:
        assert source == "demo"
        cycles.setdefault(at, []).append((sparklines, asked))
    assert list(cycles) == domain.evaluated[: len(cycles)]  # said at the moment each cycle evaluates
    first = cycles[domain.evaluated[0]]
    assert first == [(None, 0), (every, 0), ([], len(every))]  # said before fetching; then: nothing more
    later = [said for at, said in cycles.items() if at != domain.evaluated[0] and len(said) == 3]
    rounds = [said[1][0] for said in later]
    assert [seen] in rounds and [] in rounds, rounds  # a round of the tile in view; a cycle with no round
    assert all(said[0] == (None, said[0][1]) and said[2][0] == [] for said in later)
