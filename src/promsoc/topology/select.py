"""Narrow a map to what the analyst is looking at: by namespace, node or name."""

from __future__ import annotations

from dataclasses import replace

from promsoc.topology.diff import TopologyDiff
from promsoc.topology.model import Pod, Topology, Workload

FIELDS = ("ns", "node", "name")


def parse_filter(text: str) -> list[tuple[str, str]]:
    """`ns:shop node:w1 web` -> [('ns','shop'), ('node','w1'), ('any','web')] (lower-cased)."""
    terms: list[tuple[str, str]] = []
    for word in text.lower().split():
        field, sep, value = word.partition(":")
        if sep and field in FIELDS and value:
            terms.append((field, value))
        elif word:
            terms.append(("any", word))
    return terms


def pod_matches(pod: Pod, terms: list[tuple[str, str]]) -> bool:
    """Every term must match (substring, case-insensitive); 'any' looks at every field."""
    for field, value in terms:
        namespace, node = pod.namespace.lower(), pod.node.lower()
        name = f"{pod.name} {pod.workload}".lower()
        if field == "ns" and value not in namespace:
            return False
        if field == "node" and value not in node:
            return False
        if field == "name" and value not in name:
            return False
        if field == "any" and not any(value in part for part in (namespace, node, name)):
            return False
    return True


def filter_topology(topo: Topology, text: str) -> Topology:
    """A copy holding only the matching pods, their workloads, nodes and the edges between them."""
    terms = parse_filter(text)
    if not terms:
        return topo
    pods = {key: pod for key, pod in topo.pods.items() if pod_matches(pod, terms)}
    members: dict[str, list[str]] = {}
    for pod in pods.values():
        members.setdefault(pod.workload_ref, []).append(pod.name)
    workloads = {
        ref: Workload(w.namespace, w.kind, w.name, tuple(sorted(members[ref])))
        for ref, w in topo.workloads.items()
        if ref in members
    }
    node_terms = [value for field, value in terms if field == "node"]
    nodes = {
        name: node
        for name, node in topo.nodes.items()
        if any(p.node == name for p in pods.values())
        or (node_terms and all(v in name.lower() for v in node_terms) and len(node_terms) == len(terms))
    }
    shown = {w.short_ref for w in workloads.values()}
    edges = [e for e in topo.edges if e.source in shown or e.destination in shown]
    return replace(topo, pods=pods, nodes=nodes, workloads=workloads, edges=edges)


def filter_diff(diff: TopologyDiff, text: str) -> TopologyDiff:
    """The diff's removed pods narrowed the same way (the rest is looked up by the views)."""
    terms = parse_filter(text)
    if not terms:
        return diff
    narrowed = replace(diff, removed=[p for p in diff.removed if pod_matches(p, terms)])
    narrowed.index()
    return narrowed
