"""The cluster map at one moment: nodes, pods, workloads and traffic edges (plain data, no IO)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

PodKey = tuple[str, str]
"""(namespace, pod name): how a pod is identified across two moments."""

UNSCHEDULED = "(unscheduled)"
"""Node name shown for pods that kube-state-metrics reports with no node."""


@dataclass(frozen=True, slots=True)
class Pod:
    """One pod as kube-state-metrics saw it, already resolved to its top-level workload."""

    namespace: str
    name: str
    node: str
    workload_kind: str
    workload: str
    pod_ip: str = ""
    host_ip: str = ""
    host_network: bool = False
    priority_class: str = ""
    uid: str = ""

    @property
    def key(self) -> PodKey:
        return (self.namespace, self.name)

    @property
    def ref(self) -> str:
        """`namespace/name`, the contract's pod id."""
        return f"{self.namespace}/{self.name}"

    @property
    def workload_ref(self) -> str:
        """`namespace/Kind/name`, the contract's workload id."""
        return f"{self.namespace}/{self.workload_kind}/{self.workload}"


@dataclass(frozen=True, slots=True)
class Node:
    """One node; `known` is False when pods name it but kube_node_info does not."""

    name: str
    internal_ip: str = ""
    kubelet_version: str = ""
    os_image: str = ""
    known: bool = True


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment, DaemonSet, StatefulSet, Job, bare ReplicaSet or bare Pod, with its pods."""

    namespace: str
    kind: str
    name: str
    pods: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def short_ref(self) -> str:
        """`namespace/name`: how a mesh names a workload (it does not know the kind)."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Edge:
    """Traffic from one workload to another, as the mesh reported it over the rate window."""

    source: str
    destination: str
    rps: float
    error_ratio: float
    mtls: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.destination)


@dataclass
class Topology:
    """Everything promsoc knows about the cluster at `at`."""

    at: float
    pods: dict[PodKey, Pod] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    mesh: str | None = None
    snapshot_at: float | None = None
    """Timestamp of the kube-state-metrics samples shown (older than `at` on sparse history)."""
    warnings: list[str] = field(default_factory=list)

    def pods_by_node(self) -> dict[str, list[Pod]]:
        """Pods grouped by node, every known node present (possibly with no pods), names sorted."""
        grouped: dict[str, list[Pod]] = {name: [] for name in self.nodes}
        for pod in self.pods.values():
            grouped.setdefault(pod.node, []).append(pod)
        for pods in grouped.values():
            pods.sort(key=lambda p: (p.namespace, p.name))
        return dict(sorted(grouped.items()))

    def workloads_by_namespace(self) -> dict[str, list[Workload]]:
        """Workloads grouped by namespace, sorted by kind then name."""
        grouped: dict[str, list[Workload]] = defaultdict(list)
        for workload in self.workloads.values():
            grouped[workload.namespace].append(workload)
        for items in grouped.values():
            items.sort(key=lambda w: (w.kind, w.name))
        return dict(sorted(grouped.items()))

    def pod(self, namespace: str, name: str) -> Pod | None:
        return self.pods.get((namespace, name))
