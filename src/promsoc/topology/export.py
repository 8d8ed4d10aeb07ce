"""The contract's JSON for `promsoc topology --format json` (stable keys: add, never rename)."""

from __future__ import annotations

from typing import Any

from promsoc.times import format_rfc3339
from promsoc.topology.diff import TopologyDiff
from promsoc.topology.model import Edge, Topology


def _edge(edge: Edge) -> dict[str, Any]:
    return {
        "source": edge.source,
        "destination": edge.destination,
        "rps": round(edge.rps, 6),
        "error_ratio": round(edge.error_ratio, 6),
        "mtls": edge.mtls,
    }


def diff_to_json(diff: TopologyDiff) -> dict[str, Any]:
    """The contract's five keys first, then promsoc's additions."""
    return {
        "against": format_rfc3339(diff.before_at),
        "added_pods": diff.added_pods,
        "removed_pods": diff.removed_pods,
        "added_workloads": diff.added_workloads,
        "removed_workloads": diff.removed_workloads,
        "moved_pods": [{"pod": m.pod, "from_node": m.from_node, "to_node": m.to_node} for m in diff.moved_pods],
        "added_nodes": diff.added_nodes,
        "removed_nodes": diff.removed_nodes,
        "new_daemonsets": diff.new_daemonsets,
        "new_host_network_pods": diff.new_host_network_pods,
        "new_priority_classes": diff.new_priority_classes,
        "new_edges": [_edge(e) for e in diff.new_edges],
        "lost_mtls_edges": [_edge(e) for e in diff.lost_mtls_edges],
    }


def to_json(topo: Topology, source: str, diff: TopologyDiff | None = None) -> dict[str, Any]:
    """Label values are passed through as they are: JSON escaping keeps them inert."""
    nodes = [
        {
            "name": name,
            "pods": [
                {
                    "namespace": pod.namespace,
                    "name": pod.name,
                    "workload_kind": pod.workload_kind,
                    "workload": pod.workload,
                    "pod_ip": pod.pod_ip,
                    "host_network": pod.host_network,
                    "priority_class": pod.priority_class,
                }
                for pod in pods
            ],
        }
        for name, pods in topo.pods_by_node().items()
    ]
    workloads = [
        {"namespace": w.namespace, "kind": w.kind, "name": w.name, "pods": len(w.pods)}
        for w in sorted(topo.workloads.values(), key=lambda w: w.ref)
    ]
    out: dict[str, Any] = {
        "at": format_rfc3339(topo.at),
        "source": source,
        "nodes": nodes,
        "workloads": workloads,
        "edges": [_edge(e) for e in topo.edges],
        "mesh": topo.mesh,
        "snapshot_at": format_rfc3339(topo.snapshot_at) if topo.snapshot_at is not None else None,
        "warnings": list(topo.warnings),
    }
    if diff is not None:
        out["diff"] = diff_to_json(diff)
    return out
