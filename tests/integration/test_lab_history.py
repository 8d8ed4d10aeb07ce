"""The lab's history in Prometheus matches the simulated cluster's churn, now, 2d and 4w ago."""

from __future__ import annotations

import time

import pytest

from promsoc.lab import Lab
from promsoc.lab.cluster import DAY, NEW_DAEMONSET_AGO, RETIRED_AGO, WEEK
from promsoc.lab.simulator import SPARSE_STEP, TOPOLOGY_STEP
from tests.integration.labquery import query, scalar


def _quiet_now(lab: Lab) -> float:
    """A recent moment (and the same moment two days before) not within a minute of a CronJob pod
    starting, nor within the 5-minute lookback after one ended (an end backfilled into the gap
    of a cached history leaves no staleness marker)."""
    pods = lab.scenario.cluster.pods

    def busy(t: float, settle: float) -> bool:
        return any(-60 < t - p.start < settle or -60 < t - p.end < 330 for p in pods)

    # two days back the history holds a sample every TOPOLOGY_STEP: a pod started since the last
    # one is not in it yet, so `offset 2d` needs that moment quiet for a whole step too
    t = time.time() - 20
    while busy(t, 60) or busy(t - 2 * DAY, TOPOLOGY_STEP + 60):
        t -= 30
    return t


def _pod_names(lab: Lab, expr: str, at: float) -> set[str]:
    return {f"{r['metric']['namespace']}/{r['metric']['pod']}" for r in query(lab.url, expr, at)}


def test_pods_now_2d_and_4w_ago_match_the_cluster(lab: Lab) -> None:
    cluster = lab.scenario.cluster
    now = _quiet_now(lab)
    two_days = lab.anchor - 2 * DAY
    # 4 weeks ago the history is sparse: take the sample at or before the moment
    four_weeks = lab.anchor - 4 * WEEK
    sparse = four_weeks // SPARSE_STEP * SPARSE_STEP
    expected = {
        now: {p.key for p in cluster.pods_at(now)},
        two_days: {p.key for p in cluster.pods_at(two_days)},
        four_weeks: {p.key for p in cluster.pods_at(sparse)},
    }
    seen = {
        now: _pod_names(lab, "kube_pod_info", now),
        two_days: _pod_names(lab, "kube_pod_info", two_days),
        four_weeks: _pod_names(lab, "last_over_time(kube_pod_info[15m])", four_weeks),
    }
    for at in expected:
        assert seen[at] == expected[at], at
    # ... and differ exactly as the churn says
    debugger_now = {k for k in seen[now] if k.startswith("kube-system/node-debugger-")}
    assert len(debugger_now) == len([n for n in cluster.nodes_at(now) if not n.control_plane])
    assert not any(k.startswith("kube-system/node-debugger-") for k in seen[two_days])
    retired = {k for k in seen[four_weeks] if k.startswith("shop/legacy-search-")}
    assert len(retired) == 3 and not retired & seen[now]
    count_now = scalar(lab.url, "count(kube_pod_info)", now)
    count_2d = scalar(lab.url, "count(kube_pod_info offset 2d)", now)
    assert count_now == len(expected[now])
    assert count_2d == len({p.key for p in cluster.pods_at(now - 2 * DAY)})


def test_nodes_and_workload_churn(lab: Lab) -> None:
    cluster = lab.scenario.cluster
    nodes_now = {r["metric"]["node"] for r in query(lab.url, "kube_node_info")}
    nodes_then = {r["metric"]["node"] for r in query(
        lab.url, "last_over_time(kube_node_info[15m])", lab.anchor - 4 * WEEK)}
    assert nodes_now == {n.name for n in cluster.nodes_at(time.time())}
    added = nodes_now - nodes_then
    assert added == {e.subject for e in cluster.churn if e.kind == "node-added"}
    assert len(nodes_now) == 7 and len(nodes_then) == 5
    kinds = {e.kind for e in cluster.churn}
    assert {"rollout", "pod-moved", "node-added", "workload-retired", "workload-added"} <= kinds
    retired = next(e for e in cluster.churn if e.kind == "workload-retired")
    assert abs(retired.at - (lab.anchor - RETIRED_AGO)) < 1
    added_ds = next(e for e in cluster.churn if e.kind == "workload-added")
    assert added_ds.subject == "kube-system/DaemonSet/node-debugger"
    assert abs(added_ds.at - (lab.anchor - NEW_DAEMONSET_AGO)) < 1


def test_moved_pod_changes_node_between_samples(lab: Lab) -> None:
    moved = [e for e in lab.scenario.cluster.churn if e.kind == "pod-moved"]
    assert moved
    for event in moved:
        ns, name = event.subject.split("/")
        before = query(lab.url, f'kube_pod_info{{namespace="{ns}", pod="{name}"}}', event.at - 600)
        after = query(lab.url, f'kube_pod_info{{namespace="{ns}", pod="{name}"}}', event.at + 600)
        old, new = event.detail.split(" -> ")
        assert [r["metric"]["node"] for r in before] == [old]
        assert [r["metric"]["node"] for r in after] == [new]


@pytest.mark.parametrize("kind", ["Deployment", "Rollout"])
def test_replicaset_pods_resolve_to_their_owner(lab: Lab, kind: str) -> None:
    expr = f"""label_replace(kube_pod_owner{{owner_kind="ReplicaSet"}}, "replicaset", "$1", "owner_name", "(.*)")
      * on (namespace, replicaset) group_left (workload)
      label_replace(kube_replicaset_owner{{owner_kind="{kind}"}}, "workload", "$1", "owner_name", "(.*)")"""
    at = _quiet_now(lab)
    rows = query(lab.url, expr, at)
    truth = {p.key: p for p in lab.scenario.cluster.pods_at(at)
             if p.owner_kind == "ReplicaSet" and p.workload.kind == kind}
    assert len(rows) == len(truth) > (50 if kind == "Deployment" else 3)
    for row in rows:
        pod = truth[f"{row['metric']['namespace']}/{row['metric']['pod']}"]
        assert row["metric"]["workload"] == pod.workload.name
        assert pod.name.startswith(row["metric"]["replicaset"] + "-")


def test_cronjob_jobs_and_static_pods_name_their_owners(lab: Lab) -> None:
    at = _quiet_now(lab)
    jobs = query(lab.url, 'kube_job_owner{owner_kind="CronJob"}', at)
    assert jobs and {r["metric"]["owner_name"] for r in jobs} == {"report-builder"}
    static = {r["metric"]["pod"]: r["metric"]["owner_name"]
              for r in query(lab.url, 'kube_pod_owner{owner_kind="Node"}', at)}
    assert static == {p.name: p.node for p in lab.scenario.cluster.pods_at(at) if p.owner_kind == "Node"}
    assert "kube-apiserver-control-plane-1" in static


def test_traffic_history_reaches_a_week_back(lab: Lab) -> None:
    for offset in ("1h", "1d", "7d"):
        value = scalar(lab.url, f"sum(rate(nginx_ingress_controller_requests[5m] offset {offset}))")
        assert value is not None and value > 50, offset
    assert scalar(lab.url, "sum(rate(nginx_ingress_controller_requests[5m] offset 9d))") is None
