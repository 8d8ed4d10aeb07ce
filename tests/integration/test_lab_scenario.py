"""The lab's scripted incidents are visible to reference PromQL, and its look-alikes are not.

The reference queries are the talk's own (../shared/seed) where they work on a real cluster, and
corrected where they cannot (no `client` label since 1.18, a minimum request rate, a baseline
that excludes the incident itself, ...). The detector pack has its own, stricter, test.
"""

from __future__ import annotations

import pytest

from promsoc.lab import Lab
from tests.integration.labquery import query

SHARE = """(sum by (host, path) (rate(nginx_ingress_controller_requests{{status="{code}"}}[5m]))
  / sum by (host, path) (rate(nginx_ingress_controller_requests[5m])) > 0.3)
  and sum by (host, path) (rate(nginx_ingress_controller_requests[5m])) > 0.1"""

POD_WORKLOAD = """max by (namespace, pod, workload) (
  label_replace(kube_pod_owner{owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name", "(.*)")
  * on (namespace, replicaset) group_left (workload)
  label_replace(kube_replicaset_owner{owner_kind="Deployment"}, "workload", "$1", "owner_name", "(.*)"))"""

SIBLING_OUTLIER = """({x} * on (namespace, pod) group_left (workload) {wl})
  > on (namespace, workload) group_left
  {factor} * quantile by (namespace, workload) (0.5, {x} * on (namespace, pod) group_left (workload) {wl})
  and on (namespace, pod) {x} > {floor}"""

P99 = """histogram_quantile(0.99, sum by (host, path, le)
  (rate(nginx_ingress_controller_response_size_bucket[5m])))"""

INODES = """(sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_inodes_used{offset})
  / sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_inodes{offset}))"""

REFERENCE = {
    # seed: sum by (client) (rate(apiserver_request_total{code=~"401|403"}[5m])), regrouped
    "apiserver-unauthorized": """sum by (resource, verb) (rate(apiserver_request_total{code=~"401|403"}[5m])) > 0.5
        or sum by (result) (rate(authentication_attempts{result="failure"}[5m])) > 0.5""",
    "apiserver-secrets-denied": """sum by (resource) (rate(apiserver_request_total{code="403",
        resource=~"secrets|serviceaccounts|configmaps"}[5m])) > 0.05""",
    "rbac-cluster-change": """sum by (resource) (increase(apiserver_request_total{
        group="rbac.authorization.k8s.io", resource=~"clusterroles|clusterrolebindings",
        verb=~"POST|PUT|PATCH|DELETE|DELETECOLLECTION|APPLY", code=~"2.."}[5m])) > 0""",
    # the talk: count(kube_ingress_created) - count(kube_ingress_created offset 5m) > 0, which
    # says neither which ingress nor sees one created while another is deleted
    "ingress-created": "kube_ingress_created > time() - 300",
    "cert-expiry-apiserver-client": """histogram_quantile(0.01, sum by (job, instance, le)
        (rate(apiserver_client_certificate_expiration_seconds_bucket[5m]))) < 3600 * 24 * 7""",
    # the talk's query ignores that an unknown expiry is reported as 0
    "cert-expiry-certmanager": """(certmanager_certificate_expiration_timestamp_seconds > 0)
        - time() < 3600 * 24 * 7""",
    "ingress-fingerprinting": SHARE.format(code="404"),
    "ingress-bruteforce": SHARE.format(code="403"),
    "ingress-sqli": SHARE.format(code="500"),
    # the talk's baseline includes the spike itself; take the hour before the last 10 minutes
    "ingress-response-size-anomaly": f"""{P99} > (avg_over_time(({P99})[1h:5m] offset 10m)
        + 3 * stddev_over_time(({P99})[1h:5m] offset 10m)) and {P99} > 2 * avg_over_time(({P99})[1h:5m] offset 10m)""",
    # per volume (the talk's `by (instance)` is per node), far above the others AND growing
    "volume-inode-anomaly": "({now} > 2 * scalar(quantile(0.5, {now}))) and ({now} - {ago} > 0.2)".format(
        now=INODES.format(offset=""), ago=INODES.format(offset=" offset 30m")),
    "container-cpu-outlier": SIBLING_OUTLIER.format(
        x='sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m]))',
        wl=POD_WORKLOAD, factor=3, floor=0.5),
    "pod-egress-outlier": SIBLING_OUTLIER.format(
        x="sum by (namespace, pod) (rate(container_network_transmit_bytes_total[5m]))",
        wl=POD_WORKLOAD, factor=3, floor=1e6),
    "falco-rule-burst": """label_replace(sum by (rule_name)
        (increase(falcosecurity_falco_rules_matches_total[5m])), "rule", "$1", "rule_name", "(.*)") > 20""",
    "falco-critical-events": """label_replace(sum by (rule_name)
        (increase(falcosecurity_falco_rules_matches_total{priority=~"[0-2]"}[5m])),
        "rule", "$1", "rule_name", "(.*)") > 5""",
    "falco-output-errors": """sum by (destination)
        (increase(falcosecurity_falcosidekick_outputs_total{status="error"}[5m])) > 2""",
    "falco-blind": """(sum by (instance) (increase(falcosecurity_scap_n_drops_total[5m])) > 0)
        * on (instance) group_left (hostname) falcosecurity_evt_hostname_info
        or (absent(falcosecurity_scap_n_evts_total) and on () count(kube_pod_info) > 0)""",
}


def _fired(lab: Lab, detector: str, at: float) -> list[dict[str, str]]:
    return [r["metric"] for r in query(lab.url, REFERENCE[detector], at)]


def test_every_builtin_detector_has_an_incident_and_a_lookalike(lab: Lab) -> None:
    attacked = {i.detector for i in lab.scenario.attacks}
    mimicked = {i.detector for i in lab.scenario.lookalikes}
    assert attacked == set(REFERENCE) == mimicked


@pytest.mark.parametrize("name", [
    "api-unauthorized-burst", "secrets-denied", "rbac-escalation", "backdoor-ingress",
    "expiring-client-cert", "expiring-certificate", "fingerprinting", "bruteforce", "sqli",
    "mass-extraction", "inode-exhaustion", "crypto-miner", "exfiltration", "shell-burst",
    "critical-binary", "sidekick-slack-down", "falco-drops", "falco-gone",
])
def test_attack_fires_at_its_time_and_is_silent_when_quiet(lab: Lab, name: str) -> None:
    incident = lab.scenario.incident(name)
    found = _fired(lab, incident.detector, incident.eval_at)
    assert found, f"{name}: reference query for {incident.detector} silent during the attack"
    assert any(all(f.get(k) == v for k, v in incident.labels.items()) for f in found), (
        f"{name}: expected a finding with {incident.labels}, got {found}")
    for quiet in lab.scenario.quiet_times:
        assert _fired(lab, incident.detector, quiet) == [], f"{incident.detector} fired at quiet {quiet}"


@pytest.mark.parametrize("name", [
    "api-403-trickle", "secrets-read-burst", "namespaced-rbac-writes", "old-ingress-new-path",
    "client-cert-20d", "certificate-pending", "quiet-path-404", "quiet-path-403", "quiet-path-500",
    "download-rush", "volumes-grow-together", "thumbnailer-busy", "payments-batch-sync",
    "noisy-rule", "error-priority-events", "sidekick-transient-error", "falco-restart",
    "falco-scrape-gap",
])
def test_lookalike_stays_silent(lab: Lab, name: str) -> None:
    incident = lab.scenario.incident(name)
    assert incident.benign
    for at in (incident.eval_at, incident.start + 300, incident.end - 10):
        assert _fired(lab, incident.detector, at) == [], f"{name} fired {incident.detector} at {at}"


def test_the_talks_unguarded_queries_fall_for_the_lookalikes(lab: Lab) -> None:
    """Why the references above differ from the talk: its queries fire on benign events."""
    pending = lab.scenario.incident("certificate-pending")
    naive_cert = "certmanager_certificate_expiration_timestamp_seconds - time() < 3600 * 24 * 7"
    assert query(lab.url, naive_cert, pending.eval_at), "expiry 0 (unknown) looks like 'expired'"
    quiet_path = lab.scenario.incident("quiet-path-404")
    naive_share = """sum by (host, path) (rate(nginx_ingress_controller_requests{status=~"404"}[5m]))
        / sum by (host, path) (rate(nginx_ingress_controller_requests[5m])) > 0.3"""
    hits = [r["metric"] for r in query(lab.url, naive_share, quiet_path.eval_at)]
    assert {"host": "ops.example.com", "path": "/admin"} in hits, "2 failed requests make a 100% share"
