"""Sources asked together evaluate the pod -> workload join at their own phases
(`detectors.cadence`), on the real three-cluster lab: after the first cycle, one cluster's join a
cycle, not all three in every fourth; each source's still every 2 minutes, and the join's
questions wait only for the sources that said their scan asks them (`prom.fanin_plans.Part`)."""

from __future__ import annotations

import asyncio
import itertools
import re
import urllib.parse
from collections import Counter

import httpx

from promsoc.detectors.cadence import SCALED_EVERY, scales_with_pods
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.live_backend import LiveBackend
from tests.integration.test_fanin_lab import CLUSTERS, moments, settings_for


class Joins(httpx.AsyncBaseTransport):
    """Forwards to the real server and notes, of every request that joins pods to workloads (the
    owner chains), which clusters it asks for."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.asked: list[tuple[str, ...]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        text = urllib.parse.unquote_plus(str(request.url) + (await request.aread()).decode())
        if "kube_replicaset_owner" in text:
            self.asked.append(tuple(sorted(set(re.findall(r"cluster-\d+", text)))))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_grouped_sources_take_turns_at_the_join_each_every_two_minutes(clusters_lab: Lab) -> None:
    """Nine live cycles 30 s apart (the clock held at each moment): the first asks the three
    clusters' join in one request; then each cycle asks at most one cluster's (phases 0, 40 and
    80 s into every 120), each cluster's every 120 s; a join's question waits only for the sources
    that said their scan asks it, or have not said yet (with a 600 s window, a wait for the others
    would time out the test), and the scaled tiles carry the moment they were evaluated."""
    scaled = {d.id for d in load_detectors() if scales_with_pods(d)}
    transport = Joins()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    start = moments(clusters_lab)[0]
    now = [start]

    async def run() -> tuple[list[list[tuple[str, ...]]], list[list[list[DetectorResult]]], Counter[str]]:
        backend = LiveBackend(settings_for(clusters_lab), clients=clients)
        backend.clock = lambda: now[0]
        asked, results = [], []
        try:
            for index in range(9):
                now[0] = at = start + 30 * index
                if index == 1:
                    for fanin in backend.pool.groups:
                        fanin.window = 600.0
                for name in CLUSTERS:
                    backend.expect(name, at, None, 3600.0)  # as a poller: its cycle begins
                before = len(transport.asked)
                results.append(await asyncio.wait_for(
                    asyncio.gather(*(backend.evaluate(n, at) for n in CLUSTERS)), timeout=120.0))  # fmt: skip
                asked.append(transport.asked[before:])
                for name in CLUSTERS:
                    backend.expect(name, at, (), 3600.0)  # no sparkline: the cycle is over
            went = sum((f.went for f in backend.pool.groups), Counter[str]())
        finally:
            await backend.aclose()
        return asked, results, went

    asked, results, went = asyncio.run(run())
    assert asked[0] == [CLUSTERS]  # the first cycle: every tile, the three joins in one request
    assert all(len(cycle) <= 1 for cycle in asked[1:]), asked  # then one cluster's at most a cycle
    turns = Counter(cluster for cycle in asked[1:] for request in cycle for cluster in request)
    assert turns == dict.fromkeys(CLUSTERS, 2), asked  # 240 s: each cluster's join twice, in turn
    assert all(request and len(request) == 1 for cycle in asked[1:] for request in cycle), asked
    assert went["window"] == 0 and went["asked"] > 20, went  # no wait for those that said they do not ask
    for cluster, phase in zip(CLUSTERS, (0.0, 40.0, 80.0), strict=True):
        evaluated = sorted({r.evaluated_at for cycle in results for r in cycle[CLUSTERS.index(cluster)]
                            if r.detector in scaled})  # fmt: skip
        gaps = [b - a for a, b in itertools.pairwise(evaluated)]
        assert evaluated[0] == start and all(g == SCALED_EVERY for g in gaps[1:]), (cluster, evaluated)
        assert all((at - phase) % SCALED_EVERY < 30 for at in evaluated[1:]), (cluster, evaluated)
        assert not any(r.recorded for cycle in results for r in cycle[CLUSTERS.index(cluster)])  # raw: as at scale
