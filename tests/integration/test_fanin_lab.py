"""Sources sharing a Prometheus, asked once (`prom.fanin`), on a real three-cluster lab: every
merged query is valid and answers each cluster exactly as its own query does, the console's
results and sparklines are the same grouped or alone, and three sources cost one request a query."""

from __future__ import annotations

import asyncio
import math
import re
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from promsoc.cli.demo import sources_config
from promsoc.config import Settings, load_file
from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.errors import BadQuery, Unreachable
from promsoc.prom.fanin import FanIn, Group, asking_together
from promsoc.prom.group_by import plan_for
from promsoc.prom.selector import inject_matchers
from promsoc.prom.settings import Source
from promsoc.prom.sources import Sources
from promsoc.tui.live_backend import LiveBackend
from tests.unit.promql_corpus import pack_queries

CLUSTERS = ("cluster-1", "cluster-2", "cluster-3")


def settings_for(lab: Lab, *, coalesce: bool = True) -> Settings:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clusters.yaml"
        path.write_text(sources_config(lab.url, len(CLUSTERS)))
        settings = load_file(path)
    return replace(settings, sources=tuple(replace(s, coalesce=coalesce, timeout=60.0) for s in settings.sources))


def moments(lab: Lab) -> list[float]:
    """Moments when each cluster has its own incident running (findings differ per cluster)."""
    wanted = (("cluster-1", "bruteforce"), ("cluster-2", "crypto-miner"), ("cluster-3", "secrets-denied"))
    return [lab.scenarios[owner].incident(name).eval_at for owner, name in wanted]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_every_pack_query_merged_answers_each_cluster_as_its_own(clusters_lab: Lab) -> None:
    """The real Prometheus accepts every rewritten query, and its answer split by `cluster` is,
    cluster by cluster, the answer of that cluster's own query (labels and values)."""
    group = Group("cluster", {c: c for c in CLUSTERS}, "")
    at = moments(clusters_lab)[0]

    async def check(client: PromClient, gate: asyncio.Semaphore, name: str, promql: str) -> list[str]:
        plan = plan_for(promql, "cluster")
        if isinstance(plan, str):
            return []
        async with gate:
            merged = await client.query(inject_matchers(plan.promql, group.selector(CLUSTERS)), at)
            alone = {c: await client.query(inject_matchers(promql, f'cluster="{c}"'), at) for c in CLUSTERS}
        problems = []
        for cluster, own in alone.items():
            part = {}
            for sample in merged.samples:
                if sample.labels.get("cluster") == cluster:
                    labels = dict(sample.labels)
                    if not plan.keep(labels):
                        del labels["cluster"]
                    part[tuple(sorted(labels.items()))] = sample.value
            expected = {tuple(sorted(s.labels.items())): s.value for s in own.samples}
            if part.keys() != expected.keys() or not all(same(part[k], v) for k, v in expected.items()):
                problems.append(f"{name} in {cluster}: {sorted(part.items())[:3]} != {sorted(expected.items())[:3]}")
        return problems

    async def main() -> tuple[list[str], int]:
        gate = asyncio.Semaphore(4)
        source = Source(name="lab", url=clusters_lab.url, timeout=60.0)
        async with PromClient(source) as client:
            corpus = pack_queries()
            found = await asyncio.gather(*(check(client, gate, n, q) for n, q in corpus.items()))
        return [p for problems in found for p in problems], len(corpus)

    problems, count = asyncio.run(main())
    assert count > 200
    assert problems == []


async def console_view(settings: Settings, at: float) -> tuple[list[Any], list[Any], LiveBackend]:
    backend = LiveBackend(settings)
    try:
        names = list(backend.sources)
        results = await asyncio.gather(*(backend.evaluate(name, at) for name in names))
        detectors = [r.detector for r in results[0]]
        histories = await asyncio.gather(*(backend.history(n, d, at, 3600.0) for n in names for d in detectors))
    finally:
        await backend.aclose()
    return results, histories, backend


def test_grouped_sources_see_in_the_console_what_each_sees_alone(clusters_lab: Lab) -> None:
    """Every built-in detector's status and findings, and every sparkline (points, band, firing
    moments), per source, merged and per source, at moments each cluster has its own incident."""
    for at in moments(clusters_lab):
        grouped, grouped_histories, backend = asyncio.run(console_view(settings_for(clusters_lab), at))
        alone, alone_histories, solo = asyncio.run(console_view(settings_for(clusters_lab, coalesce=False), at))
        assert not solo.pool.groups
        [fanin] = backend.pool.groups
        assert fanin.merged > 40 and fanin.answered == 3 * fanin.merged  # nobody asked alone
        for mine, theirs in zip(grouped, alone, strict=True):
            assert len(mine) == 17
            for a, b in zip(mine, theirs, strict=True):
                assert (a.source, a.detector, a.status, a.missing, a.note, a.error, a.omitted, a.warnings) == (
                    b.source, b.detector, b.status, b.missing, b.note, b.error, b.omitted, b.warnings)  # fmt: skip
                assert [(f.labels, f.value) for f in a.findings] == [(f.labels, f.value) for f in b.findings]
        assert grouped_histories == alone_histories
        firing = {(r.source, r.detector) for results in grouped for r in results if r.status.value == "firing"}
        assert {source for source, _ in firing} == set(CLUSTERS), firing  # each cluster its own findings


def api_requests(url: str) -> int:
    """Queries the server has answered (its own /metrics, which is not an API request)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        text = response.read().decode()
    pattern = re.compile(r'^prometheus_http_requests_total\{[^}]*handler="/api/v1/query(?:_range)?"[^}]*\} (\S+)$',
                         re.M)  # fmt: skip
    return int(sum(float(value) for value in pattern.findall(text)))


def test_three_grouped_sources_cost_one_request_per_query(clusters_lab: Lab) -> None:
    settings = settings_for(clusters_lab)
    detectors = load_detectors()
    at = moments(clusters_lab)[1]

    async def scan(sources: tuple[Source, ...]) -> int:
        before = api_requests(clusters_lab.url)
        async with Sources(sources) as pool:
            with asking_together():
                await asyncio.gather(*(evaluate(detectors, pool[n], n, at) for n in pool.names))
        return api_requests(clusters_lab.url) - before

    one = asyncio.run(scan(settings.sources[:1]))
    three = asyncio.run(scan(settings.sources))
    apart = asyncio.run(scan(tuple(replace(s, coalesce=False) for s in settings.sources)))
    assert one > 3
    assert three == one
    assert apart == 3 * one


def test_a_failing_merged_query_fails_each_source_with_its_own_name(clusters_lab: Lab) -> None:
    settings = settings_for(clusters_lab)
    dead = tuple(replace(s, url="http://127.0.0.1:9", timeout=5.0) for s in settings.sources)
    at = moments(clusters_lab)[0]

    async def ask(sources: tuple[Source, ...], promql: str) -> dict[str, Any]:
        async with Sources(sources) as pool:
            with asking_together():
                return await pool.run(lambda client: client.query(promql, at))

    refused = asyncio.run(ask(dead, "sum(up)"))
    assert all(isinstance(refused[n], Unreachable) and refused[n].source == n for n in refused), refused
    assert len(refused) == 3
    bad = asyncio.run(ask(settings.sources, "sum(rate(up[5m])"))  # not splittable: each alone, as before
    assert all(isinstance(bad[n], BadQuery) and bad[n].source == n for n in bad), bad
    # merged, refused at run time (duplicates on the one side): each asks alone, and is refused too
    wrong = asyncio.run(ask(settings.sources, "kube_pod_info * on (nothing) group_left kube_pod_info"))
    assert all(isinstance(wrong[n], BadQuery) and wrong[n].source == n for n in wrong), wrong


def test_what_one_source_alone_asks_or_what_overflows_its_cap_is_its_own_query(clusters_lab: Lab) -> None:
    """A question only one member asks is asked alone (after the short wait); a member whose part
    of a merged answer is over its `max_series` asks alone too: both answers are its own query's."""
    settings = settings_for(clusters_lab)
    at = moments(clusters_lab)[2]
    promql = "sum by (namespace) (kube_pod_info)"

    async def main(sources: tuple[Source, ...]) -> tuple[Any, list[Any], list[Any], tuple[int, int]]:
        async with Sources(sources) as pool:
            with asking_together():
                lone = await pool["cluster-2"].query(promql, at)
                capped = await asyncio.gather(
                    *(pool[n].query_range("kube_pod_info", at - 60, at, 15.0, max_series=5) for n in pool.names))
                fine = await asyncio.gather(
                    *(pool[n].query_range(promql, at - 60, at, 15.0, max_series=500) for n in pool.names))
            counts = (pool.groups[0].merged, pool.groups[0].answered) if pool.groups else (0, 0)
        return lone, capped, fine, counts

    lone, capped, fine, counts = asyncio.run(main(settings.sources))
    apart = tuple(replace(s, coalesce=False) for s in settings.sources)
    lone_apart, capped_apart, fine_apart, _ = asyncio.run(main(apart))
    assert lone == lone_apart and lone.samples
    assert capped == capped_apart
    assert all(len(r.series) == 5 and r.omitted > 100 for r in capped)
    assert fine == fine_apart
    assert counts == (2, 3)  # the capped question and the fine one were merged; only the fine one answered


def test_a_member_that_has_not_met_the_others_lately_is_not_waited_for(clusters_lab: Lab) -> None:
    """Pollers that ask at other moments (the served console's) do not make each other wait: once
    the first seconds are past, only members recently answered together are waited for."""
    now = [0.0]
    group = Group("cluster", {c: c for c in CLUSTERS}, "")
    at = moments(clusters_lab)[0]

    async def main() -> tuple[float, int]:
        url = clusters_lab.url
        fanin = FanIn(group, PromClient(Source(name="group", url=url)), window=1.0, clock=lambda: now[0])
        members = {c: PromClient(Source(name=c, url=url, selector=f'cluster="{c}"')) for c in CLUSTERS}
        for member in members.values():
            member.fanin = fanin
        try:
            with asking_together():
                began = time.perf_counter()
                await members["cluster-1"].query("count(kube_pod_info)", at)  # the others may come: waits
                waited = time.perf_counter() - began
                await asyncio.gather(*(m.query("count(kube_pod_info)", at) for m in members.values()))  # together
                now[0] = 1000.0  # long after they last met: a lone question is asked at once, not after 1 s
                await asyncio.wait_for(members["cluster-3"].query("count(kube_pod_info)", at - 60), timeout=0.9)
        finally:
            await fanin.aclose()
            await asyncio.gather(*(m.aclose() for m in members.values()))
        return waited, fanin.merged

    waited, merged = asyncio.run(main())
    assert waited >= 1.0
    assert merged == 1


def test_a_question_some_members_ask_goes_as_soon_as_they_have_asked(clusters_lab: Lab) -> None:
    """Who asked a question last time is who is waited for next time: a question only cluster-1
    and cluster-2 ask (their tiles in view) waits the window the first time (cluster-3 might ask it
    too), then goes once both have asked, in one request; one only cluster-3 asks is then asked
    alone at once. The answers are each source's own query's."""
    settings = settings_for(clusters_lab)
    at = moments(clusters_lab)[0]
    pair, lone = "count by (namespace) (kube_pod_info)", "sum by (node) (kube_node_info)"

    async def cycle(pool: Sources, when: float) -> list[Any]:
        return await asyncio.gather(
            *(pool[n].query_range(pair, when - 300, when, 60.0) for n in ("cluster-1", "cluster-2")),
            pool["cluster-3"].query(lone, when))  # fmt: skip

    async def main() -> tuple[list[Any], dict[str, int], dict[str, int], int, int]:
        async with Sources(settings.sources) as pool:
            [fanin] = pool.groups
            with asking_together():
                await cycle(pool, at - 600)
                first = dict(fanin.went)
                fanin.window = 600.0  # from now on, a wait for a member that does not ask outlasts the test
                before = api_requests(clusters_lab.url)
                answers = await asyncio.wait_for(cycle(pool, at), timeout=60.0)
                requests = api_requests(clusters_lab.url) - before
            return answers, first, dict(fanin.went), fanin.merged, requests

    async def apart() -> list[Any]:
        async with Sources(tuple(replace(s, coalesce=False) for s in settings.sources)) as pool:
            return await cycle(pool, at)

    answers, first, went, merged, requests = asyncio.run(main())
    assert first == {"window": 2}  # nobody knew yet who would ask: cluster-3 was waited for, and the others
    assert went == {"window": 2, "asked": 2}  # then each went as soon as its askers had asked
    assert merged == 2 and requests == 2  # the pair's question merged both times; the lone one alone
    assert answers == asyncio.run(apart())
    assert answers[0].series and answers[2].samples


def test_a_cursor_held_still_asks_the_same_moment_together_every_cycle(clusters_lab: Lab) -> None:
    """Cycles at the same moment (the time cursor held on a past moment) are separate askings:
    the second cycle's question waits for the three members again and is merged again."""
    now = [0.0]
    group = Group("cluster", {c: c for c in CLUSTERS}, "")
    at = moments(clusters_lab)[1]

    async def main() -> tuple[int, dict[str, int]]:
        url = clusters_lab.url
        fanin = FanIn(group, PromClient(Source(name="group", url=url)), window=600.0, refresh=1000.0,
                      clock=lambda: now[0])  # fmt: skip
        members = [PromClient(Source(name=c, url=url, selector=f'cluster="{c}"')) for c in CLUSTERS]
        for member in members:
            member.fanin = fanin
        try:
            with asking_together():
                for cycle in range(3):
                    now[0] = 700.0 * cycle  # a window (600 s here) past the last
                    ask = asyncio.gather(*(m.query("count(kube_pod_info)", at) for m in members))
                    await asyncio.wait_for(ask, timeout=60.0)
        finally:
            await fanin.aclose()
            await asyncio.gather(*(m.aclose() for m in members))
        return fanin.merged, dict(fanin.went)

    assert asyncio.run(main()) == (3, {"asked": 3})
