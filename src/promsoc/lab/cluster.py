"""The simulated cluster's ground truth: nodes, workloads and pods over time, with churn."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from promsoc.lab import day
from promsoc.lab.inventory import (
    CRONJOB,
    DAY,
    DEFAULT_WORKLOADS,
    HOUR,
    MOVED_PODS,
    NEW_DAEMONSET,
    NEW_DAEMONSET_AGO,
    NEW_NODE_AGO,
    RETIRED,
    RETIRED_AGO,
    STATIC_PODS,
    WEEK,
)

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Node:
    name: str
    internal_ip: str
    pod_cidr: str
    index: int
    start: float
    end: float = float("inf")
    control_plane: bool = False

    def alive(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class Workload:
    """A workload: Deployment, Rollout, StatefulSet, DaemonSet, CronJob (whose pods belong to
    its Jobs) or one static pod (kind StaticPod, owned by its Node)."""

    namespace: str
    kind: str
    name: str
    replicas: int
    cpu: float  # cores per pod, on average
    tx: float  # bytes/s sent per pod, on average
    start: float
    end: float = float("inf")
    host_network: bool = False
    priority_class: str = ""
    rollouts: bool = True
    control_plane: bool = False  # a DaemonSet that also runs on the control plane

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"

    def alive(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class Pod:
    """One pod instance; a recreated pod (even with the same name) is a new instance."""

    namespace: str
    name: str
    uid: str
    node: str
    host_ip: str
    pod_ip: str
    workload: Workload
    owner_kind: str  # ReplicaSet, StatefulSet, DaemonSet, Job, Node
    owner_name: str
    start: float
    end: float
    container: str
    image: str
    container_id: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def alive(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class ChurnEvent:
    """A change the topology time machine must show: what, which object, when."""

    at: float
    kind: str  # rollout, pod-moved, node-added, node-drained, workload-retired, workload-added
    subject: str
    detail: str = ""


@dataclass
class Cluster:
    """Everything that exists or existed in the simulated cluster, with lifetimes."""

    nodes: list[Node]
    workloads: list[Workload]
    pods: list[Pod]
    replicasets: list[tuple[str, str, str, float, float]]  # (namespace, rs, owner, start, end)
    churn: list[ChurnEvent] = field(default_factory=list)

    def nodes_at(self, t: float) -> list[Node]:
        return [n for n in self.nodes if n.alive(t)]

    def workloads_at(self, t: float) -> list[Workload]:
        return [w for w in self.workloads if w.alive(t)]

    def pods_at(self, t: float) -> list[Pod]:
        return [p for p in self.pods if p.alive(t)]

    def workload_keys_at(self, t: float) -> set[str]:
        """`namespace/Kind/name` of every workload with a pod at t (Job pods count as their
        CronJob, a static pod as itself)."""
        return {p.workload.key for p in self.pods_at(t)}

    def pods_of(self, namespace: str, workload: str, t: float) -> list[Pod]:
        return [
            p
            for p in self.pods
            if p.alive(t) and p.namespace == namespace and p.workload.name == workload
        ]

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_NAME_CHARS) for _ in range(n))


def _uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"




def build_cluster(
    anchor: float, *, history: float = 29 * DAY, pods: int = 120, nodes: int = 6, seed: int = 7
) -> Cluster:
    """Build the default cluster (or a scaled one) with its whole history up to `anchor`."""
    rng = random.Random(seed)
    begin = anchor - history
    quiet_from = anchor - 12 * HOUR  # no rollouts in the incident window: stable pod names there
    node_list = _build_nodes(anchor, begin, nodes)
    if nodes == 6 and pods == 120:  # a second control plane joins during the day
        joined = day.start_of("control-plane-join", anchor)
        node_list.append(Node("control-plane-2", "10.0.0.9", f"10.244.{nodes}.0/24", nodes, joined,
                              control_plane=True))
    workloads = _build_workloads(rng, anchor, begin, pods, nodes)
    churn: list[ChurnEvent] = []
    for n in node_list:
        if n.start > begin:
            churn.append(ChurnEvent(n.start, "node-added", n.name))
    for w in workloads:
        if w.start > begin:
            churn.append(ChurnEvent(w.start, "workload-added", w.key))
        if w.end < anchor:
            churn.append(ChurnEvent(w.end, "workload-retired", w.key))
    builder = _PodBuilder(rng, node_list, begin, anchor)
    drain = day.event("node-drain")
    drain_at = day.start_of(drain.name, anchor)
    drained = any(n.name == day.DRAINED_NODE for n in node_list)
    if drained:
        builder.cordons.append((day.DRAINED_NODE, drain_at, drain_at + drain.duration))
    for node in node_list:
        if node.control_plane:
            workloads += builder.add_static_pods(node)
    for w in workloads:
        builder.add_workload(w, quiet_from, churn)
    if nodes == 6 and pods == 120:
        builder.move_pods(anchor, churn)
    builder.add_cronjob(begin, anchor)
    if drained:
        builder.drain(day.DRAINED_NODE, drain_at, churn)
    churn.sort(key=lambda e: e.at)
    return Cluster(node_list, workloads, builder.pods, builder.replicasets, churn)


def _build_nodes(anchor: float, begin: float, count: int) -> list[Node]:
    result = [Node("control-plane-1", "10.0.0.10", "10.244.0.0/24", 0, begin, control_plane=True)]
    for i in range(1, count):
        start = anchor - NEW_NODE_AGO if i == count - 1 else begin
        third, fourth = divmod(10 + i, 250)
        result.append(
            Node(f"worker-{i}", f"10.0.{third}.{fourth}", f"10.244.{i}.0/24", i, start)
        )
    return result


def _build_workloads(
    rng: random.Random, anchor: float, begin: float, pods: int, nodes: int
) -> list[Workload]:
    def make(spec: tuple[str, str, str, int, float, float, dict[str, object]], start: float,
             end: float = float("inf")) -> Workload:
        ns, kind, name, replicas, cpu, tx, extra = spec
        return Workload(ns, kind, name, replicas, cpu, tx, start, end, **extra)  # type: ignore[arg-type]

    result = [make(spec, begin) for spec in DEFAULT_WORKLOADS]
    result.append(make((*RETIRED, {}), begin, anchor - RETIRED_AGO))
    result.append(
        make((*NEW_DAEMONSET, {"host_network": True, "priority_class": "node-debug-privileged"}),
             anchor - NEW_DAEMONSET_AGO)
    )
    # The scale knob: add synthetic workloads until the pod count is reached.
    current = sum(w.replicas for w in result) + 5 * nodes
    i = 0
    while current < pods - 5:
        replicas = 2 + rng.randrange(7)
        ns = f"team-{i % max(1, pods // 200):03d}"
        result.append(Workload(ns, "Deployment", f"svc-{i:04d}", replicas, 0.1, 1e5, begin))
        current += replicas
        i += 1
    return result


class _PodBuilder:
    def __init__(self, rng: random.Random, nodes: list[Node], begin: float, anchor: float) -> None:
        self.rng = rng
        self.nodes = nodes
        self.begin = begin
        self.anchor = anchor
        self.pods: list[Pod] = []
        self.replicasets: list[tuple[str, str, str, float, float]] = []
        self._ip_counter: dict[int, int] = {}
        self._rr = 0
        self.cordons: list[tuple[str, float, float]] = []  # (node, from, until): no new pods

    def _ip(self, node: Node) -> str:
        n = self._ip_counter.get(node.index, 1) + 1
        self._ip_counter[node.index] = n
        base = node.pod_cidr.rsplit(".", 1)[0]  # "10.244.3.0/24" -> "10.244.3"
        return f"{base}.{n % 250 + 2}"

    def _pick_node(self, t: float, avoid: set[str] | frozenset[str] = frozenset()) -> Node:
        avoid = avoid | {name for name, since, until in self.cordons if since <= t < until}
        workers = [n for n in self.nodes
                   if not n.control_plane and n.alive(t) and n.name not in avoid]
        self._rr += 1
        return workers[(self._rr * 7 + self.rng.randrange(3)) % len(workers)]

    def _pod(self, w: Workload, name: str, node: Node, owner_kind: str, owner_name: str,
             start: float, end: float) -> Pod:
        if w.kind == "StaticPod":  # kube-apiserver-control-plane-1 runs kube-apiserver
            container = name.removesuffix(f"-{owner_name}")
        else:
            container = "report" if w.kind == "CronJob" else w.name.split("-")[0]
        pod_ip = node.internal_ip if w.host_network else self._ip(node)
        pod = Pod(
            w.namespace, name, _uid(self.rng), node.name, node.internal_ip, pod_ip, w,
            owner_kind, owner_name, start, end, container,
            f"registry.example.com/{w.namespace}/{w.name}:1.{self.rng.randrange(40)}",
            f"{self.rng.getrandbits(256):064x}",
        )
        self.pods.append(pod)
        return pod

    def add_static_pods(self, node: Node) -> list[Workload]:
        """The kubelet's static pods on a control-plane node: each one a workload of its own."""
        result = []
        for component, cpu in STATIC_PODS:
            w = Workload("kube-system", "StaticPod", f"{component}-{node.name}", 1, cpu, 0.0,
                         node.start, node.end, host_network=True,
                         priority_class="system-node-critical", rollouts=False)
            result.append(w)
            self._pod(w, w.name, node, "Node", node.name, node.start, node.end)
        return result

    def add_workload(self, w: Workload, quiet_from: float, churn: list[ChurnEvent]) -> None:
        if w.kind == "StaticPod":
            return  # made with its node
        if w.kind == "DaemonSet":
            for node in self.nodes:
                if node.control_plane and not w.control_plane:
                    continue
                start = max(w.start, node.start)
                if start < w.end:
                    self._pod(w, f"{w.name}-{_suffix(self.rng, 5)}", node, "DaemonSet", w.name,
                              start, w.end)
            return
        if w.kind == "StatefulSet":
            for i in range(w.replicas):
                self._pod(w, f"{w.name}-{i}", self._pick_node(w.start), "StatefulSet", w.name,
                          w.start, w.end)
            return
        # Deployment or Argo Rollout: a ReplicaSet per rollout; a rolling update replaces one
        # pod a minute.
        times = [w.start]
        if w.rollouts:
            t = w.start + self.rng.uniform(1, 6) * DAY
            while t < min(w.end, quiet_from):
                times.append(round(t / 300) * 300)
                t += self.rng.uniform(3, 9) * DAY
        for ns, name, event in day.SCRIPTED_ROLLOUTS:
            at = day.start_of(event, self.anchor)
            if (w.namespace, w.name) == (ns, name) and w.start < at < w.end:
                times = sorted({*(x for x in times if abs(x - at) > 6 * HOUR), at})
        for idx, start in enumerate(times):
            following = times[idx + 1] if idx + 1 < len(times) else None
            stagger = day.ROLL_STEP if idx > 0 else 0.0
            rs = f"{w.name}-{_suffix(self.rng, 9)}"
            rs_end = w.end if following is None else min(w.end, following + w.replicas * day.ROLL_STEP)
            self.replicasets.append((w.namespace, rs, w.name, start, rs_end))
            if idx > 0:
                churn.append(ChurnEvent(start, "rollout", w.key, rs))
            for i in range(w.replicas):
                end = w.end if following is None else min(w.end, following + (i + 1) * day.ROLL_STEP)
                self._pod(w, f"{rs}-{_suffix(self.rng, 5)}", self._pick_node(start + i * stagger),
                          "ReplicaSet", rs, start + i * stagger, end)
            if (w.namespace, w.name) == day.HPA[:2]:
                self._scale_up(w, rs, start, rs_end)

    def _scale_up(self, w: Workload, rs: str, since: float, until: float) -> None:
        """The HorizontalPodAutoscaler adds pods to the current ReplicaSet for an hour."""
        event = day.event("hpa-scale-up")
        at = day.start_of(event.name, self.anchor)
        if not since <= at < until:
            return
        for i in range(day.HPA[2]):
            start = at + 15 * i
            self._pod(w, f"{rs}-{_suffix(self.rng, 5)}", self._pick_node(start), "ReplicaSet", rs,
                      start, at + event.duration)

    def move_pods(self, anchor: float, churn: list[ChurnEvent]) -> None:
        """Recreate a few StatefulSet pods on another node (a drained node, a rescheduled pod)."""
        for ns, workload, ordinal, ago in MOVED_PODS:
            at = round((anchor - ago) / 300) * 300
            if at <= self.begin:
                continue
            name = f"{workload}-{ordinal}"
            old = next(p for p in self.pods if p.namespace == ns and p.name == name and p.alive(at))
            self.pods.remove(old)
            self.pods.append(_replace_end(old, at))
            targets = [n for n in self.nodes if not n.control_plane and n.alive(at)
                       and n.name != old.node]
            node = targets[ordinal % len(targets)]
            self._pod(old.workload, name, node, old.owner_kind, old.owner_name, at, old.end)
            churn.append(ChurnEvent(at, "pod-moved", f"{ns}/{name}", f"{old.node} -> {node.name}"))

    def add_cronjob(self, begin: float, anchor: float) -> None:
        """An hourly CronJob whose Job runs 3 pods for 10 minutes (at :00), from a day before
        the anchor to a week after it (so the live lab keeps running it)."""
        ns, name = CRONJOB
        first = (int(anchor - DAY) // 3600 + 1) * 3600
        for start in range(first, int(anchor + WEEK), 3600):
            job = f"{name}-{start // 60}"
            w = Workload(ns, "CronJob", name, 3, 0.9, 1e4, start, start + 600, rollouts=False)
            for _ in range(w.replicas):
                node = self._pick_node(start)
                self._pod(w, f"{job}-{_suffix(self.rng, 5)}", node, "Job", job, start, start + 600)

    def drain(self, node_name: str, at: float, churn: list[ChurnEvent]) -> None:
        """kubectl drain: every pod but DaemonSets' leaves the node; a StatefulSet pod comes back
        under its name on another node, the others under new names."""
        churn.append(ChurnEvent(at, "node-drained", node_name))
        for old in [p for p in self.pods if p.node == node_name and p.alive(at)]:
            if old.owner_kind in ("DaemonSet", "Node"):
                continue
            self.pods.remove(old)
            self.pods.append(_replace_end(old, at))
            if old.owner_kind == "StatefulSet":
                name, start = old.name, at + 30
            else:
                name, start = f"{old.owner_name}-{_suffix(self.rng, 5)}", at + 5
            # a StatefulSet pod moved before does not go back where it was (a diff shows it moved)
            node = self._pick_node(start, {p.node for p in self.pods if p.key == old.key})
            self._pod(old.workload, name, node, old.owner_kind, old.owner_name, start, old.end)
            if name == old.name:
                churn.append(ChurnEvent(start, "pod-moved", old.key, f"{node_name} -> {node.name}"))


def _replace_end(pod: Pod, end: float) -> Pod:
    return replace(pod, end=end)


__all__ = ["CRONJOB", "DAY", "HOUR", "MOVED_PODS", "NEW_DAEMONSET", "NEW_DAEMONSET_AGO",
           "NEW_NODE_AGO", "RETIRED", "RETIRED_AGO", "WEEK", "ChurnEvent", "Cluster", "Node", "Pod",
           "Workload", "build_cluster"]
