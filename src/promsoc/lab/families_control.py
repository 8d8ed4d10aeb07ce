"""Control-plane and PKI exporters: kube-apiserver (requests, auth, client certs) and cert-manager."""

from __future__ import annotations

from promsoc.lab import day
from promsoc.lab.cluster import DAY, Cluster
from promsoc.lab.families_k8s import burst, pod_named
from promsoc.lab.scenario import Scenario
from promsoc.lab.series import LIVE, TOPOLOGY, TRAFFIC, Series, ValueFn, constant, stable_seed, steady

# (namespace, name, issuer, remaining days at anchor or None for the 60/90-day renewal cycle)
CERTIFICATES = [
    ("shop", "storefront-tls", "letsencrypt", None),
    ("shop", "api-tls", "letsencrypt", None),
    ("auth", "sso-tls", "letsencrypt", None),
    ("payments", "payments-tls", "letsencrypt", None),
    ("monitoring", "grafana-tls", "internal-ca", 20.0),
]


def apiserver(cluster: Cluster, scenario: Scenario) -> list[Series]:
    base = {"job": "apiserver", "instance": f"{cluster.nodes[0].internal_ip}:6443"}
    out: list[Series] = []
    first = scenario.anchor - 8 * DAY

    def req(verb: str, group: str, resource: str, code: str, fn: ValueFn, *,
            scope: str = "namespace", subresource: str = "", start: float = first) -> None:
        version = "v1"
        out.append(Series("apiserver_request_total", {
            **base, "verb": verb, "dry_run": "", "group": group, "version": version,
            "resource": resource, "subresource": subresource, "scope": scope,
            "component": "apiserver", "code": code,
        }, fn, True, TRAFFIC, start, integer=True))

    steady_reqs = [("GET", "", "pods", "200", 20.0), ("LIST", "", "pods", "200", 4.0),
                   ("WATCH", "", "pods", "200", 0.3), ("GET", "", "configmaps", "200", 8.0),
                   ("GET", "", "secrets", "200", 3.0), ("LIST", "", "secrets", "200", 0.2),
                   ("GET", "", "nodes", "200", 5.0), ("GET", "coordination.k8s.io", "leases", "200", 10.0),
                   ("PUT", "coordination.k8s.io", "leases", "200", 8.0), ("POST", "", "pods", "201", 0.2),
                   ("DELETE", "", "pods", "200", 0.1), ("GET", "apps", "deployments", "200", 2.0),
                   ("GET", "rbac.authorization.k8s.io", "clusterroles", "200", 0.5),
                   ("LIST", "rbac.authorization.k8s.io", "clusterrolebindings", "200", 0.2)]
    for verb, group, resource, code, rate in steady_reqs:
        fn = steady(rate, stable_seed(verb + resource + code))
        if (verb, resource) == ("GET", "secrets"):
            fn = burst(scenario, "secrets-read-burst", 15.0, fn)
        scope = "cluster" if resource in ("nodes", "clusterroles", "clusterrolebindings") else "namespace"
        req(verb, group, resource, code, fn, scope=scope)
    req("PATCH", "", "pods", "200", steady(4.0, 11), subresource="status")
    # A misconfigured controller's steady trickle of 403s (never an incident by itself).
    req("GET", "", "pods", "403", burst(scenario, "api-403-trickle", 0.08, constant(0.02)))
    # Attacks and look-alikes (series exist from their first request onward).
    unauth = scenario.incident("api-unauthorized-burst").start
    req("LIST", "", "pods", "403", burst(scenario, "api-unauthorized-burst", 3.0), start=unauth)
    sec = scenario.incident("secrets-denied").start
    req("GET", "", "secrets", "403", burst(scenario, "secrets-denied", 1.0), start=sec)
    req("LIST", "", "secrets", "403", burst(scenario, "secrets-denied", 0.5), start=sec)
    rbac = scenario.incident("rbac-escalation").start
    rbac_group = "rbac.authorization.k8s.io"
    req("POST", rbac_group, "clusterrolebindings", "201", burst(scenario, "rbac-escalation", 0.01),
        scope="cluster", start=rbac)
    req("PATCH", rbac_group, "clusterroles", "200", burst(scenario, "rbac-escalation", 0.01),
        scope="cluster", start=rbac)
    nsrbac = scenario.incident("namespaced-rbac-writes").start
    req("PATCH", rbac_group, "rolebindings", "200", burst(scenario, "namespaced-rbac-writes", 0.02),
        start=nsrbac)
    out += _apiserver_auth(base, scenario)
    out += _client_cert_histogram(base, scenario)
    out.append(Series("apiserver_flowcontrol_current_executing_requests", {
        **base, "flow_schema": "service-accounts", "priority_level": "workload-low"},
        steady(3.0, 5), False, LIVE))
    return out + _new_replica(cluster)


def _new_replica(cluster: Cluster) -> list[Series]:
    """control-plane-2's kube-apiserver: a target first scraped a minute after it started, its
    counters already holding that minute, including the 73 RBAC writes its bootstrap policy
    made (a new version reconciling the default ClusterRoles)."""
    node = next((n for n in cluster.nodes if n.name == "control-plane-2"), None)
    if node is None:
        return []
    base = {"job": "apiserver", "instance": f"{node.internal_ip}:6443"}
    scraped = node.start + 180
    rbac = "rbac.authorization.k8s.io"
    out = []
    for verb, group, resource, code, rate, initial in [
            ("GET", "", "pods", "200", 8.0, 0.0), ("LIST", "", "pods", "200", 1.5, 0.0),
            ("GET", "", "configmaps", "200", 3.0, 0.0), ("GET", "", "secrets", "200", 1.0, 0.0),
            ("PUT", rbac, "clusterroles", "200", 0.0, 61.0),
            ("POST", rbac, "clusterrolebindings", "201", 0.0, 12.0)]:
        out.append(Series("apiserver_request_total", {
            **base, "verb": verb, "dry_run": "", "group": group, "version": "v1",
            "resource": resource, "subresource": "",
            "scope": "cluster" if group else "namespace", "component": "apiserver", "code": code,
        }, steady(rate, stable_seed(verb + resource)) if rate else constant(0.0), True, TRAFFIC,
            scraped, integer=True, initial=initial + rate * 60))
    for name, labels, rate in [("authentication_attempts", {"result": "success"}, 25.0),
                               ("apiserver_authorization_decisions_total",
                                {"type": "RBAC", "name": "rbac", "decision": "allowed"}, 25.0)]:
        out.append(Series(name, {**base, **labels}, steady(rate, stable_seed(name)), True, TRAFFIC,
                          scraped, integer=True, initial=rate * 60))
    return out


def _apiserver_auth(base: dict[str, str], scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    authn: dict[str, ValueFn] = {"success": steady(60.0, 21), "failure": burst(scenario, "api-unauthorized-burst", 5.0,
                                                             constant(0.005)), "error": constant(0.0)}
    for result, fn in authn.items():
        out.append(Series("authentication_attempts", {**base, "result": result}, fn, True, TRAFFIC,
                          integer=True))
    denied = burst(scenario, "api-unauthorized-burst", 3.0,
                    burst(scenario, "secrets-denied", 1.5,
                           burst(scenario, "api-403-trickle", 0.08, constant(0.02))))
    for decision, fn in (("allowed", steady(60.0, 22)), ("denied", denied)):
        out.append(Series("apiserver_authorization_decisions_total",
                          {**base, "type": "RBAC", "name": "rbac", "decision": decision},
                          fn, True, TRAFFIC, integer=True))
    return out


CERT_BUCKETS = [0, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 345600, 604800, 2592000,
                7776000, 15552000, 31104000]


def _client_cert_histogram(base: dict[str, str], scenario: Scenario) -> list[Series]:
    """Requests observe their client certificate's remaining lifetime (kubelets: 90-360 days)."""
    name = "apiserver_client_certificate_expiration_seconds"
    normal = steady(2.0, 31, amplitude=0.1)
    rotation = day.event("client-cert-rotation").duration

    def observations(t: float) -> list[tuple[float, float]]:
        rate = normal(t)
        obs = [(120 * DAY, rate * 0.7), (200 * DAY, rate * 0.3)]
        if scenario.active("expiring-client-cert", t):
            obs.append((3 * DAY, 0.25))
        if scenario.active("client-cert-20d", t):
            obs.append((20 * DAY, 0.5))
        if (phase := scenario.phase("client-cert-rotation", t)) is not None:
            done = min(1.0, phase / rotation)  # kubelets move to their new certificate in turn
            obs += [(40 * DAY, 2 * rate * (1 - done)), (365 * DAY, 2 * rate * done)]
        return obs

    out = []
    for le in [*CERT_BUCKETS, float("inf")]:
        def bucket(t: float, le: float = le) -> float:
            return sum(r for v, r in observations(t) if v <= le)
        label = "+Inf" if le == float("inf") else str(le)
        out.append(Series(f"{name}_bucket", {**base, "le": label}, bucket, True, TRAFFIC))
    out.append(Series(f"{name}_sum", base, lambda t: sum(v * r for v, r in observations(t)),
                      True, TRAFFIC))
    out.append(Series(f"{name}_count", base, lambda t: sum(r for _v, r in observations(t)),
                      True, TRAFFIC))
    return out


def cert_manager(cluster: Cluster, scenario: Scenario) -> list[Series]:
    cm = pod_named(cluster, "cert-manager", "cert-manager", scenario.anchor)
    base = {"job": "cert-manager", "instance": f"{cm.pod_ip}:9402"}
    out: list[Series] = []

    def cert(ns: str, name: str, issuer: str, expiry: ValueFn, ready: ValueFn, start: float) -> None:
        ids = {**base, "name": name, "namespace": ns, "issuer_name": issuer,
               "issuer_kind": "ClusterIssuer", "issuer_group": "cert-manager.io"}
        out.append(Series("certmanager_certificate_expiration_timestamp_seconds", ids, expiry,
                          False, TOPOLOGY, start))
        for condition in ("True", "False", "Unknown"):
            def status(t: float, condition: str = condition) -> float:
                is_ready = ready(t) > 0
                return 1.0 if (condition == "True") == is_ready and condition != "Unknown" else 0.0
            out.append(Series("certmanager_certificate_ready_status", {**ids, "condition": condition},
                              status, False, TOPOLOGY, start))

    for i, (ns, name, issuer, remaining) in enumerate(CERTIFICATES):
        if remaining is not None:
            fixed = float(int(scenario.anchor + remaining * DAY))
            expiry: ValueFn = constant(fixed)
        else:
            phase = i * 9 * DAY

            def expiry(t: float, phase: float = phase) -> float:
                issued = ((t + phase) // (60 * DAY)) * (60 * DAY) - phase
                return float(int(issued + 90 * DAY))
        cert(ns, name, issuer, expiry, constant(1.0), -float("inf"))

    def renewing(name: str, days: float, before: float) -> ValueFn:
        def fn(t: float) -> float:
            start = scenario.last_activation(name, t) or 0.0
            return before if scenario.active(name, t) and before >= 0 else float(int(start + days))
        return fn

    bad = "expiring-certificate"
    bad_start = scenario.incident(bad).start

    def bad_expiry(t: float) -> float:
        start = scenario.last_activation(bad, t) or bad_start
        return float(int(start + (4 if scenario.active(bad, t) else 90) * DAY))

    cert("payments", "legacy-pay-tls", "letsencrypt", bad_expiry, constant(1.0), bad_start)
    pending = "certificate-pending"
    pending_start = scenario.incident(pending).start
    cert("shop", "new-site-tls", "letsencrypt", renewing(pending, 90 * DAY, 0.0),
         lambda t: 0.0 if scenario.active(pending, t) else 1.0, pending_start)
    return out
