"""Reusable PromQL fragments the packs reference as `{{ name }}` macros."""

from __future__ import annotations

import re
from collections.abc import Sequence

from promsoc import owners

PODS_PER_NODE = 'count by (node) (kube_pod_info{node!=""})'
"""Pods scheduled on each node (`{{ pods_per_node }}`), one series per node."""

_METRIC_NAME = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def family_of(selector: str) -> str:
    """The metric name a selector starts with (`a_total{x="y"}` -> `a_total`)."""
    match = _METRIC_NAME.match(selector)
    if match is None:
        raise ValueError(f"selector {selector!r} does not start with a metric name")
    return match.group(1)


def target_seen(families: Sequence[str], window: str = "{{ window }}") -> str:
    """One series per (job, instance) that reported any of `families` just before the window.

    An instant lookup at the window's start (one sample per series, within the 5m lookback):
    cheap even on a whole apiserver_request_total family.
    """
    parts = " or ".join(f"{name} offset {window}" for name in dict.fromkeys(families))
    return f"group by (job, instance) ({parts})"


def increase_new(
    selector: str, window: str = "{{ window }}", heartbeats: Sequence[str] = ()
) -> str:
    """increase() that also counts series born inside the window, on targets already scraped.

    A counter series appears with its first value already counted (a rule's first
    match, the first 403 on a resource); `increase()` never sees that step. Series
    never seen in the hour before the window contribute their whole value instead. A
    series that merely comes back after a scrape gap (a network blip, Prometheus or the
    exporter restarting) was seen in that hour, so only its increase counts: testing
    "absent `window` ago" alone would count its whole lifetime as one burst.

    A series is only "born" if its target (job, instance) was already reporting at the
    window's start: the selector's family or one of `heartbeats` (families the same
    endpoint always exports, for families that only appear with their first event). A
    target Prometheus sees for the first time (a fresh Prometheus, a new apiserver replica,
    a new Falco pod) brings counters holding its whole lifetime; those are not a burst.
    """
    seen = target_seen((family_of(selector), *heartbeats), window)
    born = f"({selector} unless present_over_time({selector}[1h] offset {window}))"
    return f"(({born} and on (job, instance) {seen}) or increase({selector}[{window}]))"


def label_filter(label: str, values: Sequence[str]) -> str:
    """A vector with one element per value of `label`, for `X and on (label) <this>`."""
    parts = [f'label_replace(vector(1), "{label}", "{v}", "", "")' for v in values]
    return "(" + " or ".join(parts) + ")"


def _rename(expr: str, target: str, source: str) -> str:
    return f'label_replace({expr}, "{target}", "$1", "{source}", "(.*)")'


def _workload_labels(expr: str) -> str:
    return _rename(_rename(expr, "workload_kind", "owner_kind"), "workload", "owner_name")


def pod_workload() -> str:
    """One series per pod, value 1, labelled with the pod's workload (kind and name).

    The rules are promsoc.owners' (the topology applies the same ones in Python): a pod
    whose controller has an owner that adopts it (a ReplicaSet's Deployment or Argo Rollout,
    a Job's CronJob) belongs to that owner; a static pod (owner Node) is a workload of its
    own; otherwise the controller is the workload. Pods without an owner are left out: they
    have no siblings to be compared with.
    """
    pod_owner = 'kube_pod_owner{owner_is_controller="true"'
    by = "max by (namespace, pod, workload_kind, workload) "
    none = "|".join(owners.NO_OWNER)
    parts = []
    for link in owners.LINKS:
        kinds = f'owner_kind=~"{"|".join(link.parent_kinds)}"' if link.parent_kinds else (
            f'owner_kind!~"{none}", owner_name!=""'
        )
        child = _rename(
            f'{pod_owner}, owner_kind="{link.child_kind}"}}', link.child_label, "owner_name"
        )
        parent = (
            f"max by (namespace, {link.child_label}, workload_kind, workload) ("
            + _workload_labels(f"{link.metric}{{{kinds}}}")
            + ")"
        )
        parts.append(
            f"{by}({child} * on (namespace, {link.child_label}) "
            f"group_left (workload_kind, workload) {parent})"
        )
    static = _rename(
        f'label_replace({pod_owner}, owner_kind="{owners.STATIC_OWNER}"}}, '
        f'"workload_kind", "{owners.STATIC_KIND}", "", "")',
        "workload",
        "pod",
    )
    parts.append(f"{by}({static})")
    direct = _workload_labels(f'{pod_owner}, owner_kind!~"{none}|{owners.STATIC_OWNER}"}}')
    parts.append(f"{by}({direct})")
    return "(" + " or on (namespace, pod) ".join(parts) + ")"
