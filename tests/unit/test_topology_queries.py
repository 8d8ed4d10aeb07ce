"""The querying half against a scripted client: sparse-history fallback, vanished pods, meshes."""

from __future__ import annotations

from collections.abc import Callable

from promsoc.prom.types import InstantResult, RangeResult, Sample
from promsoc.topology.queries import QueryOptions, load_topology
from promsoc.topology.synthetic import job_sample, node_sample, pod_samples, rs_sample

Answer = Callable[[str, float | None], list[Sample]]


class ScriptedClient:
    """Answers by the first matching substring; records every query."""

    def __init__(self, answers: list[tuple[str, Answer]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def query_range(self, promql: str, start: float, end: float, step: float | str) -> RangeResult:
        raise AssertionError(f"no range query expected, got {promql!r}")

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        self.asked.append(promql)
        for needle, answer in self.answers:
            if needle in promql:
                return InstantResult("vector", answer(promql, at))
        return InstantResult("vector", [])


def _seen(samples: list[Sample], last_seen: float) -> list[Sample]:
    """The same label sets with the value a `timestamp()` query returns: when each was last seen."""
    return [Sample(s.labels, last_seen, 0.0) for s in samples]


A = pod_samples("shop", "web-rs1-a", "w1", "ReplicaSet", "web-rs1")
B = pod_samples("shop", "web-rs2-b", "w2", "ReplicaSet", "web-rs2")


def _cluster_answers(plain: bool) -> list[tuple[str, Answer]]:
    """Pod A vanished (last seen one 30m step before B's newest snapshot)."""
    newest, older = 10_000.0, 10_000.0 - 1800

    def pods(q: str, at: float | None) -> list[Sample]:
        if q.startswith("timestamp(") and not plain:
            return []
        return _seen([A[0]], older) + _seen([B[0]], newest)

    def owners(q: str, at: float | None) -> list[Sample]:
        if q.startswith("timestamp(") and not plain:
            return []
        return _seen([A[1]], older) + _seen([B[1]], newest)

    return [
        ("kube_pod_info", pods),
        ("kube_pod_owner", owners),
        ("kube_replicaset_owner", lambda q, at: _seen([rs_sample("shop", "web-rs2", "web")], 1e4)),
        ("kube_node_info", lambda q, at: _seen([node_sample("w1"), node_sample("w2")], 1e4)),
        ("kube_job_owner", lambda q, at: _seen([job_sample("shop", "report-28", "report")], 1e4)),
    ]


async def test_sparse_history_falls_back_to_a_window_and_drops_vanished_pods() -> None:
    client = ScriptedClient(_cluster_answers(plain=False))
    topo = await load_topology(client, 10_500.0, QueryOptions(window="3h", resolution="5m"))
    assert sorted(topo.pods) == [("shop", "web-rs2-b")]
    assert list(topo.workloads) == ["shop/Deployment/web"]
    assert topo.snapshot_at == 10_000.0
    assert any(q == "max_over_time(timestamp(kube_pod_info)[3h:5m])" for q in client.asked)
    assert topo.edges == [] and topo.mesh is None


async def test_fresh_data_needs_no_subquery() -> None:
    client = ScriptedClient(_cluster_answers(plain=True))
    topo = await load_topology(client, 10_010.0)
    assert sorted(topo.pods) == [("shop", "web-rs2-b")]
    assert not any("max_over_time" in q for q in client.asked)
    assert topo.warnings == []


async def test_no_data_at_all_is_a_warning_not_an_error() -> None:
    topo = await load_topology(ScriptedClient([]), 10_000.0)
    assert topo.pods == {} and topo.snapshot_at is None
    assert topo.warnings and "no kube_pod_info" in topo.warnings[0]


async def test_edges_merge_istio_and_linkerd() -> None:
    istio = Sample(
        {
            "source_workload_namespace": "shop",
            "source_workload": "web",
            "destination_workload_namespace": "shop",
            "destination_workload": "cart",
            "connection_security_policy": "mutual_tls",
        },
        3.0,
        0.0,
    )
    linkerd = Sample(
        {
            "namespace": "data",
            "deployment": "etl",
            "dst_namespace": "data",
            "dst_statefulset": "redis",
            "tls": "true",
        },
        5.0,
        0.0,
    )
    client = ScriptedClient(
        [
            ('istio_requests_total{reporter="destination"}', lambda q, at: [istio]),
            ("rate(request_total", lambda q, at: [linkerd]),
        ]
    )
    topo = await load_topology(client, 1000.0)
    assert topo.mesh == "istio+linkerd"
    assert [e.key for e in topo.edges] == [("data/etl", "data/redis"), ("shop/web", "shop/cart")]
    assert all("[10m]" in q for q in client.asked if "rate(" in q)


async def test_traffic_falls_back_to_a_wide_rate_window() -> None:
    def wide_only(q: str, at: float | None) -> list[Sample]:
        if "[3h]" not in q:
            return []
        labels = {
            "source_workload_namespace": "a",
            "source_workload": "x",
            "destination_workload_namespace": "a",
            "destination_workload": "y",
            "connection_security_policy": "none",
        }
        return [Sample(labels, 1.0, 0.0)]

    client = ScriptedClient([('istio_requests_total{reporter="destination"}', wide_only)])
    topo = await load_topology(client, 1000.0)
    assert [(e.key, e.mtls) for e in topo.edges] == [(("a/x", "a/y"), False)]
