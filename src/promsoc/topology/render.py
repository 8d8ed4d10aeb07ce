"""ASCII views of a map (nodes, workloads, traffic) with diff marks that read without colour.

Every function is pure and returns lines with what each line points at, so the CLI prints them and
the console makes them selectable. Marks: '+' added, '-' removed, '~' moved here, '!' lost mTLS.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from promsoc.text import fit, safe
from promsoc.topology.diff import TopologyDiff
from promsoc.topology.model import Edge, Pod, Topology

WIDTH = 80


@dataclass(frozen=True, slots=True)
class Line:
    """One rendered line; `kind`/`ref` say what selecting it means ('' for decoration)."""

    text: str
    kind: str = ""
    ref: str = ""
    mark: str = " "


def as_text(lines: list[Line]) -> str:
    return "\n".join(line.text.rstrip() for line in lines)


def _node_rows(pods: list[Pod], removed: list[Pod], diff: TopologyDiff | None) -> list[tuple[str, str, str, str]]:
    """(mark, count, workload ref, flags) per workload on one node."""
    now: dict[str, list[Pod]] = defaultdict(list)
    for pod in pods:
        now[pod.workload_ref].append(pod)
    gone: Counter[str] = Counter(pod.workload_ref for pod in removed)
    rows = []
    for ref in sorted(now.keys() | gone.keys()):
        members = now.get(ref, [])
        flags = " [hostNet]" if any(p.host_network for p in members) else ""
        mark = " "
        if diff is not None:
            marks = Counter(diff.pod_mark(p.ref) for p in members)
            changes = [f"{sym}{marks[sym]}" for sym in "+~" if marks[sym]]
            if gone[ref]:
                changes.append(f"-{gone[ref]}")
            if changes:
                flags += " (" + " ".join(changes) + ")"
            if diff.workload_mark(ref) != " ":
                mark = diff.workload_mark(ref)
            elif not members:
                mark = "-"
            elif marks["+"]:
                mark = "+"
            elif marks["~"]:
                mark = "~"
        rows.append((mark, str(len(members)), ref, flags))
    return rows


def render_nodes(topo: Topology, diff: TopologyDiff | None = None, width: int = WIDTH) -> list[Line]:
    """Nodes as boxes listing their workloads with pod counts; host-network pods flagged."""
    inner = width - 4  # "  |" ... "|" around each box row, the first column holds the mark
    lines: list[Line] = []
    removed_by_node: dict[str, list[Pod]] = defaultdict(list)
    if diff is not None:
        for pod in diff.removed:
            removed_by_node[pod.node].append(pod)
    grouped = topo.pods_by_node()
    names = set(grouped) | set(removed_by_node)
    if diff is not None:
        names |= set(diff.removed_nodes)
    for name in sorted(names):
        pods = grouped.get(name, [])
        node = topo.nodes.get(name)
        mark = diff.node_mark(name) if diff is not None else " "
        host_net = sum(1 for p in pods if p.host_network)
        title = safe(name)
        if node is not None and node.internal_ip:
            title += f" ({safe(node.internal_ip, 40)})"
        elif node is not None and not node.known:
            title += " (no kube_node_info)"
        summary = f" {len(pods)} pods" + (f", {host_net} hostNet" if host_net else "") + " -+"
        room = inner + 2 - len("+- ") - len(summary) - 2
        title = title if len(title) <= room else fit(title, room)
        head = f"+- {title} "
        header = head + "-" * (inner + 2 - len(head) - len(summary)) + summary
        lines.append(Line(f"{mark} {header}", "node", name, mark))
        rows = _node_rows(pods, removed_by_node.get(name, []), diff)
        if not rows:
            lines.append(Line(f"  |{fit(' (no pods)', inner)}|", "node", name))
        for row_mark, count, ref, flags in rows:
            body = f" {row_mark} {count:>4}  {safe(ref, 140)}"
            body = fit(body, inner - len(flags) - 1) + flags + " " if flags else fit(body, inner)
            lines.append(Line(f"  |{fit(body, inner)}|", "workload", ref, row_mark))
        lines.append(Line("  +" + "-" * inner + "+", "node", name))
    return lines


def render_workloads(
    topo: Topology,
    diff: TopologyDiff | None = None,
    width: int = WIDTH,
    max_pods: int | None = None,
) -> list[Line]:
    """Namespace -> workload -> pods (node and IP beside each pod)."""
    lines: list[Line] = []
    removed_by_workload: dict[str, list[Pod]] = defaultdict(list)
    if diff is not None:
        for pod in diff.removed:
            removed_by_workload[pod.workload_ref].append(pod)
    grouped = topo.workloads_by_namespace()
    namespaces = set(grouped) | {ref.split("/", 1)[0] for ref in removed_by_workload}
    for namespace in sorted(namespaces):
        lines.append(Line(fit(f"namespace {safe(namespace)}", width), "namespace", namespace))
        refs = {w.ref: w for w in grouped.get(namespace, [])}
        gone = [ref for ref in removed_by_workload if ref.startswith(f"{namespace}/")]
        for ref in sorted(refs.keys() | set(gone), key=lambda r: r.split("/", 1)[1]):
            workload = refs.get(ref)
            count = len(workload.pods) if workload else 0
            mark = diff.workload_mark(ref) if diff is not None else " "
            if diff is not None and workload is None:
                mark = "-"
            kind_name = safe(ref.split("/", 1)[1], 140)
            lines.append(Line(fit(f"{mark}  {kind_name}  {count} pods", width), "workload", ref, mark))
            pods = [topo.pods[(namespace, name)] for name in (workload.pods if workload else ())]
            members = sorted(pods + removed_by_workload.get(ref, []), key=lambda p: p.name)
            shown = members if max_pods is None else members[:max_pods]
            for pod in shown:
                lines.append(_pod_line(pod, diff, width))
            if len(shown) < len(members):
                lines.append(Line(fit(f"       ... {len(members) - len(shown)} more", width)))
    return lines


def _pod_line(pod: Pod, diff: TopologyDiff | None, width: int) -> Line:
    mark = diff.pod_mark(pod.ref) if diff is not None else " "
    where = safe(pod.node)
    move = diff.move_of(pod.ref) if diff is not None else None
    if move is not None:
        where += f" (was {safe(move.from_node)})"
    flags = " [hostNet]" if pod.host_network else ""
    name = fit(safe(pod.name), 38)
    text = f"{mark}      {name} {where} {safe(pod.pod_ip, 40)}{flags}"
    return Line(fit(text, width), "pod", pod.ref, mark)


def _edge_text(mark: str, edge: Edge, width: int) -> str:
    security = "mTLS" if edge.mtls else "PLAIN"
    tail = f"{edge.rps:9.2f} rps  err {edge.error_ratio * 100:5.1f}%  {security:<5}"
    head = f"{mark}  -> {safe(edge.destination, 140)}"
    return fit(head, width - len(tail) - 1) + " " + tail


def render_traffic(topo: Topology, diff: TopologyDiff | None = None, width: int = WIDTH) -> list[Line]:
    """Workload -> workload edges grouped by source, with rate, error share and mTLS."""
    if not topo.edges:
        return [Line("(no traffic edges: no istio_requests_total, no Linkerd request_total)")]
    new = {edge.key for edge in diff.new_edges} if diff is not None else set()
    lost = {edge.key for edge in diff.lost_mtls_edges} if diff is not None else set()
    lines = [Line(f"mesh: {topo.mesh or 'unknown'}  ({len(topo.edges)} edges)")]
    by_source: dict[str, list[Edge]] = defaultdict(list)
    for edge in topo.edges:
        by_source[edge.source].append(edge)
    for source in sorted(by_source):
        lines.append(Line(fit(safe(source, 140), width), "workload", source))
        for edge in sorted(by_source[source], key=lambda e: e.destination):
            mark = "!" if edge.key in lost else "+" if edge.key in new else " "
            lines.append(Line(_edge_text(mark, edge, width), "edge", f"{source}>{edge.destination}", mark))
    return lines


def render_diff_summary(diff: TopologyDiff, width: int = WIDTH) -> list[Line]:
    """The changes as a list: what an analyst reads first after an alert."""
    if diff.empty:
        return [Line("no changes")]
    lines: list[Line] = []

    def section(title: str, mark: str, items: list[str], kind: str) -> None:
        if not items:
            return
        lines.append(Line(fit(f"{title} ({len(items)})", width)))
        for item in items:
            lines.append(Line(fit(f"  {mark} {safe(item, 200)}", width), kind, item, mark))

    section("added nodes", "+", diff.added_nodes, "node")
    section("removed nodes", "-", diff.removed_nodes, "node")
    section("added workloads", "+", diff.added_workloads, "workload")
    section("removed workloads", "-", diff.removed_workloads, "workload")
    section("new DaemonSets", "+", diff.new_daemonsets, "workload")
    section("new host-network pods", "+", diff.new_host_network_pods, "pod")
    section("new priority classes", "+", diff.new_priority_classes, "")
    section("added pods", "+", diff.added_pods, "pod")
    section("removed pods", "-", diff.removed_pods, "pod")
    if diff.moved_pods:
        lines.append(Line(fit(f"moved pods ({len(diff.moved_pods)})", width)))
        for move in diff.moved_pods:
            text = f"  ~ {safe(move.pod, 120)}: {safe(move.from_node)} -> {safe(move.to_node)}"
            lines.append(Line(fit(text, width), "pod", move.pod, "~"))
    for title, mark, edges in (
        ("new traffic edges", "+", diff.new_edges),
        ("edges that lost mTLS", "!", diff.lost_mtls_edges),
    ):
        if edges:
            lines.append(Line(fit(f"{title} ({len(edges)})", width)))
        for edge in edges:
            text = f"  {mark} {safe(edge.source, 100)} -> {safe(edge.destination, 100)}"
            ref = f"{edge.source}>{edge.destination}"
            lines.append(Line(fit(text, width), "edge", ref, mark))
    return lines
