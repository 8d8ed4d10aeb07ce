"""The simulator's live exposition carries every family and label that metrics.md requires."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import replace

import pytest

from promsoc.lab import Lab
from promsoc.lab.simulator import SimOptions, Simulator

# family -> (type, labels every series must have), transcribed from shared/reference/metrics.md
REQUIRED: dict[str, tuple[str, set[str]]] = {
    "kube_pod_info": ("gauge", {"namespace", "pod", "uid", "host_ip", "pod_ip", "node", "created_by_kind",
                                "created_by_name", "priority_class", "host_network"}),
    "kube_pod_owner": ("gauge", {"namespace", "pod", "uid", "owner_kind", "owner_name", "owner_is_controller"}),
    "kube_replicaset_owner": ("gauge", {"namespace", "replicaset", "owner_kind", "owner_name",
                                        "owner_is_controller"}),
    # not in metrics.md: kube-state-metrics' docs; the owner grouping reads kube_job_owner
    "kube_job_owner": ("gauge", {"namespace", "job_name", "owner_kind", "owner_name", "owner_is_controller"}),
    "kube_cronjob_info": ("gauge", {"namespace", "cronjob", "schedule", "concurrency_policy"}),
    "kube_node_info": ("gauge", {"node", "kernel_version", "os_image", "container_runtime_version",
                                 "kubelet_version", "provider_id", "pod_cidr", "internal_ip", "system_uuid"}),
    "kube_ingress_info": ("gauge", {"namespace", "ingress", "ingressclass"}),
    "kube_ingress_created": ("gauge", {"namespace", "ingress"}),
    "kube_ingress_path": ("gauge", {"namespace", "ingress", "host", "path", "path_type", "service_name",
                                    "service_port"}),
    "apiserver_request_total": ("counter", {"verb", "dry_run", "group", "version", "resource", "subresource",
                                            "scope", "component", "code"}),
    "apiserver_client_certificate_expiration_seconds": ("histogram", set()),
    "apiserver_authorization_decisions_total": ("counter", {"type", "name", "decision"}),
    "authentication_attempts": ("counter", {"result"}),
    "certmanager_certificate_expiration_timestamp_seconds": (
        "gauge", {"name", "namespace", "issuer_name", "issuer_kind", "issuer_group"}),
    "certmanager_certificate_ready_status": ("gauge", {"name", "namespace", "condition"}),
    **{f"kubelet_volume_stats_{m}": ("gauge", {"namespace", "persistentvolumeclaim"}) for m in (
        "capacity_bytes", "available_bytes", "used_bytes", "inodes", "inodes_free", "inodes_used")},
    "container_cpu_usage_seconds_total": ("counter", {"namespace", "pod", "container", "image", "name", "id",
                                                      "cpu"}),
    "container_network_transmit_bytes_total": ("counter", {"namespace", "pod", "interface"}),
    "container_network_receive_bytes_total": ("counter", {"namespace", "pod", "interface"}),
    "nginx_ingress_controller_requests": ("counter", {
        "status", "method", "path", "host", "namespace", "ingress", "service", "canary",
        "controller_namespace", "controller_class", "controller_pod"}),
    "nginx_ingress_controller_response_size": ("histogram", {"path", "host", "status"}),
    "nginx_ingress_controller_request_duration_seconds": ("histogram", {"path", "host", "status"}),
    "istio_requests_total": ("counter", {
        "reporter", "source_workload", "source_workload_namespace", "source_app", "source_principal",
        "destination_workload", "destination_workload_namespace", "destination_service",
        "destination_service_name", "response_code", "grpc_response_status", "response_flags",
        "request_protocol", "connection_security_policy"}),
    "istio_tcp_sent_bytes_total": ("counter", {"source_workload", "destination_workload"}),
    "istio_tcp_received_bytes_total": ("counter", {"source_workload", "destination_workload"}),
    "request_total": ("counter", {"direction", "authority", "tls", "dst_deployment", "dst_namespace",
                                  "dst_service", "dst_daemonset", "dst_statefulset", "namespace", "pod"}),
    "response_total": ("counter", {"direction", "status_code", "classification"}),
    "falcosecurity_falco_rules_matches_total": ("counter", {"rule_name", "priority", "source"}),
    "falcosecurity_scap_n_drops_total": ("counter", set()),
    "falcosecurity_scap_n_evts_total": ("counter", set()),
    "falcosecurity_falco_outputs_queue_num_drops_total": ("counter", set()),
    "falcosecurity_evt_hostname_info": ("gauge", {"hostname"}),
    "falcosecurity_falco_version_info": ("gauge", {"version"}),
    "falco_events": ("counter", {"rule", "priority", "hostname", "source", "k8s_ns_name", "k8s_pod_name",
                                 "tags"}),
    "falcosecurity_falcosidekick_falco_events_total": ("counter", {
        "rule", "priority", "priority_raw", "hostname", "source", "k8s_ns_name", "k8s_pod_name"}),
    "falcosecurity_falcosidekick_outputs_total": ("counter", {"destination", "status"}),
    "falcosecurity_falcosidekick_inputs_total": ("counter", {"source", "status"}),
}
LEGACY_SIDEKICK = {"falcosidekick_outputs": {"destination", "status"},
                   "falcosidekick_inputs": {"source", "status"}}

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    types: dict[str, str] = {}
    samples: dict[str, list[dict[str, str]]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"unparseable line: {line!r}"
            float(match.group(3))
            samples.setdefault(match.group(1), []).append(dict(LABEL.findall(match.group(2) or "")))
    return types, samples


def _samples_of(family: str, kind: str, samples: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    if kind != "histogram":
        return samples.get(family, [])
    buckets = samples.get(f"{family}_bucket", [])
    assert buckets and all("le" in b for b in buckets), family
    assert samples.get(f"{family}_sum") and samples.get(f"{family}_count"), family
    assert any(b["le"] == "+Inf" for b in buckets)
    return buckets


def test_live_exposition_has_every_family_and_label(lab: Lab) -> None:
    assert lab.metrics is not None
    with urllib.request.urlopen(lab.metrics.url, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        types, samples = parse(resp.read().decode())
    for family, (kind, labels) in REQUIRED.items():
        assert types.get(family) == kind, f"{family}: TYPE {types.get(family)} != {kind}"
        series = _samples_of(family, kind, samples)
        assert series, f"{family}: no series"
        for s in series:
            missing = labels - s.keys()
            assert not missing, f"{family} lacks {missing}: {s}"
    # the two families without the _total suffix keep it off
    assert "nginx_ingress_controller_requests_total" not in types
    assert "authentication_attempts_total" not in types
    # Falco's native rule counter has no pod labels; falcosidekick >= 2.30 counts priorities upwards
    assert not any("pod" in s for s in samples["falcosecurity_falco_rules_matches_total"])
    crit = [s for s in samples["falcosecurity_falcosidekick_falco_events_total"] if s["priority_raw"] == "critical"]
    assert crit and all(s["priority"] == "6" for s in crit)
    exporter = [s for s in samples["falco_events"] if s["rule"] == "Drop and execute new binary in container"]
    assert exporter and all(s["priority"] == "2" for s in exporter)


@pytest.mark.parametrize("legacy", [False, True])
def test_falcosidekick_naming_generations(legacy: bool) -> None:
    sim = Simulator(1_800_000_000.0, SimOptions(falcosidekick_legacy=legacy, live_incidents=False))
    _types, samples = parse(sim.exposition(1_800_000_030.0))
    if legacy:
        for family, labels in LEGACY_SIDEKICK.items():
            assert samples[family] and all(labels <= s.keys() for s in samples[family])
        names = {s["priority"] for s in samples["falco_events"] if s.get("job") == "falcosidekick"}
        assert names and names <= {"Emergency", "Alert", "Critical", "Error", "Warning", "Notice",
                                   "Informational", "Debug"}
        assert "falcosecurity_falcosidekick_outputs_total" not in samples
    else:
        assert "falcosidekick_outputs" not in samples
        assert samples["falcosecurity_falcosidekick_outputs_total"]


def test_exposition_escapes_label_values() -> None:
    from promsoc.lab.series import render_series

    text = render_series("x", {"a": 'quote " back \\ nl \n'})
    assert text == 'x{a="quote \\" back \\\\ nl \\n"}'


def test_a_multi_cluster_lab_has_the_same_families_and_labels_plus_cluster() -> None:
    """metrics.md holds in every cluster; the only difference is the `cluster` label on every series."""
    anchor = 1_800_000_000.0
    one = SimOptions(history_days=2.0, traffic_days=1.0, fine_hours=1.0)
    types1, samples1 = parse(Simulator(anchor, one).exposition(anchor + 30))
    types3, samples3 = parse(Simulator(anchor, replace(one, clusters=3)).exposition(anchor + 30))
    assert types3 == types1
    assert samples3.keys() == samples1.keys()
    for name, series in samples3.items():
        assert {s["cluster"] for s in series} == {"cluster-1", "cluster-2", "cluster-3"}, name
        shapes = {frozenset(s.keys() - {"cluster"}) for s in series}
        assert shapes == {frozenset(s.keys()) for s in samples1[name]}, name
    for family, (kind, labels) in REQUIRED.items():
        for s in _samples_of(family, kind, samples3):
            assert labels <= s.keys(), family
