"""The scaled demo emits every detector's metrics (issue 10); --topology-only keeps the fast map lab."""

from __future__ import annotations

from promsoc.cli import build_parser
from promsoc.cli.demo import _options
from promsoc.lab import LabOptions
from promsoc.lab.simulator import Simulator


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
