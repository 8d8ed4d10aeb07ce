"""The topology screen's side panel: what a selected pod, workload, node or edge is; findings."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from promsoc.detectors.results import DetectorResult, Finding
from promsoc.text import safe
from promsoc.topology.diff import TopologyDiff
from promsoc.topology.model import Pod, Topology
from promsoc.topology.render import Line

POD_KEYS = (("namespace", "pod"), ("k8s_ns_name", "k8s_pod_name"))
NODE_KEYS = ("node", "hostname", "kubernetes_node")
MAX_FINDINGS = 12


def _value(text: str, limit: int = 60) -> str:
    """Label values as inert text: escapes and bidi controls made visible as '?', long ones cut."""
    return safe(text, limit, ascii_only=False)


def findings_for_pod(
    results: Iterable[DetectorResult], namespace: str, pod: str
) -> list[tuple[DetectorResult, Finding]]:
    """Findings whose labels name this pod (kube-style or Falco-style labels)."""
    found = []
    for result in results:
        for finding in result.findings:
            labels = finding.labels
            if any(labels.get(ns) == namespace and labels.get(p) == pod for ns, p in POD_KEYS):
                found.append((result, finding))
    return found


def findings_for_node(results: Iterable[DetectorResult], node: str) -> list[tuple[DetectorResult, Finding]]:
    return [
        (result, finding)
        for result in results
        for finding in result.findings
        if any(finding.labels.get(key) == node for key in NODE_KEYS)
    ]


def _field(text: Text, name: str, value: str) -> None:
    text.append(f"{name:<10}", style="dim")
    text.append(_value(value) + "\n")


def _findings(text: Text, found: list[tuple[DetectorResult, Finding]]) -> None:
    text.append("\nFindings\n", style="bold")
    if not found:
        text.append("none from the detectors at the console's time\n", style="dim")
        return
    for result, finding in found[:MAX_FINDINGS]:
        text.append("▲ ", style="bold")
        text.append(_value(result.title or result.detector, 50), style="bold")
        text.append(f"  {result.severity} · value {finding.value:.4g}\n")
        shown = [k for k in sorted(finding.labels) if k not in ("__name__", "job", "instance")]
        for key in shown[:6]:
            text.append(f"   {_value(key, 24)}=", style="dim")
            text.append(_value(finding.labels[key], 50) + "\n")
    if len(found) > MAX_FINDINGS:
        text.append(f"… {len(found) - MAX_FINDINGS} more\n", style="dim")


def pod_details(pod: Pod, diff: TopologyDiff | None, results: Iterable[DetectorResult]) -> Text:
    text = Text(no_wrap=False)
    text.append("Pod ", style="bold")
    text.append(_value(pod.ref, 80) + "\n", style="bold")
    _field(text, "workload", pod.workload_ref)
    _field(text, "node", pod.node)
    _field(text, "pod IP", pod.pod_ip or "-")
    _field(text, "host IP", pod.host_ip or "-")
    _field(text, "priority", pod.priority_class or "-")
    if pod.host_network:
        text.append("⚠ host network: shares the node's network namespace\n", style="bold")
    if diff is not None:
        mark = diff.pod_mark(pod.ref)
        move = diff.move_of(pod.ref)
        if move is not None:
            text.append(f"~ moved from {_value(move.from_node)}\n")
        elif mark == "+":
            text.append("+ new since the diff time\n")
        elif mark == "-":
            text.append("- gone: existed at the diff time only\n")
    _findings(text, findings_for_pod(results, pod.namespace, pod.name))
    return text


def workload_details(topo: Topology, ref: str) -> Text:
    text = Text()
    text.append("Workload ", style="bold")
    text.append(_value(ref, 80) + "\n", style="bold")
    workload = topo.workloads.get(ref) or next((w for w in topo.workloads.values() if w.short_ref == ref), None)
    if workload is None:
        text.append("not present at this moment\n", style="dim")
        return text
    nodes = sorted({topo.pods[(workload.namespace, name)].node for name in workload.pods})
    _field(text, "pods", str(len(workload.pods)))
    _field(text, "nodes", ", ".join(nodes[:8]) + (" …" if len(nodes) > 8 else ""))
    short = workload.short_ref
    talks = [e for e in topo.edges if short in (e.source, e.destination)]
    if talks:
        text.append("\nTraffic\n", style="bold")
        for edge in talks[:10]:
            arrow = f"→ {edge.destination}" if edge.source == short else f"← {edge.source}"
            text.append(f"{_value(arrow, 50)}  {edge.rps:.3g} rps  {'mTLS' if edge.mtls else 'PLAIN'}\n")
    return text


def node_details(topo: Topology, name: str, results: Iterable[DetectorResult]) -> Text:
    text = Text()
    text.append("Node ", style="bold")
    text.append(_value(name) + "\n", style="bold")
    node = topo.nodes.get(name)
    pods = topo.pods_by_node().get(name, [])
    if node is not None:
        _field(text, "IP", node.internal_ip or "-")
        _field(text, "kubelet", node.kubelet_version or "-")
        _field(text, "OS", node.os_image or "-")
    _field(text, "pods", f"{len(pods)} ({sum(p.host_network for p in pods)} on host network)")
    _findings(text, findings_for_node(results, name))
    return text


def edge_details(topo: Topology, line: Line) -> Text:
    source, _, destination = line.ref.partition(">")
    edge = next((e for e in topo.edges if e.key == (source, destination)), None)
    text = Text()
    text.append("Traffic ", style="bold")
    text.append(f"{_value(source)} → {_value(destination)}\n", style="bold")
    if edge is not None:
        _field(text, "rate", f"{edge.rps:.4g} requests/s")
        _field(text, "errors", f"{edge.error_ratio:.2%} 5xx/failures")
        _field(text, "security", "mutual TLS" if edge.mtls else "PLAINTEXT (no mTLS)")
    if line.mark == "!":
        text.append("! this edge had mTLS at the diff time and lost it\n", style="bold")
    elif line.mark == "+":
        text.append("+ new edge: the source never talked to it at the diff time\n", style="bold")
    return text


def details(topo: Topology, line: Line, diff: TopologyDiff | None, results: Iterable[DetectorResult]) -> Text:
    """The panel for whatever `line` points at (a hint when it points at nothing)."""
    if line.kind == "pod":
        namespace, _, name = line.ref.partition("/")
        pod = topo.pod(namespace, name)
        if pod is None and diff is not None:
            pod = next((p for p in diff.removed if p.ref == line.ref), None)
        if pod is not None:
            return pod_details(pod, diff, results)
    if line.kind == "workload":
        return workload_details(topo, line.ref)
    if line.kind == "node":
        return node_details(topo, line.ref, results)
    if line.kind == "edge":
        return edge_details(topo, line)
    return Text("Select a pod, workload, node or edge and press Enter.", style="dim")
