"""Samples -> model: owner resolution, nodes, snapshots and mesh edges."""

from __future__ import annotations

from promsoc.prom.types import Sample
from promsoc.topology.build import build_topology, istio_edges, latest_snapshot, linkerd_edges
from promsoc.topology.model import UNSCHEDULED, Topology
from promsoc.topology.synthetic import job_sample, node_sample, pod_samples, rs_sample


def _build(
    *pods: tuple[Sample, Sample], rs: tuple[Sample, ...] = (), nodes: tuple[Sample, ...] = ()
) -> Topology:
    return build_topology(100.0, [p[0] for p in pods], [p[1] for p in pods], list(rs), list(nodes))


def test_replicaset_pod_is_shown_under_its_deployment() -> None:
    topo = _build(
        pod_samples("shop", "web-7d9f8c-x2x9q", "worker-1", "ReplicaSet", "web-7d9f8c"),
        rs=(rs_sample("shop", "web-7d9f8c", "web"),),
        nodes=(node_sample("worker-1"),),
    )
    pod = topo.pod("shop", "web-7d9f8c-x2x9q")
    assert pod is not None
    assert (pod.workload_kind, pod.workload) == ("Deployment", "web")
    assert list(topo.workloads) == ["shop/Deployment/web"]
    assert topo.workloads["shop/Deployment/web"].pods == ("web-7d9f8c-x2x9q",)


def test_replicaset_without_deployment_stays_a_replicaset() -> None:
    topo = _build(pod_samples("shop", "lone-abc", "w1", "ReplicaSet", "lone"))
    assert list(topo.workloads) == ["shop/ReplicaSet/lone"]


def test_replicaset_link_is_per_namespace() -> None:
    topo = _build(
        pod_samples("a", "web-1-x", "w1", "ReplicaSet", "web-1"),
        rs=(rs_sample("b", "web-1", "web"),),
    )
    assert list(topo.workloads) == ["a/ReplicaSet/web-1"]


def test_daemonset_statefulset_and_bare_pods() -> None:
    topo = _build(
        pod_samples("kube-system", "node-exporter-abc", "w1", "DaemonSet", "node-exporter", True),
        pod_samples("db", "pg-0", "w2", "StatefulSet", "pg"),
        pod_samples("default", "debug", "w2"),
    )
    assert sorted(topo.workloads) == [
        "db/StatefulSet/pg",
        "default/Pod/debug",
        "kube-system/DaemonSet/node-exporter",
    ]
    assert topo.pods[("kube-system", "node-exporter-abc")].host_network is True
    assert topo.pods[("db", "pg-0")].host_network is False


def test_static_pods_are_their_own_workload() -> None:
    topo = _build(
        *(pod_samples("kube-system", f"{name}-cp-1", "cp-1", "Node", "cp-1", True)
          for name in ("kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager")),
        pod_samples("kube-system", "kube-apiserver-cp-2", "cp-2", "Node", "cp-2", True),
    )
    assert sorted(topo.workloads) == [
        "kube-system/StaticPod/etcd-cp-1",
        "kube-system/StaticPod/kube-apiserver-cp-1",
        "kube-system/StaticPod/kube-apiserver-cp-2",
        "kube-system/StaticPod/kube-controller-manager-cp-1",
        "kube-system/StaticPod/kube-scheduler-cp-1",
    ]


def test_cronjob_runs_are_one_workload_and_a_bare_job_is_its_own() -> None:
    topo = _build(
        pod_samples("ops", "backup-2890-abcde", "w1", "Job", "backup-2890"),
        pod_samples("ops", "backup-2891-fghij", "w2", "Job", "backup-2891"),
        pod_samples("ops", "migrate-xyz", "w2", "Job", "migrate"),
        rs=(job_sample("ops", "backup-2890", "backup"), job_sample("ops", "backup-2891", "backup")),
    )
    assert sorted(topo.workloads) == ["ops/CronJob/backup", "ops/Job/migrate"]
    assert topo.workloads["ops/CronJob/backup"].pods == ("backup-2890-abcde", "backup-2891-fghij")


def test_replicasets_of_any_owner_belong_to_it() -> None:
    topo = _build(
        pod_samples("shop", "cart-6f7-a", "w1", "ReplicaSet", "cart-6f7"),
        pod_samples("shop", "cart-6f7-b", "w2", "ReplicaSet", "cart-6f7"),
        pod_samples("shop", "cart-9c1-c", "w2", "ReplicaSet", "cart-9c1"),
        pod_samples("shop", "orphan-1-d", "w2", "ReplicaSet", "orphan-1"),
        rs=(rs_sample("shop", "cart-6f7", "cart", kind="Rollout"),
            rs_sample("shop", "cart-9c1", "cart", kind="Rollout"),
            rs_sample("shop", "orphan-1", "<none>", kind="<none>")),
    )
    assert sorted(topo.workloads) == ["shop/ReplicaSet/orphan-1", "shop/Rollout/cart"]
    assert topo.workloads["shop/Rollout/cart"].pods == ("cart-6f7-a", "cart-6f7-b", "cart-9c1-c")


def test_owner_falls_back_to_created_by_when_kube_pod_owner_is_missing() -> None:
    info, _owner = pod_samples("shop", "web-rs-1", "w1", "ReplicaSet", "web-rs")
    topo = build_topology(0.0, [info], [], [rs_sample("shop", "web-rs", "web")], [])
    assert list(topo.workloads) == ["shop/Deployment/web"]


def test_nodes_without_pods_and_pods_on_unknown_nodes() -> None:
    info, owner = pod_samples("a", "p", "ghost", "Job", "j")
    pending, pending_owner = pod_samples("a", "q", "", "Job", "j")
    topo = build_topology(0.0, [info, pending], [owner, pending_owner], [], [node_sample("idle")])
    grouped = topo.pods_by_node()
    assert grouped["idle"] == []
    assert [p.name for p in grouped["ghost"]] == ["p"]
    assert [p.name for p in grouped[UNSCHEDULED]] == ["q"]
    assert topo.nodes["idle"].known and not topo.nodes["ghost"].known


def test_latest_snapshot_drops_series_that_stopped_earlier() -> None:
    """A pod whose last sample is one step older than the newest snapshot has vanished."""
    samples = [
        Sample({"pod": "stays"}, 1000.0, 1200.0),
        Sample({"pod": "also-stays"}, 1000.0, 1200.0),
        Sample({"pod": "gone-one-30s-step-ago"}, 970.0, 1200.0),
        Sample({"pod": "gone-long-ago"}, 700.0, 1200.0),
    ]
    kept, newest = latest_snapshot(samples, tolerance=60)
    assert newest == 1000.0
    assert sorted(s.labels["pod"] for s in kept) == ["also-stays", "stays"]
    assert latest_snapshot([]) == ([], None)


def test_latest_snapshot_keeps_shards_scraped_at_other_offsets() -> None:
    """Two kube-state-metrics shards scraped 20 s apart both count; a stopped one does not."""
    a = {"job": "ksm", "instance": "10.0.0.1:8080"}
    b = {"job": "ksm", "instance": "10.0.0.2:8080"}
    old = {"job": "ksm", "instance": "10.0.0.9:8080"}
    samples = [
        Sample({**a, "pod": "p1"}, 1000.0, 0.0),
        Sample({**a, "pod": "p1-gone"}, 970.0, 0.0),
        Sample({**b, "pod": "p2"}, 980.0, 0.0),
        Sample({**b, "pod": "p2-gone"}, 950.0, 0.0),
        Sample({**old, "pod": "p3-replaced-exporter"}, 700.0, 0.0),
    ]
    kept, _ = latest_snapshot(samples, tolerance=60)
    assert sorted(s.labels["pod"] for s in kept) == ["p1", "p2"]


def _istio(src: str, dst: str, policy: str, value: float) -> Sample:
    labels = {
        "source_workload_namespace": "shop",
        "source_workload": src,
        "destination_workload_namespace": "shop",
        "destination_workload": dst,
        "connection_security_policy": policy,
    }
    return Sample(labels, value, 0.0)


def test_istio_edges_sum_policies_and_compute_error_share() -> None:
    total = [
        _istio("web", "cart", "mutual_tls", 10.0),
        _istio("web", "cart", "none", 0.0),
        _istio("web", "db", "mutual_tls", 2.0),
        _istio("web", "db", "none", 2.0),
        _istio("idle", "cart", "mutual_tls", 0.0),
    ]
    errors = [
        Sample(
            {k: v for k, v in _istio("web", "cart", "", 0).labels.items() if k != "connection_security_policy"},
            2.5,
            0.0,
        )
    ]
    edges = {e.key: e for e in istio_edges(total, errors)}
    assert set(edges) == {("shop/web", "shop/cart"), ("shop/web", "shop/db")}
    cart = edges[("shop/web", "shop/cart")]
    assert (cart.rps, cart.error_ratio, cart.mtls) == (10.0, 0.25, True)
    db = edges[("shop/web", "shop/db")]
    assert (db.rps, db.error_ratio, db.mtls) == (4.0, 0.0, False)


def test_linkerd_edges_use_dst_labels_and_tls() -> None:
    base = {"namespace": "shop", "deployment": "web", "dst_namespace": "shop"}
    total = [
        Sample({**base, "dst_deployment": "cart", "tls": "true"}, 5.0, 0.0),
        Sample({**base, "dst_statefulset": "db", "tls": ""}, 1.0, 0.0),
    ]
    errors = [Sample({**base, "dst_statefulset": "db"}, 0.5, 0.0)]
    edges = {e.key: e for e in linkerd_edges(total, errors)}
    assert edges[("shop/web", "shop/cart")].mtls is True
    assert edges[("shop/web", "shop/db")].mtls is False
    assert edges[("shop/web", "shop/db")].error_ratio == 0.5
