"""ASCII views: 80 columns, marks without colour, hostile label values made inert."""

from __future__ import annotations

import pytest

from promsoc.text import safe
from promsoc.topology.build import build_topology, istio_edges
from promsoc.topology.diff import diff_topology
from promsoc.topology.model import Topology
from promsoc.topology.render import (
    as_text,
    render_diff_summary,
    render_nodes,
    render_traffic,
    render_workloads,
)
from promsoc.topology.synthetic import churn_pair, generate, node_sample, pod_samples

BEFORE, AFTER = churn_pair()

HOSTILE = "evil\x1b]8;;http://x\x07click\x1b]8;;\x07\x1b[31mRED\x1b[0m\u202egnp.exe\r\nrm -rf\x00" + "A" * 500


def _hostile_topology() -> Topology:
    info, owner = pod_samples(HOSTILE, HOSTILE, HOSTILE, "DaemonSet", HOSTILE, True, HOSTILE)
    return build_topology(0.0, [info], [owner], [], [node_sample(HOSTILE, HOSTILE)])


@pytest.mark.parametrize("view", [render_nodes, render_workloads, render_traffic])
def test_views_fit_80_columns_at_scale(view) -> None:  # type: ignore[no-untyped-def]
    cluster = generate(pods=400, nodes=20, workloads=60)
    topo = build_topology(
        0.0,
        cluster.pod_info,
        cluster.pod_owner,
        cluster.rs_owner,
        cluster.node_info,
        istio_edges(cluster.istio_total, cluster.istio_errors),
        "istio",
    )
    lines = as_text(view(topo)).splitlines()
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize("view", [render_nodes, render_workloads, render_diff_summary])
def test_hostile_values_are_inert_and_bounded(view) -> None:  # type: ignore[no-untyped-def]
    topo = _hostile_topology()
    arg = diff_topology(build_topology(0.0, [], [], [], []), topo) if view is render_diff_summary else topo
    text = as_text(view(arg))
    assert all(ch == "\n" or " " <= ch <= "~" for ch in text), repr(text[:200])
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "A" * 100 not in text


def test_safe_strips_escapes_and_cuts() -> None:
    assert safe("a\x1b[31mb") == "a?b"
    assert safe("x\x1b]0;title\x07y") == "x?y"
    assert safe("\u202eevil") == "?evil"
    assert safe("caf\u00e9") == "caf?"
    assert safe("caf\u00e9", ascii_only=False) == "caf\u00e9"
    assert safe("\u202e", ascii_only=False) == "?"
    assert safe("a" * 100, limit=10) == "aaaaaaa..."
    assert safe("plain-name") == "plain-name"


def test_node_view_boxes_counts_and_host_network() -> None:
    lines = render_nodes(AFTER)
    text = as_text(lines)
    assert "+- w3 (192.168.0.1) " in text
    assert "2 pods, 1 hostNet -+" in text
    row = next(line for line in lines if line.ref == "kube-system/DaemonSet/agent")
    assert "[hostNet]" in row.text and "   1  kube-system/DaemonSet/agent" in row.text
    assert row.kind == "workload"


def test_node_view_diff_marks() -> None:
    diff = diff_topology(BEFORE, AFTER)
    lines = render_nodes(AFTER, diff)
    node_w3 = next(line for line in lines if line.kind == "node" and line.ref == "w3")
    assert node_w3.text.startswith("+ ")
    marks = {(line.ref, line.mark) for line in lines if line.kind == "workload"}
    assert ("kube-system/DaemonSet/agent", "+") in marks
    assert ("batch/Job/old-job-1", "-") in marks
    assert ("shop/StatefulSet/db", "~") in marks
    gone_row = next(line for line in lines if line.ref == "batch/Job/old-job-1")
    assert "(-1)" in gone_row.text


def test_workload_view_lists_pods_with_marks() -> None:
    diff = diff_topology(BEFORE, AFTER)
    lines = render_workloads(AFTER, diff)
    pods = {line.ref: line for line in lines if line.kind == "pod"}
    assert pods["shop/web-2-b"].text.startswith("+")
    assert pods["shop/web-1-a"].text.startswith("-")
    assert pods["shop/db-0"].text.startswith("~") and "(was w1)" in pods["shop/db-0"].text
    assert any(line.text.startswith("namespace batch") for line in lines)


def test_traffic_view_shows_rate_and_lost_mtls() -> None:
    diff = diff_topology(BEFORE, AFTER)
    lines = render_traffic(AFTER, diff)
    edges = {line.ref: line for line in lines if line.kind == "edge"}
    lost = edges["shop/web>shop/db"]
    assert lost.text.startswith("!") and "PLAIN" in lost.text and "5.00 rps" in lost.text
    assert edges["shop/web>kube-system/agent"].text.startswith("+")
    assert edges["shop/web>shop/cache"].text.startswith(" ")


def test_traffic_view_without_mesh_says_so() -> None:
    assert "no traffic edges" in as_text(render_traffic(BEFORE.__class__(at=0.0)))


def test_diff_summary_reads_without_colour() -> None:
    text = as_text(render_diff_summary(diff_topology(BEFORE, AFTER)))
    assert "  + kube-system/DaemonSet/agent" in text
    assert "  - batch/Job/old-job-1" in text
    assert "  ~ shop/db-0: w1 -> w3" in text
    assert "  ! shop/web -> shop/db" in text
    assert "new priority classes (1)" in text
    lines = render_diff_summary(diff_topology(BEFORE, AFTER))
    lost = next(line for line in lines if line.mark == "!")
    assert (lost.kind, lost.ref) == ("edge", "shop/web>shop/db"), "selectable like a traffic line"


def test_json_output_keeps_hostile_values_but_escaped() -> None:
    """JSON carries the value as it is (scripts need it) but no raw escape reaches a terminal."""
    import json

    from promsoc.topology.export import to_json

    text = json.dumps(to_json(_hostile_topology(), "demo"))
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert json.loads(text)["nodes"][0]["name"] == HOSTILE
