"""Incremental range fetch against the lab's real Prometheus: the same answers, far fewer points.

An hour of refreshes is driven by asking at successive moments of the lab's recorded history
(30 s apart, as the console's sparklines refresh), then a few refreshes at the live edge, where
late scrapes land: at every refresh the incremental answer must equal a full fetch of the same
range. A counting transport (it forwards every request to the real server) shows what a console
cycle asks.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import replace
from urllib.parse import parse_qs

import httpx

from promsoc.config import load_settings
from promsoc.detectors.cadence import heavy_sparkline
from promsoc.detectors.charts import chart_plan
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.range_cache import RangeCache, constant, grid
from promsoc.prom.settings import Source
from promsoc.prom.types import RangeResult, RangeSeries
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.series_math import steps_for

WINDOW = 3600.0
REFRESH = 30.0
LIVE_REFRESHES = 3


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the real server and notes each request's query and time range."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if request.method == "POST":
            params.update({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        self.asked.append((request.url.path, params))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def comparable(result: RangeResult) -> dict[tuple[tuple[str, str], ...], list[tuple[float, str]]]:
    """Series by labels, values as text so that NaN equals NaN."""
    return {tuple(sorted(s.labels.items())): [(t, repr(v)) for t, v in s.points] for s in result.series}


def queries_of(names: list[str]) -> list[str]:
    """The signals and bands the named detectors' sparklines ask for (constants need no request)."""
    by_id = {d.id: d for d in load_detectors()}
    found = []
    for name in names:
        plan = chart_plan(by_id[name], context=False)
        found += [q for q in (plan.signal, plan.own.upper if plan.own else None) if q and constant(q) is None]
    return found


# one of every kind: counter rates, gauges with time(), histograms, a subquery time band, a MAD band,
# the pod-to-workload median join, Falco
EVERY_KIND = [
    "apiserver-unauthorized",
    "ingress-created",
    "cert-expiry-apiserver-client",
    "ingress-response-size-anomaly",
    "volume-inode-anomaly",
    "pod-egress-outlier",
    "falco-rule-burst",
]


def sliced(result: RangeResult, first: float, last: float) -> RangeResult:
    """The part of a longer answer on [first, last]: a range query's steps are evaluated each on
    its own (subqueries on an absolute grid), so this is what a fetch of [first, last] answers."""
    series = [RangeSeries(s.labels, [(t, v) for t, v in s.points if first <= t <= last]) for s in result.series]
    return RangeResult([s for s in series if s.points])


def test_incremental_equals_full_fetch_at_every_refresh_over_an_hour(lab: Lab) -> None:
    queries = queries_of(EVERY_KIND)
    step = steps_for(WINDOW)
    refreshes = int(WINDOW / REFRESH) + 1
    end = time.time() - 60
    moments = [end - WINDOW + REFRESH * k for k in range(refreshes)]

    async def run() -> tuple[RangeCache, int, int]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            cache = RangeCache(client)
            # every refresh's full answer, from one fetch of the two hours the refreshes span
            whole = await asyncio.gather(
                *(client.query_range(q, *grid(moments[0] - WINDOW, moments[-1], step), step) for q in queries)
            )
            compared = fetched = 0

            async def same(promql: str, reference: RangeResult | None, at: float) -> None:
                nonlocal compared, fetched
                got = await cache.query_range(promql, at - WINDOW, at, step)
                first, last = grid(at - WINDOW, at, step)
                if reference is None:
                    reference = await client.query_range(promql, first, last, step)
                    fetched += 1
                assert comparable(got) == comparable(sliced(reference, first, last)), (promql, at)
                compared += 1

            for k, at in enumerate(moments):  # an hour of the lab's history, refresh by refresh
                spot = k in (1, refreshes // 2, refreshes - 1)  # where a real full fetch confirms the slices
                await asyncio.gather(*(same(q, None if spot else w, at) for q, w in zip(queries, whole, strict=True)))
            for _ in range(LIVE_REFRESHES):  # then at the live edge, where scrapes are still landing
                await asyncio.sleep(10)
                at = time.time() - 10  # 10 s back: the incremental and the full fetch see the same scrapes
                await asyncio.gather(*(same(q, None, at) for q in queries))
            return cache, compared, fetched

    cache, compared, fetched = asyncio.run(run())
    assert compared == len(queries) * (refreshes + LIVE_REFRESHES)
    assert fetched == len(queries) * (3 + LIVE_REFRESHES)
    assert cache.counters.full == len(queries)  # only the first refresh fetched the whole hour
    assert cache.counters.incremental >= len(queries) * (refreshes - 1)


def test_a_console_cycle_asks_each_query_once_and_then_only_new_steps(lab: Lab) -> None:
    transport = Counting()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    settings = load_settings(None, lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, timeout=120.0) for s in settings.sources))  # a loaded CI

    async def cycle(backend: LiveBackend, at: float) -> list[tuple[str, dict[str, str]]]:
        transport.asked.clear()
        results = await backend.evaluate("lab", at)
        await asyncio.gather(*(backend.history("lab", r.detector, at, WINDOW) for r in results))
        return list(transport.asked)

    async def run() -> tuple[list[tuple[str, dict[str, str]]], list[tuple[str, dict[str, str]]]]:
        backend = LiveBackend(settings, clients=clients)
        try:
            at = time.time() - 5
            return await cycle(backend, at), await cycle(backend, at + REFRESH)
        finally:
            await backend.aclose()

    first, second = asyncio.run(run())
    for asked in (first, second):
        keys = Counter((path, params["query"], params.get("time"), params.get("start")) for path, params in asked)
        assert [key for key, count in keys.items() if count > 1] == []
        assert not any(constant(params["query"]) is not None for _, params in asked)
    ranges = [params for path, params in second if path.endswith("query_range")]
    assert ranges, "the second cycle refreshed the sparklines"
    spans = [float(p["end"]) - float(p["start"]) for p in ranges]
    assert max(spans) <= 120 + REFRESH + steps_for(WINDOW)  # the overlap and the new steps, not the hour
    heavy = {q for det in load_detectors() if heavy_sparkline(plan := sparkline_plan(det))
             for q in (plan.signal, plan.edge, plan.fired) if q}  # fmt: skip
    first_ranges = [p for path, p in first if path.endswith("query_range")]
    assert {p["query"] for p in first_ranges} & heavy, "the first cycle fetched the heavy sparklines"
    assert not {p["query"] for p in ranges} & heavy  # kept for HEAVY_SPARKLINE_EVERY
    assert len(ranges) == len([p for p in first_ranges if p["query"] not in heavy])


def test_the_newest_sparkline_point_is_the_scan_answer_when_the_query_is_the_same(lab: Lab) -> None:
    detectors = [d for d in load_detectors() if d.signal is None]
    assert detectors, "the pack has a detector whose sparkline is its own query"

    async def run() -> list[tuple[float, list[tuple[float, float]], list[float]]]:
        backend = LiveBackend(load_settings(None, lab.url, "lab"), detectors=detectors)
        seen = []
        try:
            for incident in lab.scenario.attacks:
                at = incident.eval_at
                results = await backend.evaluate("lab", at)
                for result in results:
                    if result.findings:
                        history = await backend.history("lab", result.detector, at, WINDOW)
                        top = max(f.value for f in result.findings)
                        seen.append((top, history.points, history.firing or []))
                        assert history.points[-1] == (at, top)
                        assert history.firing and history.firing[-1] == at
        finally:
            await backend.aclose()
        return seen

    seen = asyncio.run(run())
    assert seen, "some attack makes a detector without a separate signal fire"
    assert all(not math.isnan(top) for top, _, _ in seen)


def test_a_jump_or_a_wider_window_fetches_in_full_and_still_agrees(lab: Lab) -> None:
    promql = queries_of(["apiserver-unauthorized"])[0]
    step = steps_for(WINDOW)

    async def run() -> list[tuple[int, int]]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            cache = RangeCache(client)
            at = time.time() - 600
            seen = []
            for start, end in [
                (at - WINDOW, at),
                (at - WINDOW + 30, at + 30),  # a refresh: incremental
                (at - 2 * WINDOW, at + 30),  # the window grows: full
                (at - WINDOW - 900, at - 900),  # the cursor jumps back: full
                (at - WINDOW - 870, at - 870),
            ]:  # and refreshes from there: incremental
                got = await cache.query_range(promql, start, end, step)
                full = await client.query_range(promql, *grid(start, end, step), step)
                assert comparable(got) == comparable(full), (start, end)
                seen.append((cache.counters.full, cache.counters.incremental))
            return seen

    assert asyncio.run(run()) == [(1, 0), (1, 1), (2, 1), (3, 1), (3, 2)]


def test_a_fetch_in_chunks_answers_as_one_request(lab: Lab) -> None:
    """A heavy sparkline's hour asked a few steps a request (cadence.HEAVY_CHUNK) is the same answer."""
    promql = queries_of(["pod-egress-outlier"])[0]
    end = math.floor(time.time() / 60) * 60 - 90  # between two steps: 60 of them in the hour

    async def run() -> tuple[RangeResult, RangeResult, int]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            first, last = grid(end - WINDOW, end, 60.0)
            whole = await client.query_range(promql, first, last, 60.0)
            transport = Counting()
            async with PromClient(client.source, transport=transport) as counted:
                chunked = await RangeCache(counted).query_range(promql, end - WINDOW, end, 60.0, chunk=15)
            return whole, chunked, len(transport.asked)

    whole, chunked, requests = asyncio.run(run())
    assert whole.series and comparable(chunked) == comparable(whole)
    assert requests == 4  # 60 steps, 15 a request
