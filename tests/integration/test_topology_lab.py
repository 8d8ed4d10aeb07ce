"""The topology time machine against the lab: counts, diffs and edges match the scenario's truth."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from promsoc.cli import main
from promsoc.lab import Lab
from promsoc.lab.cluster import DAY, HOUR, MOVED_PODS, NEW_DAEMONSET, RETIRED
from promsoc.prom.client import PromClient
from promsoc.topology.diff import TopologyDiff, diff_topology
from promsoc.topology.model import Topology
from promsoc.topology.queries import load_topology

WEEK = 7 * DAY


def _load(lab: Lab, at: float) -> Topology:
    async def go() -> Topology:
        async with PromClient.from_url(lab.url) as client:
            return await load_topology(client, at)

    return asyncio.run(go())


def _truth(lab: Lab, at: float) -> tuple[set[str], set[str], set[str]]:
    """(pods, workloads, nodes) the scenario says existed at `at`."""
    cluster = lab.scenario.cluster
    pods = {p.key for p in cluster.pods_at(at)}
    return pods, cluster.workload_keys_at(at), {n.name for n in cluster.nodes_at(at)}


def _check_counts(lab: Lab, at: float) -> Topology:
    topo = _load(lab, at)
    assert topo.snapshot_at is not None, topo.warnings
    pods, workloads, nodes = _truth(lab, topo.snapshot_at)
    assert {p.ref for p in topo.pods.values()} == pods
    assert set(topo.workloads) == workloads
    assert {name for name, node in topo.nodes.items() if node.known} == nodes
    return topo


def _wait_for_live_scrapes(lab: Lab, timeout: float = 30.0) -> None:
    """Right after the lab starts, "now" is the end of the cached history until Prometheus scrapes."""

    async def scraped() -> bool:
        async with PromClient.from_url(lab.url) as client:
            return bool((await client.query("up", time.time())).samples)

    deadline = time.monotonic() + timeout
    while not asyncio.run(scraped()):
        assert time.monotonic() < deadline, "the lab's Prometheus never scraped the live exporter"
        time.sleep(0.5)


def test_counts_now_match_the_scenario(lab: Lab) -> None:
    _wait_for_live_scrapes(lab)
    topo = _check_counts(lab, time.time())
    assert time.time() - (topo.snapshot_at or 0) < 120, "live scrapes keep 'now' fresh"
    assert len(topo.pods) > 100 and topo.warnings == []


def test_counts_two_days_ago_match_the_scenario(lab: Lab) -> None:
    topo = _check_counts(lab, lab.anchor - 2 * DAY)
    assert lab.anchor - 2 * DAY - (topo.snapshot_at or 0) <= 300


def test_counts_four_weeks_ago_match_the_sparse_history(lab: Lab) -> None:
    """History this old is kept at a 15-minute step: beyond the 5m lookback of a plain query."""
    at = (lab.anchor - 4 * WEEK) // 900 * 900 + 7 * 60  # 7 minutes after a sparse sample
    topo = _check_counts(lab, at)
    assert at - (topo.snapshot_at or 0) == 7 * 60
    assert topo.warnings and "sparse history" in topo.warnings[0]
    retired = f"{RETIRED[0]}/{RETIRED[1]}/{RETIRED[2]}"
    assert retired in topo.workloads, "the retired workload still ran four weeks ago"


def test_a_pod_that_just_ended_does_not_linger(lab: Lab) -> None:
    """Seconds after a Job pod ends (30 s samples, no staleness markers in backfilled history)."""
    cluster = lab.scenario.cluster
    ended = next(p for p in cluster.pods if p.owner_kind == "Job" and lab.anchor - 9 * HOUR < p.end < lab.anchor - HOUR)
    topo = _check_counts(lab, ended.end + 10)
    assert topo.snapshot_at == ended.end
    assert topo.pod(ended.namespace, ended.name) is None
    before = _load(lab, ended.end - 15)
    assert before.pod(ended.namespace, ended.name) is not None, "and it was there just before"


def test_a_replicaset_pod_appears_under_its_deployment(lab: Lab) -> None:
    at = lab.anchor - 3 * HOUR
    topo = _load(lab, at)
    cluster = lab.scenario.cluster
    truth = next(p for p in cluster.pods_at(topo.snapshot_at or at) if p.owner_kind == "ReplicaSet")
    pod = topo.pod(truth.namespace, truth.name)
    assert pod is not None
    assert (pod.workload_kind, pod.workload) == ("Deployment", truth.workload.name)
    assert truth.name in topo.workloads[f"{truth.namespace}/Deployment/{truth.workload.name}"].pods


def _expected_diff(lab: Lab, before: Topology, after: Topology) -> dict[str, set[str]]:
    cluster = lab.scenario.cluster
    assert before.snapshot_at is not None and after.snapshot_at is not None
    old = {p.key: p for p in cluster.pods_at(before.snapshot_at)}
    new = {p.key: p for p in cluster.pods_at(after.snapshot_at)}
    old_w, new_w = (cluster.workload_keys_at(t) for t in (before.snapshot_at, after.snapshot_at))
    old_n, new_n = ({n.name for n in cluster.nodes_at(t)} for t in (before.snapshot_at, after.snapshot_at))
    return {
        "added_pods": new.keys() - old.keys(),
        "removed_pods": old.keys() - new.keys(),
        "moved_pods": {k for k in new.keys() & old.keys() if new[k].node != old[k].node},
        "added_workloads": new_w - old_w,
        "removed_workloads": old_w - new_w,
        "added_nodes": new_n - old_n,
        "removed_nodes": old_n - new_n,
    }


def _actual(diff: TopologyDiff) -> dict[str, set[str]]:
    return {
        "added_pods": set(diff.added_pods),
        "removed_pods": set(diff.removed_pods),
        "moved_pods": {m.pod for m in diff.moved_pods},
        "added_workloads": set(diff.added_workloads),
        "removed_workloads": set(diff.removed_workloads),
        "added_nodes": set(diff.added_nodes),
        "removed_nodes": set(diff.removed_nodes),
    }


@pytest.mark.parametrize("span", [2 * DAY, 4 * WEEK])
def test_diff_lists_exactly_the_scenario_changes(lab: Lab, span: float) -> None:
    after_at = lab.anchor - 2 * HOUR
    before, after = _load(lab, after_at - span), _load(lab, after_at)
    diff = diff_topology(before, after)
    assert _actual(diff) == _expected_diff(lab, before, after)
    debugger = f"{NEW_DAEMONSET[0]}/{NEW_DAEMONSET[1]}/{NEW_DAEMONSET[2]}"
    assert debugger in diff.new_daemonsets
    assert "node-debug-privileged" in diff.new_priority_classes
    truth = {p.key: p for p in lab.scenario.cluster.pods_at(after.snapshot_at or 0)}
    host_net = {k for k in _expected_diff(lab, before, after)["added_pods"] if truth[k].workload.host_network}
    assert set(diff.new_host_network_pods) == host_net
    assert any(p.startswith("kube-system/node-debugger-") for p in host_net)
    moved = {f"{ns}/{name}-{ordinal}" for ns, name, ordinal, ago in MOVED_PODS if ago < span}
    assert moved <= {m.pod for m in diff.moved_pods}
    if span > 3 * WEEK:
        assert f"{RETIRED[0]}/{RETIRED[1]}/{RETIRED[2]}" in diff.removed_workloads
        assert diff.added_nodes == ["control-plane-2", "worker-5"]
    _check_churn_events(lab, before, after, diff)


def _check_churn_events(lab: Lab, before: Topology, after: Topology, diff: TopologyDiff) -> None:
    """Every churn event the scenario lists between the two snapshots shows in the diff."""
    assert before.snapshot_at is not None and after.snapshot_at is not None
    cluster = lab.scenario.cluster
    alive = {p.key: p for p in cluster.pods_at(after.snapshot_at)}
    moves = {m.pod: m for m in diff.moved_pods}
    events = [e for e in cluster.churn if before.snapshot_at < e.at <= after.snapshot_at]
    assert {e.kind for e in events} >= {"rollout", "pod-moved", "workload-added"}
    last_move = {e.subject: e for e in events if e.kind == "pod-moved"}  # moved, then drained
    for event in events:
        if event.kind == "pod-moved" and last_move[event.subject] is not event:
            continue
        if event.kind == "rollout":
            namespace = event.subject.split("/")[0]
            new_pods = [k for k in alive if k.startswith(f"{namespace}/{event.detail}-")]
            assert all(k in diff.added_pods for k in new_pods), event
        elif event.kind == "pod-moved" and event.subject in alive:
            assert moves[event.subject].to_node == event.detail.split(" -> ")[1], event
        elif event.kind == "node-added":
            assert event.subject in diff.added_nodes, event
        elif event.kind == "workload-retired":
            assert event.subject in diff.removed_workloads, event
        elif event.kind == "workload-added" and event.subject in cluster.workload_keys_at(after.snapshot_at):
            assert event.subject in diff.added_workloads, event


def test_traffic_edges_lateral_movement_and_lost_mtls(lab: Lab) -> None:
    after = _load(lab, lab.anchor)
    before = _load(lab, lab.anchor - 4 * DAY)
    assert after.mesh and after.mesh.startswith("istio")
    edges = {e.key: e for e in after.edges}
    web = edges[("shop/storefront", "shop/cart")]
    assert web.mtls and 6 < web.rps < 20 and web.error_ratio < 0.05
    assert not edges[("data/etl-worker", "data/postgres")].mtls
    diff = diff_topology(before, after)
    assert ("media/thumbnailer", "payments/ledger-db") in {e.key for e in diff.new_edges}
    assert [e.key for e in diff.lost_mtls_edges] == [("shop/checkout", "payments/payments-api")]


def test_cli_json_against_the_lab(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    at = str(int(lab.anchor - 2 * HOUR))
    code = main(["topology", "--url", lab.url, "--at", at, "--offset", "1h", "--diff", "2d",
                 "--format", "json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(at) - 3600))
    assert out["source"] == "127.0.0.1"
    assert {"against", "added_pods", "removed_pods", "added_workloads", "removed_workloads"} <= set(out["diff"])
    debugger = f"{NEW_DAEMONSET[0]}/{NEW_DAEMONSET[1]}/{NEW_DAEMONSET[2]}"
    assert debugger in out["diff"]["added_workloads"]
    pods = [p for n in out["nodes"] for p in n["pods"]]
    assert any(p["workload_kind"] == "Deployment" and p["workload"] == "storefront" for p in pods)
    assert out["edges"] and {"source", "destination", "rps", "error_ratio", "mtls"} == set(out["edges"][0])


def test_cli_text_fits_80_columns(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "--url", lab.url, "--view", "all", "--diff", "1w"]) == 0
    text = capsys.readouterr().out
    assert "topology of 127.0.0.1 at " in text and "changes" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("name", ["crypto-miner", "exfiltration"])
def test_an_incident_pod_has_a_place_on_the_map(lab: Lab, name: str) -> None:
    """What a finding names (namespace, pod) is on the map at the moment it is detectable."""
    incident = lab.scenario.incident(name)
    topo = _load(lab, incident.eval_at)
    pod = topo.pod(incident.labels["namespace"], incident.labels["pod"])
    assert pod is not None and pod.workload_kind == "Deployment"
    assert pod.node in topo.nodes and topo.nodes[pod.node].known


def test_cli_reads_the_config_and_picks_a_source(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "sources:\n"
        "  - name: elsewhere\n    url: http://127.0.0.1:9\n"
        f"  - name: lab\n    url: {lab.url}\n    selector: 'job=\"kube-state-metrics\"'\n"
    )
    config.chmod(0o600)
    assert main(["topology", "--config", str(config), "--source", "lab", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "lab" and sum(len(n["pods"]) for n in out["nodes"]) > 100
    assert out["edges"] == [], "the source's selector scopes every query: no mesh metrics in it"
    assert main(["topology", "--config", str(config), "--source", "elsewhere"]) == 3
    assert main(["topology", "--config", str(config), "--source", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
