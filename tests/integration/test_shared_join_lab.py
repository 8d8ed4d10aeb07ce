"""Signals sharing the pod -> workload map asked as one query (detectors.shared_join), against the
lab's real Prometheus: the same series and values as each asked alone, in one request; a join
Prometheus refuses, or an answer over the response cap, asks each alone."""

from __future__ import annotations

import asyncio
import math

import httpx

from promsoc.detectors.batch import Outcome, run_queries
from promsoc.detectors.local_band import local_band
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.shared_join import run_shared, shared
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.errors import BadQuery
from promsoc.prom.settings import Source
from promsoc.prom.types import InstantResult
from promsoc.promql.batch import combine


class Counted(httpx.AsyncHTTPTransport):
    """The real server's answers; counts the instant queries sent."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.queries += request.url.path.endswith("/api/v1/query")
        return await super().handle_async_request(request)


def signals() -> dict[str, str]:
    return {d.id: band.signal for d in load_detectors() if (band := local_band(d)) is not None}


def answer(outcome: Outcome) -> list[tuple[list[tuple[str, str]], float]]:
    result = outcome[0]
    assert isinstance(result, InstantResult), result
    return sorted((sorted(s.labels.items()), s.value) for s in result.samples)


def test_shared_signals_answer_as_each_alone_at_every_incident_and_quiet_time(lab: Lab) -> None:
    queries = signals()
    assert len(shared(queries)) == 1
    times = [inc.eval_at for inc in lab.scenario.incidents] + lab.scenario.quiet_times

    async def run() -> tuple[int, int]:
        transport = Counted()
        compared = 0
        source = Source(name="lab", url=lab.url)
        async with PromClient(source, transport=transport) as client:
            gate = asyncio.Semaphore(8)
            for at in times:
                asked = transport.queries
                together = await run_shared(client, queries, at, gate)
                assert transport.queries - asked == 1  # the two signals in one request
                alone = await run_queries(client, queries, at, gate, batch=False)
                for key in queries:
                    want = answer(alone[key])
                    assert answer(together[key]) == want, (key, at)
                    assert want and all(not math.isnan(value) for _, value in want)
                    compared += len(want)
        return compared, len(times)

    compared, moments = asyncio.run(run())
    assert compared > 200 * moments  # every pod of both signals, at every moment


def test_a_join_prometheus_refuses_asks_each_alone(lab: Lab) -> None:
    """The left side's `workload` labels collide once group_left sets them: Prometheus refuses
    the combined query ("multiple matches for labels"), and only that signal's outcome is the error."""

    def pod(workload: str | None) -> str:
        base = 'label_replace(label_replace(vector(1), "namespace", "a", "", ""), "pod", "p", "", "")'
        return f'label_replace({base}, "workload", "{workload}", "", "")' if workload else base

    join = "* on (namespace, pod) group_left (workload) (label_replace(" + pod(None) + ', "workload", "w", "", ""))'
    queries = {"clashes": f"({pod(None)} or {pod('x')}) {join}", "fine": f"({pod(None)}) {join}"}
    assert len(shared(queries)) == 1

    async def run() -> dict[str, Outcome]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            return await run_shared(client, queries, lab.anchor, asyncio.Semaphore(4))

    outcomes = asyncio.run(run())
    refused = outcomes["clashes"][0]
    assert isinstance(refused, BadQuery) and "multiple matches" in str(refused)
    assert answer(outcomes["fine"]) == [([("namespace", "a"), ("pod", "p"), ("workload", "w")], 1.0)]


def test_a_shared_answer_over_the_response_cap_asks_each_alone(lab: Lab) -> None:
    queries = signals()
    at = lab.scenario.quiet_times[0]

    def size(promql: str) -> int:
        response = httpx.post(f"{lab.url}/api/v1/query", data={"query": promql, "time": str(at)}, timeout=60)
        return len(response.content)

    (join, members), = shared(queries).items()
    largest = max(size(promql) for promql in queries.values())
    together = size(f"({combine(members)}) {join}")
    assert together > largest
    cap = (largest + together) // 2

    async def run() -> tuple[dict[str, Outcome], dict[str, Outcome]]:
        async with PromClient.from_url(lab.url, name="lab") as whole, \
                PromClient.from_url(lab.url, name="lab", max_response_bytes=cap) as capped:  # fmt: skip
            gate = asyncio.Semaphore(4)
            return await run_shared(capped, queries, at, gate), await run_queries(whole, queries, at, gate)

    got, want = asyncio.run(run())
    for key in queries:
        assert answer(got[key]) == answer(want[key]), key
