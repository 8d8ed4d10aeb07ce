"""Kubernetes-side exporters: kube-state-metrics, kube-apiserver, cert-manager, kubelet, cAdvisor."""

from __future__ import annotations

from promsoc.lab.cluster import DAY, Cluster, Pod
from promsoc.lab.scenario import Scenario
from promsoc.lab.series import (
    LIVE,
    TOPOLOGY,
    TRAFFIC,
    Family,
    Series,
    ValueFn,
    constant,
    diurnal,
    noise,
    scaled,
    stable_seed,
    steady,
)

FAMILIES = [
    Family("kube_pod_info", "gauge", "Information about pod."),
    Family("kube_pod_owner", "gauge", "Information about the Pod's owner."),
    Family("kube_replicaset_owner", "gauge", "Information about the ReplicaSet's owner."),
    Family("kube_node_info", "gauge", "Information about a cluster node."),
    Family("kube_ingress_info", "gauge", "Information about ingress."),
    Family("kube_ingress_created", "gauge", "Unix creation timestamp."),
    Family("kube_ingress_path", "gauge", "Ingress host, paths and backend service information."),
    Family("apiserver_request_total", "counter", "Counter of apiserver requests."),
    Family("apiserver_client_certificate_expiration_seconds", "histogram",
           "Distribution of the remaining lifetime on the certificate used to authenticate a request."),
    Family("apiserver_authorization_decisions_total", "counter", "Total number of authorization decisions."),
    Family("authentication_attempts", "counter", "Counter of authenticated attempts."),
    Family("apiserver_flowcontrol_current_executing_requests", "gauge",
           "Number of requests in initial or regular execution stage in the API Priority and Fairness subsystem"),
    Family("certmanager_certificate_expiration_timestamp_seconds", "gauge",
           "The date after which the certificate expires. Expressed as a Unix Epoch Time."),
    Family("certmanager_certificate_ready_status", "gauge", "The ready status of the certificate."),
    *[Family(f"kubelet_volume_stats_{m}", "gauge", f"Volume {m.replace('_', ' ')}.") for m in (
        "capacity_bytes", "available_bytes", "used_bytes", "inodes", "inodes_free", "inodes_used")],
    Family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds."),
    Family("container_network_transmit_bytes_total", "counter", "Cumulative count of bytes transmitted"),
    Family("container_network_receive_bytes_total", "counter", "Cumulative count of bytes received"),
]

# The ingresses: (namespace, name, class, host, [(path, service, base rps)], created days before anchor)
INGRESSES: list[tuple[str, str, str, str, list[tuple[str, str, float]], float]] = [
    ("shop", "storefront", "nginx", "shop.example.com",
     [("/", "storefront", 40.0), ("/login", "auth-service", 6.0), ("/api/search", "search-api", 15.0),
      ("/checkout", "checkout", 3.0)], 400),
    ("shop", "api", "nginx", "api.example.com", [("/v1", "api-gateway", 30.0),
                                                 ("/api/export", "api-gateway", 2.0)], 300),
    ("media", "cdn", "nginx", "cdn.example.com", [("/downloads", "catalog", 4.0),
                                                  ("/images", "thumbnailer", 20.0)], 250),
    ("auth", "sso", "nginx", "sso.example.com", [("/", "keycloak", 6.0)], 380),
    ("payments", "payments", "nginx", "pay.example.com", [("/", "payments-api", 4.0)], 200),
    ("monitoring", "grafana", "_default", "grafana.example.com", [("/", "grafana", 1.0)], 150),
    ("monitoring", "ops-console", "nginx", "ops.example.com", [("/admin", "grafana", 0.0)], 120),
    ("shop", "legacy", "nginx", "old.example.com", [("/", "storefront", 0.5)], 700),
]
BACKDOOR = ("shop", "promo-backdoor", "nginx", "promo.example.com", "/", "storefront")

# (namespace, name, issuer, remaining days at anchor or None for the 60/90-day renewal cycle)
CERTIFICATES = [
    ("shop", "storefront-tls", "letsencrypt", None),
    ("shop", "api-tls", "letsencrypt", None),
    ("auth", "sso-tls", "letsencrypt", None),
    ("payments", "payments-tls", "letsencrypt", None),
    ("monitoring", "grafana-tls", "internal-ca", 20.0),
]


def _pod_named(cluster: Cluster, namespace: str, workload: str, at: float) -> Pod:
    return cluster.pods_of(namespace, workload, at)[0]


def kube_state_metrics(cluster: Cluster, scenario: Scenario) -> list[Series]:
    ksm = _pod_named(cluster, "monitoring", "kube-state-metrics", scenario.anchor)
    base = {"job": "kube-state-metrics", "instance": f"{ksm.pod_ip}:8080"}
    one = constant(1.0)
    out: list[Series] = []
    for p in cluster.pods:
        w = p.workload
        created_by_kind = {"ReplicaSet": "ReplicaSet"}.get(p.owner_kind, p.owner_kind)
        out.append(Series("kube_pod_info", {
            **base, "namespace": p.namespace, "pod": p.name, "uid": p.uid, "host_ip": p.host_ip,
            "pod_ip": p.pod_ip, "node": p.node, "created_by_kind": created_by_kind,
            "created_by_name": p.owner_name, "priority_class": w.priority_class,
            "host_network": "true" if w.host_network else "false",
        }, one, False, TOPOLOGY, p.start, p.end))
        out.append(Series("kube_pod_owner", {
            **base, "namespace": p.namespace, "pod": p.name, "uid": p.uid,
            "owner_kind": p.owner_kind, "owner_name": p.owner_name, "owner_is_controller": "true",
        }, one, False, TOPOLOGY, p.start, p.end))
    for ns, rs, deployment, start, end in cluster.replicasets:
        retired = next(w.end for w in cluster.workloads if w.namespace == ns and w.name == deployment)
        # An old ReplicaSet lingers (scaled to zero) for a while after its rollout, then is pruned.
        out.append(Series("kube_replicaset_owner", {
            **base, "namespace": ns, "replicaset": rs, "owner_kind": "Deployment",
            "owner_name": deployment, "owner_is_controller": "true",
        }, one, False, TOPOLOGY, start, min(retired, end + 2 * DAY)))
    for n in cluster.nodes:
        out.append(Series("kube_node_info", {
            **base, "node": n.name, "kernel_version": "6.1.0-28-cloud-amd64",
            "os_image": "Debian GNU/Linux 12 (bookworm)",
            "container_runtime_version": "containerd://1.7.24", "kubelet_version": "v1.31.4",
            "provider_id": f"lab://{n.name}", "pod_cidr": n.pod_cidr, "internal_ip": n.internal_ip,
            "system_uuid": f"{stable_seed(n.name):08x}-lab",
        }, one, False, TOPOLOGY, n.start, n.end))
    out += _ingresses(base, scenario)
    return out


def _ingresses(base: dict[str, str], scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    one = constant(1.0)
    for ns, name, klass, host, paths, age_days in INGRESSES:
        ids = {**base, "namespace": ns, "ingress": name}
        born = float(int(scenario.anchor - age_days * DAY))
        out.append(Series("kube_ingress_info", {**ids, "ingressclass": klass}, one, False, TOPOLOGY))
        out.append(Series("kube_ingress_created", ids, constant(born), False, TOPOLOGY))
        for path, service, _rps in paths:
            out.append(Series("kube_ingress_path", {
                **ids, "host": host, "path": path, "path_type": "Prefix",
                "service_name": service, "service_port": "80"}, one, False, TOPOLOGY))
    # benign: the old ingress gets a new path; it stays.
    old_path = scenario.incident("old-ingress-new-path").start
    out.append(Series("kube_ingress_path", {
        **base, "namespace": "shop", "ingress": "legacy", "host": "old.example.com",
        "path": "/promo", "path_type": "Prefix", "service_name": "storefront", "service_port": "80",
    }, one, False, TOPOLOGY, old_path))
    # attack: a back door appears (and, in live mode, is removed after each activation).
    ns, name, klass, host, path, service = BACKDOOR
    ids = {**base, "namespace": ns, "ingress": name}
    first = scenario.incident("backdoor-ingress").start

    def created(t: float) -> float:
        return float(int(scenario.last_activation("backdoor-ingress", t) or first))

    def gone(t: float) -> bool:  # live repeats: the back door exists only while active
        return t > scenario.anchor and not scenario.active("backdoor-ingress", t)

    out.append(Series("kube_ingress_info", {**ids, "ingressclass": klass}, one, False, TOPOLOGY,
                      first, hidden=gone))
    out.append(Series("kube_ingress_created", ids, created, False, TOPOLOGY, first, hidden=gone))
    out.append(Series("kube_ingress_path", {**ids, "host": host, "path": path, "path_type": "Prefix",
                                            "service_name": service, "service_port": "80"},
                      one, False, TOPOLOGY, first, hidden=gone))
    return out


def _burst(scenario: Scenario, name: str, rate: float, base: ValueFn | None = None) -> ValueFn:
    """A rate that is `base` (default 0) plus `rate` while the named incident is active."""

    def fn(t: float) -> float:
        value = base(t) if base is not None else 0.0
        return value + rate if scenario.active(name, t) else value

    return fn


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
            fn = _burst(scenario, "secrets-read-burst", 15.0, fn)
        scope = "cluster" if resource in ("nodes", "clusterroles", "clusterrolebindings") else "namespace"
        req(verb, group, resource, code, fn, scope=scope)
    req("PATCH", "", "pods", "200", steady(4.0, 11), subresource="status")
    # A misconfigured controller's steady trickle of 403s (never an incident by itself).
    req("GET", "", "pods", "403", _burst(scenario, "api-403-trickle", 0.08, constant(0.02)))
    # Attacks and look-alikes (series exist from their first request onward).
    unauth = scenario.incident("api-unauthorized-burst").start
    req("LIST", "", "pods", "403", _burst(scenario, "api-unauthorized-burst", 3.0), start=unauth)
    sec = scenario.incident("secrets-denied").start
    req("GET", "", "secrets", "403", _burst(scenario, "secrets-denied", 1.0), start=sec)
    req("LIST", "", "secrets", "403", _burst(scenario, "secrets-denied", 0.5), start=sec)
    rbac = scenario.incident("rbac-escalation").start
    rbac_group = "rbac.authorization.k8s.io"
    req("POST", rbac_group, "clusterrolebindings", "201", _burst(scenario, "rbac-escalation", 0.01),
        scope="cluster", start=rbac)
    req("PATCH", rbac_group, "clusterroles", "200", _burst(scenario, "rbac-escalation", 0.01),
        scope="cluster", start=rbac)
    nsrbac = scenario.incident("namespaced-rbac-writes").start
    req("PATCH", rbac_group, "rolebindings", "200", _burst(scenario, "namespaced-rbac-writes", 0.02),
        start=nsrbac)
    out += _apiserver_auth(base, scenario)
    out += _client_cert_histogram(base, scenario)
    out.append(Series("apiserver_flowcontrol_current_executing_requests", {
        **base, "flow_schema": "service-accounts", "priority_level": "workload-low"},
        steady(3.0, 5), False, LIVE))
    return out


def _apiserver_auth(base: dict[str, str], scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    authn: dict[str, ValueFn] = {"success": steady(60.0, 21), "failure": _burst(scenario, "api-unauthorized-burst", 5.0,
                                                             constant(0.005)), "error": constant(0.0)}
    for result, fn in authn.items():
        out.append(Series("authentication_attempts", {**base, "result": result}, fn, True, TRAFFIC,
                          integer=True))
    denied = _burst(scenario, "api-unauthorized-burst", 3.0,
                    _burst(scenario, "secrets-denied", 1.5,
                           _burst(scenario, "api-403-trickle", 0.08, constant(0.02))))
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

    def observations(t: float) -> list[tuple[float, float]]:
        rate = normal(t)
        obs = [(120 * DAY, rate * 0.7), (200 * DAY, rate * 0.3)]
        if scenario.active("expiring-client-cert", t):
            obs.append((3 * DAY, 0.25))
        if scenario.active("client-cert-20d", t):
            obs.append((20 * DAY, 0.5))
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
    cm = _pod_named(cluster, "cert-manager", "cert-manager", scenario.anchor)
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


# (namespace, pvc, owning workload or fixed node, capacity GiB, inode ratio, used byte ratio)
VOLUMES = [("data", "data-postgres-{i}", "postgres", 100, 0.04, 0.45),
           ("data", "data-redis-{i}", "redis", 20, 0.02, 0.30),
           ("payments", "data-ledger-db-{i}", "ledger-db", 50, 0.06, 0.50),
           ("auth", "data-keycloak-{i}", "keycloak", 10, 0.03, 0.20),
           ("monitoring", "prometheus-db-prometheus-{i}", "prometheus", 200, 0.12, 0.60),
           ("media", "uploads", "@worker-1", 500, 0.08, 0.35),
           ("data", "git-mirror", "@worker-2", 100, 0.45, 0.55)]


def kubelet_volumes(cluster: Cluster, scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    for ns, pvc_pattern, owner, cap_gib, inode_ratio, byte_ratio in VOLUMES:
        if owner.startswith("@"):
            node = cluster.node(owner[1:])
            mounts = [(pvc_pattern, node.name, node.internal_ip, node.start, node.end)]
        else:
            mounts = [(pvc_pattern.format(i=p.name.rsplit("-", 1)[1]), p.node, p.host_ip, p.start, p.end)
                      for p in cluster.pods if p.namespace == ns and p.workload.name == owner]
        for pvc, node_name, ip, start, end in mounts:
            out += _volume(scenario, ns, pvc, node_name, ip, start, end, cap_gib, inode_ratio, byte_ratio)
    return out


def _volume(scenario: Scenario, ns: str, pvc: str, node: str, ip: str, start: float, end: float,
            cap_gib: float, inode_ratio: float, byte_ratio: float) -> list[Series]:
    capacity = cap_gib * 2**30
    inodes = float(int(capacity / 16384))
    seed = stable_seed(pvc)

    def ratio(t: float) -> float:
        r = inode_ratio * (1 + 0.02 * noise(seed, t, 600))
        if pvc == "uploads" and (ph := scenario.phase("inode-exhaustion", t)) is not None:
            r += (0.96 - r) * min(1.0, ph / 120)
        if (ph := scenario.phase("volumes-grow-together", t)) is not None:
            r += 0.10 * min(1.0, ph / 120)
        return r

    def used_inodes(t: float) -> float:
        return float(int(inodes * ratio(t)))

    def used_bytes(t: float) -> float:
        return float(int(capacity * byte_ratio * (1 + 0.01 * noise(seed + 1, t, 600))))

    values: dict[str, ValueFn] = {
        "capacity_bytes": constant(capacity),
        "used_bytes": used_bytes,
        "available_bytes": lambda t: capacity - used_bytes(t),
        "inodes": constant(inodes),
        "inodes_used": used_inodes,
        "inodes_free": lambda t: inodes - used_inodes(t),
    }
    labels = {"job": "kubelet", "instance": f"{ip}:10250", "metrics_path": "/metrics", "node": node,
              "namespace": ns, "persistentvolumeclaim": pvc}
    return [Series(f"kubelet_volume_stats_{m}", labels, fn, False, TRAFFIC, start, end)
            for m, fn in values.items()]


def cadvisor(cluster: Cluster, scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    miner = scenario.incident("crypto-miner").labels["pod"]
    exfil = scenario.incident("exfiltration").labels["pod"]
    for p in cluster.pods:
        w = p.workload
        seed = stable_seed(p.uid)
        spread = 1.0 + 0.08 * noise(seed, 0.0)  # siblings differ a little, consistently
        cpu = steady(w.cpu * spread, seed, amplitude=0.25, jitter=0.06)
        if p.name == miner:
            cpu = _burst(scenario, "crypto-miner", 1.9 - w.cpu, cpu)
        if w.name == "thumbnailer":
            cpu = _burst(scenario, "thumbnailer-busy", 1.4, cpu)
        common = {"job": "kubelet", "metrics_path": "/metrics/cadvisor", "instance": f"{p.host_ip}:10250",
                  "node": p.node, "namespace": p.namespace, "pod": p.name}
        out.append(Series("container_cpu_usage_seconds_total", {
            **common, "container": p.container, "image": p.image, "cpu": "total",
            # short container ids keep the backfill small; real ones are 64 hex digits
            "name": p.container_id[:12], "id": f"/kubepods/burstable/pod{p.uid}/{p.container_id[:12]}",
        }, cpu, True, TRAFFIC, p.start, p.end))
        if w.host_network:
            continue
        tx = steady(w.tx * spread, seed + 7, amplitude=0.4, jitter=0.08)
        if p.name == exfil:
            tx = _burst(scenario, "exfiltration", 25e6, tx)
        if w.name == "payments-api":
            tx = _burst(scenario, "payments-batch-sync", 8e6, tx)
        net = {**common, "interface": "eth0", "container": "", "image": "", "name": "",
               "id": f"/kubepods/burstable/pod{p.uid}"}
        out.append(Series("container_network_transmit_bytes_total", net, tx, True, TRAFFIC,
                          p.start, p.end))
        out.append(Series("container_network_receive_bytes_total", net, scaled(tx, 1.3), True, TRAFFIC,
                          p.start, p.end))
    return out




__all__ = ["FAMILIES", "apiserver", "cadvisor", "cert_manager", "diurnal", "kube_state_metrics",
           "kubelet_volumes"]
