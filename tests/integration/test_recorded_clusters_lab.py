"""The recording rules split by cluster on the real three-cluster lab (`clusters_lab`, rules exported
`--recording --by cluster`, cluster-3's markers never recorded): a source narrowed to cluster-1 or
cluster-2 reads its own cluster's recorded blocks and gets the raw path's statuses and findings;
cluster-3's source, without its markers, and a source that sees every cluster keep the raw
queries and `promsoc check` says so; sources asked together (`prom.fanin`) still merge and split."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace

from promsoc.cli.check import RAW, RECORDED, SPANS, _check_source, render
from promsoc.detectors.engine import can_read_recorded, evaluate, query_for, recorded_blocks, recorded_state
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.fanin import asking_together
from promsoc.prom.group_by import plan_for
from promsoc.prom.settings import Source
from promsoc.prom.sources import Sources
from promsoc.prom.types import InstantResult
from promsoc.promql import recording
from tests.integration.conftest import CLUSTER_WITHOUT_MARKERS
from tests.integration.test_fanin_lab import CLUSTERS, api_requests, settings_for

READS = {"container-cpu-outlier", "pod-egress-outlier", "falco-blind"}  # the 1h band: too young here
WITH_MARKERS = tuple(c for c in CLUSTERS if c != CLUSTER_WITHOUT_MARKERS)


def source(lab: Lab, cluster: str | None) -> Source:
    selector = f'cluster="{cluster}"' if cluster else ""
    return Source(name=cluster or "all", url=lab.url, selector=selector, timeout=60.0)


async def rules_evaluated(lab: Lab) -> float:
    """A moment the rules had been evaluated at, for every cluster that has markers."""
    blocks = recorded_blocks(load_detectors(), presence=True)
    deadline = time.monotonic() + 90
    for cluster in WITH_MARKERS:
        async with PromClient(source(lab, cluster)) as client:
            while not (await recorded_state(client, time.time() - 12, blocks)).readable:
                assert time.monotonic() < deadline, f"{cluster}: the recording rules never produced a marker"
                await asyncio.sleep(1)
    return time.time() - 12  # two rule intervals ago: the scrapes and the rules have passed it


def answers(result: InstantResult) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in result.samples}


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=0.05, abs_tol=1e-9)


RULE_INTERVAL = 10.0  # the clusters lab evaluates its rules every 10 s (tests/integration/conftest.py)


def was_then(value: float, raw: list[float]) -> bool:
    """`value` is one of the raw signal's values over the rule's last evaluations (5 % for late scrapes)."""
    return bool(raw) and any(close(value, r) for r in raw)


def same(mine: DetectorResult, theirs: DetectorResult) -> bool:
    return (
        (mine.source, mine.detector, mine.status, mine.missing) == (
            theirs.source, theirs.detector, theirs.status, theirs.missing)
        and [f.labels for f in mine.findings] == [f.labels for f in theirs.findings]
        and all(close(a.value, b.value) for a, b in zip(mine.findings, theirs.findings, strict=True))
    )  # fmt: skip


def agree(read: list[DetectorResult], *raws: list[DetectorResult]) -> None:
    """Each result of `read` is the same as in one of `raws` (the raw answers at the moments it
    may stand for: the query's, and the rules' last evaluation's, up to 10 s earlier)."""
    for index, mine in enumerate(read):
        assert any(same(mine, raw[index]) for raw in raws), (mine, [raw[index] for raw in raws])


def test_each_cluster_reads_its_own_recorded_blocks_and_answers_as_raw(clusters_lab: Lab) -> None:
    detectors = load_detectors()
    blocks = recorded_blocks(detectors, presence=True)
    siblings = [d for d in detectors if d.id in ("container-cpu-outlier", "pod-egress-outlier")]

    async def run() -> None:
        at = await rules_evaluated(clusters_lab)
        for cluster in CLUSTERS:
            async with PromClient(source(clusters_lab, cluster)) as client:
                state = await recorded_state(client, at, blocks)
                read = await evaluate(detectors, client, cluster, at)
                raw = await evaluate(detectors, client, cluster, at, recorded=False)
                stamps = (await client.query(f"max(timestamp({recording.MARKER}))", at)).samples
                last = await evaluate(detectors, client, cluster, stamps[0].value if stamps else at, recorded=False)
                assert all(len(r) == len(detectors) for r in (read, raw, last))
                agree(read, raw, last)
                assert not any(r.recorded for r in raw)
                if cluster == CLUSTER_WITHOUT_MARKERS:  # no marker of its own: every query raw
                    assert state.readable == () and state.spans is None
                    assert not any(r.recorded for r in read)
                    continue
                readable = {b.record for b in state.readable}
                assert readable >= {recording.POD_WORKLOAD, recording.PRESENCE, "promsoc:node_pods:count"}
                assert all(b.by == "cluster" for b in state.readable)
                assert {r.detector for r in read if r.recorded} == READS, cluster
                for det in siblings:  # every pod of this cluster, its workload, on both paths
                    assert det.signal is not None
                    plain = answers(await client.query(det.signal, at))
                    recorded = answers(await client.query(recording.rewrite(det.signal, state.readable), at))
                    assert plain and plain.keys() == recorded.keys(), (cluster, det.id)
                    # the rule ran within two intervals before `at`: its value is the raw signal's then
                    moments = await client.query_range(det.signal, at - 2 * RULE_INTERVAL, at, 1)
                    then = {tuple(sorted(s.labels.items())): [v for _, v in s.points] for s in moments.series}
                    assert all(was_then(recorded[k], then.get(k, [])) for k in plain), (cluster, det.id)

    asyncio.run(run())


def test_check_says_which_path_each_cluster_source_gives(clusters_lab: Lab) -> None:
    detectors = load_detectors()

    async def rows_of(cluster: str | None) -> str:
        async with PromClient(source(clusters_lab, cluster)) as client:
            return render(await _check_source(client, cluster or "all", detectors), len(detectors))

    async def run() -> dict[str | None, str]:
        await rules_evaluated(clusters_lab)
        return {c: await rows_of(c) for c in (*CLUSTERS, None)}

    shown = asyncio.run(run())
    for cluster in WITH_MARKERS:
        assert shown[cluster].count(RECORDED) == 3 and RAW not in shown[cluster], shown[cluster]
    assert shown[CLUSTER_WITHOUT_MARKERS].count(RAW) == 4 and RECORDED not in shown[CLUSTER_WITHOUT_MARKERS]
    # no selector: it sees the markers of two clusters, and a cluster's blocks are not its answer
    assert shown[None].count(SPANS.format(label="cluster", count=2)) == 4, shown[None]
    assert RECORDED not in shown[None]


def test_sources_asked_together_read_the_recorded_blocks_as_each_alone(clusters_lab: Lab) -> None:
    detectors = load_detectors()
    settings = settings_for(clusters_lab)

    async def scan(sources: tuple[Source, ...], at: float) -> tuple[list[list[DetectorResult]], int]:
        before = api_requests(clusters_lab.url)
        async with Sources(sources) as pool:
            with asking_together():
                found = await asyncio.gather(*(evaluate(detectors, pool[n], n, at) for n in pool.names))
        return list(found), api_requests(clusters_lab.url) - before

    async def run() -> None:
        at = await rules_evaluated(clusters_lab)
        together, asked = await scan(settings.sources, at)
        alone, apart = await scan(tuple(replace(s, coalesce=False) for s in settings.sources), at)
        for mine, theirs in zip(together, alone, strict=True):
            agree(mine, theirs)
            assert [r.recorded for r in mine] == [r.recorded for r in theirs]
        reading = {r.source for results in together for r in results if r.recorded}
        assert reading == set(WITH_MARKERS)
        async with PromClient(source(clusters_lab, WITH_MARKERS[0])) as client:
            state = await recorded_state(client, at, recorded_blocks(detectors, presence=True))
        asked_recorded = {d.id: query_for(d, state.readable) for d in detectors if can_read_recorded(d)}
        asked_recorded = {key: promql for key, promql in asked_recorded.items() if "promsoc:" in promql}
        assert set(asked_recorded) == READS
        for key, promql in asked_recorded.items():  # what cluster-1 and cluster-2 ask recorded merges
            assert not isinstance(plan_for(promql, "cluster"), str), key
        # cluster-1 and cluster-2 ask the recorded queries together, cluster-3 the raw ones
        assert asked < apart, (asked, apart)

    asyncio.run(run())
