"""Filtering the map by namespace, node or name."""

from __future__ import annotations

from promsoc.topology.diff import diff_topology
from promsoc.topology.select import filter_diff, filter_topology, parse_filter
from promsoc.topology.synthetic import churn_pair

BEFORE, AFTER = churn_pair()


def test_parse_filter() -> None:
    assert parse_filter("ns:Shop node:w1 web") == [("ns", "shop"), ("node", "w1"), ("any", "web")]
    assert parse_filter("  ") == []


def test_filter_by_namespace_keeps_its_workloads_and_edges() -> None:
    shop = filter_topology(AFTER, "ns:shop")
    assert sorted(shop.pods) == [("shop", "db-0"), ("shop", "web-2-b")]
    assert sorted(shop.workloads) == ["shop/Deployment/web", "shop/StatefulSet/db"]
    assert sorted(shop.nodes) == ["w1", "w3"]
    assert len(shop.edges) == 3  # every edge touches shop/web


def test_filter_by_node_and_name() -> None:
    assert sorted(filter_topology(AFTER, "node:w3").pods) == [
        ("kube-system", "agent-x"),
        ("shop", "db-0"),
    ]
    assert sorted(filter_topology(AFTER, "agent").pods) == [("kube-system", "agent-x")]
    assert filter_topology(AFTER, "nothing-matches").pods == {}
    assert filter_topology(AFTER, "") is AFTER


def test_filter_diff_narrows_removed_pods() -> None:
    diff = filter_diff(diff_topology(BEFORE, AFTER), "ns:batch")
    assert [p.ref for p in diff.removed] == ["batch/old-job-1-abcde"]
    assert diff.pod_mark("batch/old-job-1-abcde") == "-"
