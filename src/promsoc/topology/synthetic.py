"""Synthetic kube-state-metrics and mesh samples, so tests and the benchmark need no Prometheus."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from promsoc.prom.types import Sample
from promsoc.topology.build import build_topology
from promsoc.topology.model import Edge, Topology


@dataclass
class SyntheticCluster:
    """Samples shaped like the real exporters' (see reference/metrics.md) for a made-up cluster."""

    pod_info: list[Sample] = field(default_factory=list)
    pod_owner: list[Sample] = field(default_factory=list)
    rs_owner: list[Sample] = field(default_factory=list)
    node_info: list[Sample] = field(default_factory=list)
    istio_total: list[Sample] = field(default_factory=list)
    istio_errors: list[Sample] = field(default_factory=list)


def pod_samples(
    namespace: str,
    pod: str,
    node: str,
    owner_kind: str = "",
    owner_name: str = "",
    host_network: bool = False,
    priority_class: str = "",
    at: float = 0.0,
    pod_ip: str = "10.0.0.1",
) -> tuple[Sample, Sample]:
    """kube_pod_info and kube_pod_owner for one pod (owner '' = no controller)."""
    info = Sample(
        {
            "namespace": namespace,
            "pod": pod,
            "uid": f"uid-{namespace}-{pod}",
            "host_ip": "192.168.0.1",
            "pod_ip": pod_ip,
            "node": node,
            "created_by_kind": owner_kind,
            "created_by_name": owner_name,
            "priority_class": priority_class,
            "host_network": "true" if host_network else "false",
        },
        at,
        at,
    )
    owner = Sample(
        {
            "namespace": namespace,
            "pod": pod,
            "uid": f"uid-{namespace}-{pod}",
            "owner_kind": owner_kind,
            "owner_name": owner_name,
            "owner_is_controller": "true" if owner_kind else "",
        },
        at,
        at,
    )
    return info, owner


def rs_sample(
    namespace: str, replicaset: str, owner: str, at: float = 0.0, kind: str = "Deployment"
) -> Sample:
    """kube_replicaset_owner: the ReplicaSet's owner (a Deployment, an Argo Rollout...)."""
    labels = {
        "namespace": namespace,
        "replicaset": replicaset,
        "owner_kind": kind,
        "owner_name": owner,
        "owner_is_controller": "true",
    }
    return Sample(labels, at, at)


def job_sample(namespace: str, job: str, cronjob: str, at: float = 0.0) -> Sample:
    """kube_job_owner: the Job's CronJob."""
    labels = {
        "namespace": namespace,
        "job_name": job,
        "owner_kind": "CronJob",
        "owner_name": cronjob,
        "owner_is_controller": "true",
    }
    return Sample(labels, at, at)


def node_sample(name: str, ip: str = "192.168.0.1", at: float = 0.0) -> Sample:
    labels = {"node": name, "internal_ip": ip, "kubelet_version": "v1.31.0", "os_image": "Debian"}
    return Sample(labels, at, at)


def generate(
    pods: int = 5000,
    nodes: int = 200,
    workloads: int = 800,
    at: float = 0.0,
    seed: int = 7,
    rolled: int = 0,
) -> SyntheticCluster:
    """A cluster of the given size: mostly Deployments, a few DaemonSets/StatefulSets, traffic."""
    rng = random.Random(seed)
    cluster = SyntheticCluster()
    node_names = [f"worker-{i:03d}" for i in range(nodes)]
    cluster.node_info = [node_sample(n, f"192.168.{i // 250}.{i % 250}", at) for i, n in enumerate(node_names)]
    specs = []
    for index in range(workloads):
        namespace = f"ns-{index % 40:02d}"
        kind = "DaemonSet" if index % 50 == 0 else "StatefulSet" if index % 10 == 0 else "Deployment"
        specs.append((namespace, kind, f"app-{index:04d}"))
    for index in range(pods):
        namespace, kind, name = specs[index % workloads]
        node = node_names[rng.randrange(nodes)]
        if kind == "Deployment":
            replicaset = f"{name}-{'7b6c4d' if index % workloads < rolled else '5d8f9c'}"
            pod = f"{replicaset}-{index:05d}"
            info, owner = pod_samples(namespace, pod, node, "ReplicaSet", replicaset, at=at)
            if index < workloads:
                cluster.rs_owner.append(rs_sample(namespace, replicaset, name, at))
        else:
            pod = f"{name}-{index:05d}"
            info, owner = pod_samples(namespace, pod, node, kind, name, host_network=kind == "DaemonSet", at=at)
        cluster.pod_info.append(info)
        cluster.pod_owner.append(owner)
    for index in range(min(workloads, 1600)):
        src = specs[index % workloads]
        dst = specs[(index * 7 + 3) % workloads]
        for policy, share in (("mutual_tls", 0.9), ("none", 0.1 if index % 9 == 0 else 0.0)):
            labels = {
                "source_workload_namespace": src[0],
                "source_workload": src[2],
                "destination_workload_namespace": dst[0],
                "destination_workload": dst[2],
                "connection_security_policy": policy,
            }
            cluster.istio_total.append(Sample(labels, 10.0 * share, at))
        err_labels = {
            "source_workload_namespace": src[0],
            "source_workload": src[2],
            "destination_workload_namespace": dst[0],
            "destination_workload": dst[2],
        }
        cluster.istio_errors.append(Sample(err_labels, 0.1, at))
    return cluster


def _pod(spec: tuple[Any, ...], at: float) -> tuple[Sample, Sample]:
    namespace, pod, node, kind, name, *rest = spec
    host_network = bool(rest[0]) if rest else False
    priority = str(rest[1]) if len(rest) > 1 else ""
    return pod_samples(namespace, pod, node, kind, name, host_network, priority, at=at)


def _small(at: float, pods: list[tuple[Any, ...]], nodes: list[str], edges: list[Edge]) -> Topology:
    built = [_pod(spec, at) for spec in pods]
    return build_topology(
        at,
        [b[0] for b in built],
        [b[1] for b in built],
        [rs_sample("shop", "web-1", "web", at), rs_sample("shop", "web-2", "web", at)],
        [node_sample(n, at=at) for n in nodes],
        edges=edges,
        mesh="istio",
    )


def churn_pair() -> tuple[Topology, Topology]:
    """Two small maps a day apart with one of every change the diff knows (tests, screenshots)."""
    before = _small(
        0.0,
        [
            ("shop", "web-1-a", "w1", "ReplicaSet", "web-1"),
            ("shop", "db-0", "w1", "StatefulSet", "db"),
            ("batch", "old-job-1-abcde", "w2", "Job", "old-job-1"),
        ],
        ["w1", "w2"],
        [
            Edge("shop/web", "shop/db", 5.0, 0.0, True),
            Edge("shop/web", "shop/cache", 1.0, 0.0, True),
        ],
    )
    after = _small(
        86400.0,
        [
            ("shop", "web-2-b", "w1", "ReplicaSet", "web-2"),
            ("shop", "db-0", "w3", "StatefulSet", "db"),
            ("kube-system", "agent-x", "w3", "DaemonSet", "agent", True, "system-node-critical"),
        ],
        ["w1", "w2", "w3"],
        [
            Edge("shop/web", "shop/db", 5.0, 0.0, False),
            Edge("shop/web", "shop/cache", 1.0, 0.0, True),
            Edge("shop/web", "kube-system/agent", 0.5, 0.0, True),
        ],
    )
    return before, after
