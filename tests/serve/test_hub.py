"""The hub's sharing rules, on the console tests' fake domain (its counters show every question)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from promsoc.serve.hub import PAST_GRID, Hub
from tests.tui.fakes import NOW, FakeBackend


class Domain(FakeBackend):
    async def topology(self, source: str, at: float) -> Any:
        await self._wait()
        return {"at": at}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def make_hub(delay: float = 0.05) -> tuple[Hub, Domain, Clock]:
    domain, clock = Domain(delay=delay), Clock()
    return Hub(domain, intervals={"demo": 30.0}, clock=clock), domain, clock


async def test_five_live_viewers_cost_one_evaluation_per_interval() -> None:
    hub, domain, clock = make_hub()
    viewers = [hub.viewer() for _ in range(5)]
    answers = await asyncio.gather(*(v.evaluate("demo", clock()) for v in viewers))
    assert len(domain.evaluated_at) == 1
    assert all(a is answers[0] for a in answers)  # the same cycle, object for object
    clock.now += 20  # younger than the interval: still shared
    await asyncio.gather(*(v.evaluate("demo", clock()) for v in viewers))
    assert len(domain.evaluated_at) == 1
    clock.now += 11  # one interval after the answer arrived: the next cycle
    await asyncio.gather(*(v.evaluate("demo", clock()) for v in viewers))
    assert domain.evaluated_at == [NOW, NOW + 31]


async def test_past_moment_is_evaluated_once_on_a_grid_and_kept() -> None:
    hub, domain, clock = make_hub()
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


async def test_each_question_is_shared_by_its_own_key() -> None:
    hub, _domain, clock = make_hub(delay=0.0)
    a, b = hub.viewer(), hub.viewer()
    for viewer in (a, b):
        await viewer.history("demo", "falco-blind", clock(), 3600)
        await viewer.falco("demo", clock(), 3600)
        await viewer.topology("demo", clock())
        await viewer.chart("demo", "falco-blind", {"pod": "x"}, clock(), 3600)
    await a.chart("demo", "falco-blind", {"pod": "y"}, clock(), 3600)
    kinds = hub.calls.counters.by_kind
    assert kinds == {"history": 1, "falco": 1, "topology": 1, "chart": 2}
    assert hub.calls.counters.asked == 9


async def test_a_failure_is_shared_not_retried_by_every_viewer() -> None:
    hub, domain, clock = make_hub()
    domain.down = "connection refused"
    viewers = [hub.viewer() for _ in range(3)]
    results = await asyncio.gather(*(v.evaluate("demo", clock()) for v in viewers), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert hub.calls.counters.computed == 1
    domain.down = None
    clock.now += 31
    assert len(await viewers[0].evaluate("demo", clock())) > 0


async def test_a_viewer_leaving_mid_question_does_not_cancel_it_for_the_others() -> None:
    hub, _domain, clock = make_hub(delay=0.2)
    leaver, stayer = hub.viewer(), hub.viewer()
    leaving = asyncio.create_task(leaver.evaluate("demo", clock()))
    staying = asyncio.create_task(stayer.evaluate("demo", clock()))
    await asyncio.sleep(0.05)
    leaving.cancel()
    await leaver.aclose()
    assert len(await staying) > 0
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert hub.viewers == 1
    assert hub.calls.counters.computed == 1
