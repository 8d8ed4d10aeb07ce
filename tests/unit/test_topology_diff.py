"""Diff between two maps: every kind of change the issue lists, and nothing else."""

from __future__ import annotations

from promsoc.topology.diff import Move, diff_topology
from promsoc.topology.export import to_json
from promsoc.topology.synthetic import churn_pair

BEFORE, AFTER = churn_pair()


def test_diff_lists_each_kind_of_change() -> None:
    diff = diff_topology(BEFORE, AFTER)
    assert diff.added_pods == ["kube-system/agent-x", "shop/web-2-b"]
    assert diff.removed_pods == ["batch/old-job-1-abcde", "shop/web-1-a"]
    assert diff.moved_pods == [Move("shop/db-0", "w1", "w3")]
    assert diff.added_workloads == ["kube-system/DaemonSet/agent"]
    assert diff.removed_workloads == ["batch/Job/old-job-1"]
    assert diff.added_nodes == ["w3"] and diff.removed_nodes == []
    assert diff.new_daemonsets == ["kube-system/DaemonSet/agent"]
    assert diff.new_host_network_pods == ["kube-system/agent-x"]
    assert diff.new_priority_classes == ["system-node-critical"]
    assert [e.key for e in diff.new_edges] == [("shop/web", "kube-system/agent")]
    assert [e.key for e in diff.lost_mtls_edges] == [("shop/web", "shop/db")]


def test_rollout_replacing_a_replicaset_keeps_the_deployment() -> None:
    """A new ReplicaSet under the same Deployment is pod churn, not a new workload."""
    diff = diff_topology(BEFORE, AFTER)
    assert "shop/Deployment/web" not in diff.added_workloads + diff.removed_workloads


def test_diff_of_a_map_with_itself_is_empty() -> None:
    diff = diff_topology(AFTER, AFTER)
    assert diff.empty
    assert diff.pod_mark("shop/db-0") == " "


def test_marks() -> None:
    diff = diff_topology(BEFORE, AFTER)
    assert diff.pod_mark("shop/web-2-b") == "+"
    assert diff.pod_mark("shop/web-1-a") == "-"
    assert diff.pod_mark("shop/db-0") == "~"
    assert diff.workload_mark("batch/Job/old-job-1") == "-"
    assert diff.node_mark("w3") == "+"


def test_json_has_the_contract_keys() -> None:
    diff = diff_topology(BEFORE, AFTER)
    out = to_json(AFTER, "demo", diff)
    assert out["at"] == "1970-01-02T00:00:00Z"
    assert out["source"] == "demo"
    assert {"at", "source", "nodes", "workloads", "edges", "diff"} <= out.keys()
    assert out["diff"]["against"] == "1970-01-01T00:00:00Z"
    for key in ("added_pods", "removed_pods", "added_workloads", "removed_workloads"):
        assert key in out["diff"]
    pod = next(p for n in out["nodes"] for p in n["pods"] if p["name"] == "web-2-b")
    expected = {
        "namespace": "shop",
        "name": "web-2-b",
        "workload_kind": "Deployment",
        "workload": "web",
        "pod_ip": "10.0.0.1",
        "host_network": False,
    }
    assert {k: pod[k] for k in expected} == expected
    assert {"namespace": "shop", "kind": "Deployment", "name": "web", "pods": 1} in out["workloads"]
    edge = next(e for e in out["edges"] if e["destination"] == "shop/db")
    assert edge == {
        "source": "shop/web",
        "destination": "shop/db",
        "rps": 5.0,
        "error_ratio": 0.0,
        "mtls": False,
    }
    assert "diff" not in to_json(AFTER, "demo")
