"""Poll cycles that say what they will ask (`prom.fanin_plans`), on a real three-cluster lab: a
question never asked before waits only for the members that said they will ask it, and goes in
one request as soon as they have asked; a member that says nothing is waited for as before."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from promsoc.config import Settings
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.fanin import FanIn, Group, asking_together
from promsoc.prom.fanin_plans import asking_as
from promsoc.prom.settings import Source
from promsoc.tui.backend import History
from promsoc.tui.live_backend import LiveBackend
from tests.integration.test_fanin_lab import CLUSTERS, api_requests, moments, settings_for

WINDOW = 3600.0


def test_a_first_time_question_waits_only_for_the_members_that_said_they_will_ask_it(clusters_lab: Lab) -> None:
    """cluster-1 and cluster-2 say their cycle will ask a kind of question, cluster-3 that it asks
    nothing more: their question, never asked before, goes as soon as both have asked, in one
    request (not after the window, 600 s here: the test would time out); one that cluster-2 then
    says it will not ask after all lets cluster-1's go at once, alone; a member that has said
    nothing is still waited for, up to the window."""
    group = Group("cluster", {c: c for c in CLUSTERS}, "")
    at = moments(clusters_lab)[0]
    pair, lone, last = "count by (namespace) (kube_pod_info)", "sum by (node) (kube_node_info)", "count(up)"

    async def main() -> tuple[list[Any], Any, int, dict[str, int], dict[str, int], float, int]:
        url = clusters_lab.url
        fanin = FanIn(group, PromClient(Source(name="group", url=url, timeout=60.0)), window=600.0)
        members = {c: PromClient(Source(name=c, url=url, selector=f'cluster="{c}"', timeout=60.0)) for c in CLUSTERS}
        for member in members.values():
            member.fanin = fanin

        def cycle(moment: float, asking: dict[str, set[str]]) -> None:
            for name in CLUSTERS:
                fanin.expect(name, moment, None)  # it begins
            for name, kinds in asking.items():
                fanin.expect(name, moment, kinds)  # its scan is over: what it will still ask

        try:
            with asking_together():
                cycle(at, {"cluster-1": {"pair"}, "cluster-2": {"pair"}, "cluster-3": set()})
                before = api_requests(url)
                with asking_as(at, "pair"):
                    answers = await asyncio.wait_for(asyncio.gather(
                        *(members[c].query_range(pair, at - 300, at, 60.0) for c in ("cluster-1", "cluster-2"))),
                        timeout=60.0)  # fmt: skip
                requests = api_requests(url) - before
                first = dict(fanin.went)
                cycle(at + 30, {"cluster-1": {"lone"}, "cluster-2": {"lone"}, "cluster-3": set()})
                with asking_as(at + 30, "lone"):
                    asked = asyncio.ensure_future(members["cluster-1"].query(lone, at + 30))
                    await asyncio.sleep(0.5)
                    assert not asked.done()  # cluster-2 said it would ask it: waited for
                    fanin.done("cluster-2", at + 30, "lone")  # it did not after all (a kept answer)
                    alone = await asyncio.wait_for(asked, timeout=60.0)
                then = dict(fanin.went)
                fanin.window = 1.0
                cycle(at + 60, {"cluster-1": {"last"}, "cluster-2": {"last"}})  # cluster-3 has not said yet
                began = time.perf_counter()
                with asking_as(at + 60, "last"):
                    await asyncio.gather(*(members[c].query(last, at + 60) for c in ("cluster-1", "cluster-2")))
                waited = time.perf_counter() - began
        finally:
            await fanin.aclose()
            await asyncio.gather(*(m.aclose() for m in members.values()))
        return answers, alone, requests, first, then, waited, fanin.merged

    async def apart() -> tuple[list[Any], Any]:
        async with PromClient(Source(name="c1", url=clusters_lab.url, selector='cluster="cluster-1"')) as c1, \
                PromClient(Source(name="c2", url=clusters_lab.url, selector='cluster="cluster-2"')) as c2:  # fmt: skip
            own = [await client.query_range(pair, at - 300, at, 60.0) for client in (c1, c2)]
            return own, await c1.query(lone, at + 30)

    answers, alone, requests, first, then, waited, merged = asyncio.run(main())
    assert first == {"asked": 1}  # went when both had asked, cluster-3 not waited for
    assert requests == 1  # Prometheus's own counter: one request for the two
    assert then == {"asked": 1, "said": 1}  # cluster-2 said it was done: cluster-1's went, alone
    assert waited >= 1.0  # cluster-3 had not said: waited for, as before
    assert merged == 2  # the pair, and the last pair after the window; the lone question alone
    own, own_alone = asyncio.run(apart())
    assert answers == own and answers[0].series and answers[1].series
    assert alone == own_alone and alone.samples


async def console_cycle(backend: LiveBackend, moment: float, due: dict[str, list[str]] | None,
                        requests: dict[str, int], url: str) -> dict[str, list[History]]:  # fmt: skip
    """One cycle as the console's pollers drive the backend: each source says it begins, scans,
    says which sparklines it will fetch (`due`; None: every one), fetches them, says it is done.
    `requests`: the sparklines' requests, of each source asked alone (one after the other), or of
    all of them asked together."""
    names = list(backend.sources)
    for name in names:
        backend.expect(name, moment, None, WINDOW)
    results = await asyncio.gather(*(backend.evaluate(name, moment) for name in names))
    asked = {n: [r.detector for r in results[0]] if due is None else due[n] for n in names}
    for name in names:
        backend.expect(name, moment, asked[name], WINDOW)
    histories: dict[str, list[History]] = {}
    if backend.pool.groups:
        before = api_requests(url)
        found = await asyncio.wait_for(asyncio.gather(
            *(backend.history(n, d, moment, WINDOW) for n in names for d in asked[n])), timeout=60.0)  # fmt: skip
        requests["together"] = requests.get("together", 0) + api_requests(url) - before
        for name in names:
            histories[name], found = found[: len(asked[name])], found[len(asked[name]) :]
    else:
        for name in names:
            before = api_requests(url)
            histories[name] = [await backend.history(name, d, moment, WINDOW) for d in asked[name]]
            requests[name] = requests.get(name, 0) + api_requests(url) - before
    for name in names:
        backend.expect(name, moment, (), WINDOW)
    return histories


def test_the_console_refreshes_sparklines_some_sources_see_without_waiting_for_the_others(clusters_lab: Lab) -> None:
    """Three grouped sources, driven as the console's pollers drive `LiveBackend`. After a first
    cycle (every sparkline), cluster-1 and cluster-2 refresh the sparklines of their tiles in
    view every 30 s, cluster-3 another one, and in the third cycle also one of theirs, which it
    last fetched in the first cycle (other ranges than theirs): ranges nobody asked before, every
    time. Nothing waits for the window (600 s from the second cycle on: the test would time out),
    cluster-2's sparklines cost no request of their own (the sparklines ask what cluster-1 and
    cluster-3 ask alone, by Prometheus's counter), and every sparkline is the source's own."""
    at = moments(clusters_lab)[1]
    seen = ["ingress-bruteforce", "container-cpu-outlier", "volume-inode-anomaly"]
    second = {"cluster-1": seen, "cluster-2": seen, "cluster-3": ["falco-critical-events"]}
    third = {**second, "cluster-3": ["falco-critical-events", "ingress-bruteforce"]}

    async def run(settings: Settings) -> tuple[list[dict[str, list[History]]], dict[str, int], Counter[str]]:
        backend = LiveBackend(settings)
        requests: dict[str, int] = {}
        try:
            await console_cycle(backend, at, None, {}, clusters_lab.url)
            for fanin in backend.pool.groups:
                fanin.window = 600.0
            before = sum((f.went for f in backend.pool.groups), Counter[str]())
            found = [await console_cycle(backend, at + 30 * (index + 1), due, requests, clusters_lab.url)
                     for index, due in enumerate((second, third))]  # fmt: skip
            went = sum((f.went for f in backend.pool.groups), Counter[str]()) - before
        finally:
            await backend.aclose()
        return found, requests, went

    grouped, together, went = asyncio.run(run(settings_for(clusters_lab)))
    alone, apart, _ = asyncio.run(run(settings_for(clusters_lab, coalesce=False)))
    assert went["window"] == 0 and went["asked"] > 10, went
    assert apart["cluster-1"] == apart["cluster-2"] > 0 and apart["cluster-3"] > 0, apart
    assert together["together"] == apart["cluster-1"] + apart["cluster-3"], (together, apart)
    assert grouped == alone
    assert all(h.points for h in grouped[1]["cluster-1"]) and grouped[1]["cluster-3"][1].points
