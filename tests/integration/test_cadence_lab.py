"""A live console asks the detectors that scale with the pods less often, and says so; the past is
always evaluated afresh (detectors.cadence), against the lab's real Prometheus."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx

from promsoc.config import load_settings
from promsoc.detectors.cadence import HEAVY_SPARKLINE_EVERY, SCALED_EVERY, scales_with_pods
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.live_backend import LiveBackend


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the real server and counts the requests, and those whose query joins pods to
    workloads (the owner chains)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.joins = 0
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        text = str(request.url) + (await request.aread()).decode()
        self.joins += "kube_replicaset_owner" in text
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_costly_detectors_are_kept_between_live_cycles_and_say_so_but_the_past_is_fresh(lab: Lab) -> None:
    scaled = {d.id for d in load_detectors() if scales_with_pods(d)}
    assert scaled == {"container-cpu-outlier", "pod-egress-outlier"}
    transport = Counting()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    settings = load_settings(None, lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, timeout=120.0) for s in settings.sources))
    now = [(time.time() // SCALED_EVERY - 1) * SCALED_EVERY + 1]  # just after its phase's moment (a sole source: 0)

    async def run() -> list[tuple[list[DetectorResult], int]]:
        backend = LiveBackend(settings, clients=clients)
        backend.clock = lambda: now[0]
        rounds = []
        try:
            for at in (now[0], now[0] + 30, now[0] + SCALED_EVERY + 1, now[0] - 3600, now[0] - 3600):
                now[0] = max(now[0], at)
                before = transport.joins
                results = await backend.evaluate("lab", at)
                rounds.append((results, transport.joins - before))
        finally:
            await backend.aclose()
        return rounds

    rounds = asyncio.run(run())
    start = rounds[0][0][0].evaluated_at
    for index, (results, joins) in enumerate(rounds):
        by_id = {r.detector: r for r in results}
        assert set(by_id) == {d.id for d in load_detectors()}  # every tile has a result every cycle
        for det_id, result in by_id.items():
            assert result.every == (SCALED_EVERY if det_id in scaled else 0.0), (index, det_id)
        kept = index == 1  # 30 s later, live: the scaled ones are their first cycle's results
        at = [start, start + 30, start + SCALED_EVERY + 1, start - 3600, start - 3600][index]
        assert {r.evaluated_at for i, r in by_id.items() if i in scaled} == {start if kept else at}
        assert {r.evaluated_at for i, r in by_id.items() if i not in scaled} == {at}
        # the past: evaluated afresh, every cycle; both in one request (their map once: shared_join)
        assert joins == (0 if kept else 1), index
    assert HEAVY_SPARKLINE_EVERY > SCALED_EVERY


def test_a_heavy_sparkline_that_failed_is_not_asked_again_for_five_minutes(lab: Lab) -> None:
    """A 5,000-pod sparkline past the source's timeout was asked whole again every cycle (each
    attempt a timeout's worth of Prometheus CPU); now it waits HEAVY_SPARKLINE_EVERY."""
    transport = Counting()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport, retries=0)

    settings = load_settings(None, lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, timeout=0.001) for s in settings.sources))  # always late
    now = [(time.time() // SCALED_EVERY - 1) * SCALED_EVERY + 1]  # just after its phase's moment (a sole source: 0)

    async def run() -> list[tuple[str, int]]:
        backend = LiveBackend(settings, clients=clients)
        backend.clock = lambda: now[0]
        seen = []
        try:
            for at in (now[0], now[0] + 30, now[0] + 60, now[0] + HEAVY_SPARKLINE_EVERY + 1):
                now[0] = at
                before = transport.requests
                try:
                    await backend.history("lab", "container-cpu-outlier", at, 3600.0)
                    outcome = "drawn"
                except Exception as exc:  # the poller shows any failure as no sparkline
                    outcome = type(exc).__name__
                seen.append((outcome, transport.requests - before))
        finally:
            await backend.aclose()
        return seen

    seen = asyncio.run(run())
    assert seen[0][0] == "Timeout" and seen[0][1] >= 1, seen  # asked, timed out
    assert seen[1] == ("RuntimeError", 0) and seen[2] == ("RuntimeError", 0)  # not asked again
    assert seen[3][0] == "Timeout" and seen[3][1] >= 1, seen  # 5 minutes later: asked again
