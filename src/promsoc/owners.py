"""Which workload a pod belongs to: one rule set, read by the sibling detectors and the topology.

kube-state-metrics names a pod's direct controller (`kube_pod_owner`), and the controllers'
own owners in one metric per kind (`kube_replicaset_owner`, `kube_job_owner`). A pod's
workload is the top of that chain:
- a ReplicaSet owned by anything (a Deployment, an Argo Rollout, another controller) belongs
  to that owner; a ReplicaSet without an owner is the workload itself;
- a Job owned by a CronJob belongs to the CronJob (each run is a new Job); a bare Job is itself;
- a static pod (owner `Node`: the kubelet runs it from a manifest) is a workload of its own:
  kube-apiserver, etcd and the scheduler on one control-plane node are not siblings;
- StatefulSets, DaemonSets and any other controller are the workload themselves;
- a pod without an owner is its own `Pod` workload (it has no siblings).

`fragments.pod_workload()` writes these rules as PromQL from the same table; `resolve()` applies
them to samples in Python for the topology.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STATIC_OWNER = "Node"
"""`owner_kind` of a static (mirror) pod."""
STATIC_KIND = "StaticPod"
"""The workload kind a static pod gets: one workload per pod."""
NO_OWNER = ("", "<none>")
"""kube-state-metrics writes `<none>` (older releases: empty labels) when there is no owner."""


@dataclass(frozen=True)
class Link:
    """How a pod's controller of `child_kind` names its own owner in kube-state-metrics."""

    child_kind: str
    metric: str
    child_label: str
    parent_kinds: tuple[str, ...] | None
    """Owner kinds that take over the child's pods (None: any owner)."""

    def adopts(self, parent_kind: str) -> bool:
        if parent_kind in NO_OWNER:
            return False
        return self.parent_kinds is None or parent_kind in self.parent_kinds


LINKS = (
    Link("ReplicaSet", "kube_replicaset_owner", "replicaset", None),
    Link("Job", "kube_job_owner", "job_name", ("CronJob",)),
)
PARENT_METRICS = tuple(link.metric for link in LINKS)

Parents = dict[tuple[str, str, str], tuple[str, str]]
"""(child kind, namespace, child name) -> (owner kind, owner name)."""


def parent_map(samples: Iterable[Mapping[str, str]]) -> Parents:
    """Label sets of `kube_replicaset_owner` / `kube_job_owner` -> the owners that adopt pods.

    The metric name may be gone (a `timestamp()` query drops it): each link's child label
    (`replicaset`, `job_name`) tells them apart.
    """
    parents: Parents = {}
    for labels in samples:
        kind, name = labels.get("owner_kind", ""), labels.get("owner_name", "")
        for link in LINKS:
            child = labels.get(link.child_label, "")
            if child and name and link.adopts(kind):
                parents[(link.child_kind, labels.get("namespace", ""), child)] = (kind, name)
    return parents


def resolve(
    namespace: str, pod: str, owner: tuple[str, str] | None, parents: Parents
) -> tuple[str, str]:
    """A pod's workload (kind, name) from its controller `owner` and the controllers' owners."""
    if owner is None or owner[0] in NO_OWNER or not owner[1]:
        return ("Pod", pod)
    kind, name = owner
    if kind == STATIC_OWNER:
        return (STATIC_KIND, pod)
    return parents.get((kind, namespace, name), (kind, name))
