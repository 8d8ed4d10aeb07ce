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
    """Forwards to the real server and counts the requests whose query joins pods to workloads (the owner chains)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.joins = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
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
    now = [time.time() - 5]

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
        assert joins == (0 if kept else len(scaled)), index  # the past: evaluated afresh, every cycle
    assert HEAVY_SPARKLINE_EVERY > SCALED_EVERY
