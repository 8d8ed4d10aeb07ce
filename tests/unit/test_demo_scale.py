"""The scaled demo emits every detector's metrics (issue 10); --topology-only keeps the fast map lab."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import yaml

from promsoc.cli import build_parser
from promsoc.cli.demo import _options
from promsoc.lab import LabOptions
from promsoc.lab.simulator import Simulator
from promsoc.promql import recording


def options(*argv: str) -> LabOptions:
    return _options(build_parser().parse_args(["demo", "--no-alertmanager", *argv]))


def test_the_scaled_demo_has_traffic_and_topology_only_does_not() -> None:
    scaled = options("--pods", "5000", "--nodes", "200")
    assert scaled.traffic and scaled.pods == 5000 and scaled.nodes == 200
    assert (scaled.history_days, scaled.traffic_days) == (2.0, 1.0)
    assert not options("--pods", "5000", "--nodes", "200", "--topology-only").traffic
    default = options()
    assert default.traffic and (default.history_days, default.traffic_days) == (29.0, 8.0)


def test_a_scaled_cluster_has_every_detectors_families_for_every_pod_and_node() -> None:
    sim = Simulator(1_764_460_800.0, options("--pods", "1000", "--nodes", "40").sim_options())
    names = {s.name for s in sim.series}
    for family in ("container_cpu_usage_seconds_total", "container_network_transmit_bytes_total",
                   "kubelet_volume_stats_inodes", "nginx_ingress_controller_requests", "istio_requests_total",
                   "falcosecurity_scap_n_evts_total", "apiserver_request_total"):  # fmt: skip
        assert family in names, family
    pods = {s.text for s in sim.series if s.name == "container_cpu_usage_seconds_total"}
    nodes = {s.text for s in sim.series if s.name == "falcosecurity_scap_n_evts_total"}
    assert len(pods) >= 900 and len(nodes) == 40


def test_clusters_make_a_scaled_lab_with_one_cluster_label_per_cluster() -> None:
    opts = options("--clusters", "3")
    assert opts.clusters == 3 and opts.traffic
    assert (opts.history_days, opts.traffic_days, opts.fine_hours) == (2.0, 1.0, 1.0)
    assert options().fine_hours == 10.0 and options().clusters == 1
    assert options("--pods", "5000", "--nodes", "200").fine_hours == 1.0


def test_clusters_are_bounded_by_the_labs_pods_in_all() -> None:
    import pytest

    from promsoc.cli.common import CliError

    for argv in (("--clusters", "0"), ("--clusters", "51"), ("--clusters", "20", "--pods", "300")):
        with pytest.raises(CliError, match="--clusters"):
            options(*argv)


def test_each_cluster_has_its_own_inventory_and_its_own_incident_at_any_moment() -> None:
    anchor = 1_764_460_800.0
    sim = Simulator(anchor, options("--clusters", "3").sim_options(), live_start=anchor + 30)
    assert list(sim.scenarios) == ["cluster-1", "cluster-2", "cluster-3"]
    by_cluster: dict[str, set[str]] = {}
    for s in sim.series:
        by_cluster.setdefault(s.labels["cluster"], set()).add(s.labels.get("pod", ""))
        assert s.text.endswith(f'cluster="{s.labels["cluster"]}"}}')
    assert set(by_cluster) == set(sim.scenarios)
    # own inventories: pod names (random suffixes) differ between clusters
    assert len(by_cluster["cluster-1"] & by_cluster["cluster-2"]) < len(by_cluster["cluster-1"]) / 2
    # the first cluster is the single-cluster lab's scenario; the others are rotated
    single = Simulator(anchor, options("--pods", "119").sim_options(), live_start=anchor + 30).scenario
    first = sim.scenarios["cluster-1"]
    assert [(i.name, i.start) for i in first.incidents] == [(i.name, i.start) for i in single.incidents]
    for incident in first.attacks:
        if incident.end - incident.start > 600:  # the 30-minute one overlaps its rotated copies
            continue
        at = incident.eval_at
        for name, other in sim.scenarios.items():
            active = {i.name for i in other.incidents if i.start <= at < i.end}
            if name != "cluster-1":
                assert incident.name not in active, (name, incident.name)
    # live repeats (a new one every 90 s, each active 4 minutes): the clusters run different ones
    for k in range(20):
        at = anchor + 30 + 90 * k + 10
        live = [tuple(n for n in s.windows if s.active(n, at) and not any(
            i.name == n and i.start <= at < i.end for i in s.incidents)) for s in sim.scenarios.values()]
        assert all(live) and len(set(live)) == 3, live


def test_the_multi_cluster_demo_config_has_one_source_per_cluster_with_its_selector(tmp_path: Path) -> None:
    from promsoc.cli.demo import sources_config
    from promsoc.config import load_file

    path = tmp_path / "demo.yaml"
    path.write_text(sources_config("http://127.0.0.1:9090", 3))
    sources = load_file(path).sources
    assert [(s.name, s.url, s.selector) for s in sources] == [
        (f"cluster-{i}", "http://127.0.0.1:9090", f'cluster="cluster-{i}"') for i in (1, 2, 3)]


def test_no_two_series_of_twenty_clusters_overlap_in_time() -> None:
    """promtool refuses a series whose samples come twice ('out of order sample'): each cluster's
    inventory (its own seed) must still give every series text one lifetime at a time."""
    sim = Simulator(1_764_460_800.0, options("--clusters", "20").sim_options(), live_start=1_764_460_830.0)
    lifetimes: dict[str, list[tuple[float, float]]] = {}
    for s in sim.series:
        lifetimes.setdefault(s.text, []).append((s.start, s.end))
    for text, spans in lifetimes.items():
        spans.sort()
        assert all(b[0] >= a[1] for a, b in pairwise(spans)), text


def test_the_history_cache_tells_cluster_counts_and_fine_hours_apart() -> None:
    from promsoc.lab.backfill import _cache_key

    one = options().sim_options()
    keys = {_cache_key(one), _cache_key(replace(one, clusters=2)), _cache_key(replace(one, clusters=20)),
            _cache_key(replace(one, fine_hours=1.0))}
    assert len(keys) == 4


def test_a_scaled_labs_gap_after_a_cached_history_is_fine_only_in_its_last_hour() -> None:
    """A cached history is topped up to now: a scaled lab writes that gap at 120 s (traffic) and
    5 minutes (topology) but for its last hour, like the history itself; the default lab's gap,
    within its 10 fine hours, stays at 30 s."""
    anchor = 1_764_460_800.0
    scaled = Simulator(anchor, options("--pods", "1000", "--nodes", "40").sim_options())
    for schedule, coarse in (("traffic", 120), ("topology", 300)):
        grid = scaled.grid(schedule, anchor + 1, anchor + 4 * 3600)
        steps = {b - a for a, b in pairwise(grid)}
        assert steps == {coarse, 30}, (schedule, steps)
        assert min(t for t, u in pairwise(grid) if u - t == 30) >= anchor + 3 * 3600 - coarse
        # the history itself: its last hour at 30 s
        history = scaled.grid(schedule, anchor - 3 * 3600, anchor)
        assert min(t for t, u in pairwise(history) if u - t == 30) >= anchor - 3600 - coarse
    default = Simulator(anchor, options().sim_options())
    assert {b - a for a, b in pairwise(default.grid("traffic", anchor + 1, anchor + 4 * 3600))} == {30}


def test_the_demo_loads_the_recording_rules_split_by_cluster_only_when_asked() -> None:
    assert options("--clusters", "3").recording_rules == ""
    one = yaml.safe_load(options("--recording-rules").recording_rules)["groups"][0]["rules"]
    split = yaml.safe_load(options("--clusters", "3", "--recording-rules").recording_rules)["groups"][0]["rules"]
    markers = [r for r in split if r["record"] == recording.MARKER]
    assert markers and all(r["labels"][recording.BY] == "cluster" for r in markers)
    assert all(r["expr"].startswith("group by (cluster) (") for r in markers)
    assert not any(recording.BY in r.get("labels", {}) for r in one)
    assert [r["record"] for r in one] == [r["record"] for r in split]
