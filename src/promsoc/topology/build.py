"""Samples -> Topology: the pure half of the builder, testable and benchmarked without IO."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from promsoc import owners as owner_rules
from promsoc.prom.types import Sample
from promsoc.topology.model import UNSCHEDULED, Edge, Node, Pod, PodKey, Topology, Workload

SNAPSHOT_TOLERANCE = 60.0
"""Seconds one scrape target's newest snapshot may lag the newest overall and still count.

kube-state-metrics reports the whole cluster in each scrape, and every sample of one scrape
carries the same timestamp: an object that vanished stops at an older one. Shards (or HA
replicas) are scraped at different offsets within the scrape interval, so targets are compared
with this tolerance, while series are compared only within their own target.
"""
SCRAPE_JITTER = 1.0
"""Seconds within which samples of one target count as the same scrape (float rounding)."""


def _target(sample: Sample) -> tuple[str, str]:
    return (sample.labels.get("job", ""), sample.labels.get("instance", ""))


def latest_snapshot(
    samples: Sequence[Sample], tolerance: float = SNAPSHOT_TOLERANCE
) -> tuple[list[Sample], float | None]:
    """Keep the series in their target's newest scrape (the value is the series' last-seen time).

    Exact per target, so a pod that vanished one 30 s step ago is dropped; a target whose newest
    scrape lags the newest overall by more than `tolerance` (a replaced or stopped exporter) is
    dropped as a whole.
    """
    if not samples:
        return [], None
    newest_of: dict[tuple[str, str], float] = {}
    for sample in samples:
        key = _target(sample)
        if sample.value > newest_of.get(key, float("-inf")):
            newest_of[key] = sample.value
    newest = max(newest_of.values())
    kept = [
        s
        for s in samples
        if newest_of[_target(s)] >= newest - tolerance and s.value >= newest_of[_target(s)] - SCRAPE_JITTER
    ]
    return kept, newest


def _owner_map(pod_owner: Iterable[Sample]) -> dict[PodKey, tuple[str, str]]:
    """(namespace, pod) -> (owner kind, owner name), preferring the controller owner."""
    owners: dict[PodKey, tuple[str, str]] = {}
    for sample in pod_owner:
        labels = sample.labels
        kind = labels.get("owner_kind", "")
        name = labels.get("owner_name", "")
        if not name or kind in owner_rules.NO_OWNER:
            continue
        key = (labels.get("namespace", ""), labels.get("pod", ""))
        if key in owners and labels.get("owner_is_controller") != "true":
            continue
        owners[key] = (kind, name)
    return owners


def build_topology(
    at: float,
    pod_info: Sequence[Sample],
    pod_owner: Sequence[Sample] = (),
    parent_owner: Sequence[Sample] = (),
    node_info: Sequence[Sample] = (),
    edges: Sequence[Edge] = (),
    mesh: str | None = None,
    snapshot_at: float | None = None,
) -> Topology:
    """Join the kube-state-metrics series into pods under workloads on nodes.

    `parent_owner` holds the controllers' owners (`kube_replicaset_owner` and `kube_job_owner`
    series): pods are grouped by promsoc.owners' rules, the sibling detectors' rules.
    """
    owners = _owner_map(pod_owner)
    parents = owner_rules.parent_map(sample.labels for sample in parent_owner)
    topo = Topology(at=at, edges=list(edges), mesh=mesh, snapshot_at=snapshot_at)
    for sample in node_info:
        labels = sample.labels
        name = labels.get("node", "")
        if name:
            topo.nodes[name] = Node(
                name=name,
                internal_ip=labels.get("internal_ip", ""),
                kubelet_version=labels.get("kubelet_version", ""),
                os_image=labels.get("os_image", ""),
            )
    members: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for sample in pod_info:
        labels = sample.labels
        namespace = labels.get("namespace", "")
        name = labels.get("pod", "")
        if not name:
            continue
        owner = owners.get((namespace, name))
        if owner is None and labels.get("created_by_kind") and labels.get("created_by_name"):
            owner = (labels["created_by_kind"], labels["created_by_name"])
        kind, owner_name = owner_rules.resolve(namespace, name, owner, parents)
        node = labels.get("node", "") or UNSCHEDULED
        pod = Pod(
            namespace=namespace,
            name=name,
            node=node,
            workload_kind=kind,
            workload=owner_name,
            pod_ip=labels.get("pod_ip", ""),
            host_ip=labels.get("host_ip", ""),
            host_network=labels.get("host_network", "false") == "true",
            priority_class=labels.get("priority_class", ""),
            uid=labels.get("uid", ""),
        )
        topo.pods[pod.key] = pod
        members[(namespace, kind, owner_name)].append(name)
        if node not in topo.nodes:
            topo.nodes[node] = Node(name=node, known=False)
    for (namespace, kind, name), pods in members.items():
        workload = Workload(namespace, kind, name, tuple(sorted(pods)))
        topo.workloads[workload.ref] = workload
    return topo


def istio_edges(total: Iterable[Sample], errors: Iterable[Sample]) -> list[Edge]:
    """Edges from `sum by (src, dst, connection_security_policy)` rates and their 5xx rates."""
    rps: dict[tuple[str, str], float] = defaultdict(float)
    plain: dict[tuple[str, str], float] = defaultdict(float)
    for sample in total:
        labels = sample.labels
        key = (
            _ref(labels.get("source_workload_namespace", ""), labels.get("source_workload", "")),
            _ref(
                labels.get("destination_workload_namespace", ""),
                labels.get("destination_workload", ""),
            ),
        )
        rps[key] += sample.value
        if labels.get("connection_security_policy") != "mutual_tls":
            plain[key] += sample.value
    failed: dict[tuple[str, str], float] = defaultdict(float)
    for sample in errors:
        labels = sample.labels
        failed[
            (
                _ref(labels.get("source_workload_namespace", ""), labels.get("source_workload", "")),
                _ref(
                    labels.get("destination_workload_namespace", ""),
                    labels.get("destination_workload", ""),
                ),
            )
        ] += sample.value
    return _edges(rps, plain, failed)


_LINKERD_KINDS = ("deployment", "statefulset", "daemonset")


def _linkerd_key(labels: dict[str, str]) -> tuple[str, str]:
    source = next((labels[k] for k in _LINKERD_KINDS if labels.get(k)), "unknown")
    target = next((labels[f"dst_{k}"] for k in _LINKERD_KINDS if labels.get(f"dst_{k}")), "")
    if not target:
        target = labels.get("dst_service", "") or "unknown"
    return (
        _ref(labels.get("namespace", ""), source),
        _ref(labels.get("dst_namespace", ""), target),
    )


def linkerd_edges(total: Iterable[Sample], errors: Iterable[Sample]) -> list[Edge]:
    """Edges from outbound request_total rates (by tls) and response_total failure rates."""
    rps: dict[tuple[str, str], float] = defaultdict(float)
    plain: dict[tuple[str, str], float] = defaultdict(float)
    for sample in total:
        key = _linkerd_key(sample.labels)
        rps[key] += sample.value
        if sample.labels.get("tls") != "true":
            plain[key] += sample.value
    failed: dict[tuple[str, str], float] = defaultdict(float)
    for sample in errors:
        failed[_linkerd_key(sample.labels)] += sample.value
    return _edges(rps, plain, failed)


def _ref(namespace: str, name: str) -> str:
    return f"{namespace or 'unknown'}/{name or 'unknown'}"


def _edges(
    rps: dict[tuple[str, str], float],
    plain: dict[tuple[str, str], float],
    failed: dict[tuple[str, str], float],
) -> list[Edge]:
    """Idle pairs (rate 0: the counter exists but nothing flowed) are not edges."""
    edges: list[Edge] = []
    for (source, destination), value in sorted(rps.items()):
        if value <= 0:
            continue
        ratio = min(1.0, failed.get((source, destination), 0.0) / value)
        mtls = plain.get((source, destination), 0.0) <= 0
        edges.append(Edge(source, destination, value, ratio, mtls))
    return edges
