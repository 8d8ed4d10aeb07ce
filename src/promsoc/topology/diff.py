"""What changed between two maps: the questions asked right after an alert."""

from __future__ import annotations

from dataclasses import dataclass, field

from promsoc.topology.model import Edge, Pod, Topology


@dataclass(frozen=True, slots=True)
class Move:
    """A pod (same namespace/name) now on another node."""

    pod: str
    from_node: str
    to_node: str


@dataclass
class TopologyDiff:
    """`before` -> `after`; every list is sorted so output is stable."""

    before_at: float
    after_at: float
    added_pods: list[str] = field(default_factory=list)
    removed_pods: list[str] = field(default_factory=list)
    moved_pods: list[Move] = field(default_factory=list)
    added_workloads: list[str] = field(default_factory=list)
    removed_workloads: list[str] = field(default_factory=list)
    added_nodes: list[str] = field(default_factory=list)
    removed_nodes: list[str] = field(default_factory=list)
    new_daemonsets: list[str] = field(default_factory=list)
    new_host_network_pods: list[str] = field(default_factory=list)
    new_priority_classes: list[str] = field(default_factory=list)
    new_edges: list[Edge] = field(default_factory=list)
    lost_mtls_edges: list[Edge] = field(default_factory=list)
    removed: list[Pod] = field(default_factory=list)
    """The removed pods themselves, so views can still draw them where they were."""

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.added_pods,
                self.removed_pods,
                self.moved_pods,
                self.added_workloads,
                self.removed_workloads,
                self.added_nodes,
                self.removed_nodes,
                self.new_priority_classes,
                self.new_edges,
                self.lost_mtls_edges,
            )
        )

    def pod_mark(self, ref: str) -> str:
        """'+', '-', '~' or ' ' for a pod id (`namespace/name`), to draw without colour."""
        if ref in self._added_pods:
            return "+"
        if ref in self._moved:
            return "~"
        if ref in self._removed_pods:
            return "-"
        return " "

    def workload_mark(self, ref: str) -> str:
        """'+', '-' or ' ' for a workload id (`namespace/Kind/name`)."""
        if ref in self._added_workloads:
            return "+"
        if ref in self._removed_workloads:
            return "-"
        return " "

    def node_mark(self, name: str) -> str:
        if name in self.added_nodes:
            return "+"
        if name in self.removed_nodes:
            return "-"
        return " "

    def __post_init__(self) -> None:
        self.index()

    def index(self) -> None:
        """Rebuild the lookup sets behind the *_mark methods."""
        self._added_pods = set(self.added_pods)
        self._removed_pods = set(self.removed_pods)
        self._moved = {move.pod: move for move in self.moved_pods}
        self._added_workloads = set(self.added_workloads)
        self._removed_workloads = set(self.removed_workloads)

    def move_of(self, ref: str) -> Move | None:
        return self._moved.get(ref)


def diff_topology(before: Topology, after: Topology) -> TopologyDiff:
    """Compare two maps of the same cluster; `before` is the earlier moment."""
    old_pods, new_pods = before.pods, after.pods
    added = [new_pods[k] for k in new_pods.keys() - old_pods.keys()]
    removed = [old_pods[k] for k in old_pods.keys() - new_pods.keys()]
    moves = [
        Move(pod.ref, old_pods[key].node, pod.node)
        for key, pod in new_pods.items()
        if key in old_pods and old_pods[key].node != pod.node
    ]
    added_workloads = sorted(after.workloads.keys() - before.workloads.keys())
    old_edges = {edge.key: edge for edge in before.edges}
    old_classes = {p.priority_class for p in old_pods.values() if p.priority_class}
    new_classes = {p.priority_class for p in new_pods.values() if p.priority_class}
    result = TopologyDiff(
        before_at=before.at,
        after_at=after.at,
        added_pods=_refs(added),
        removed_pods=_refs(removed),
        moved_pods=sorted(moves, key=lambda m: m.pod),
        added_workloads=added_workloads,
        removed_workloads=sorted(before.workloads.keys() - after.workloads.keys()),
        added_nodes=sorted(_known(after) - _known(before)),
        removed_nodes=sorted(_known(before) - _known(after)),
        new_daemonsets=[ref for ref in added_workloads if ref.split("/")[1] == "DaemonSet"],
        new_host_network_pods=_refs([p for p in added if p.host_network]),
        new_priority_classes=sorted(new_classes - old_classes),
        new_edges=[edge for edge in after.edges if edge.key not in old_edges],
        lost_mtls_edges=[
            edge for edge in after.edges if edge.key in old_edges and old_edges[edge.key].mtls and not edge.mtls
        ],
        removed=sorted(removed, key=lambda p: p.key),
    )
    return result


def _refs(pods: list[Pod]) -> list[str]:
    return sorted(pod.ref for pod in pods)


def _known(topo: Topology) -> set[str]:
    """Nodes kube_node_info reported (not the placeholders that only pods name)."""
    return {name for name, node in topo.nodes.items() if node.known}
