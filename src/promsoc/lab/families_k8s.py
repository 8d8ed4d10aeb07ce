"""Kubernetes-side exporters: kube-state-metrics, kube-apiserver, cert-manager, kubelet, cAdvisor."""

from __future__ import annotations

from collections.abc import Callable

from promsoc.lab import day
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
    noise,
    scaled,
    stable_seed,
    steady,
)

FAMILIES = [
    Family("kube_pod_info", "gauge", "Information about pod."),
    Family("kube_pod_owner", "gauge", "Information about the Pod's owner."),
    Family("kube_replicaset_owner", "gauge", "Information about the ReplicaSet's owner."),
    Family("kube_job_info", "gauge", "Information about job."),
    Family("kube_job_created", "gauge", "Unix creation timestamp"),
    Family("kube_job_owner", "gauge", "Information about the Job's owner."),
    Family("kube_cronjob_info", "gauge", "Info about cronjob."),
    Family("kube_cronjob_created", "gauge", "Unix creation timestamp"),
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



def pod_named(cluster: Cluster, namespace: str, workload: str, at: float) -> Pod:
    return cluster.pods_of(namespace, workload, at)[0]


def kube_state_metrics(cluster: Cluster, scenario: Scenario) -> list[Series]:
    ksm = pod_named(cluster, "monitoring", "kube-state-metrics", scenario.anchor)
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
    for ns, rs, owner, start, end in cluster.replicasets:
        w = next(w for w in cluster.workloads if w.namespace == ns and w.name == owner)
        # An old ReplicaSet lingers (scaled to zero) for a while after its rollout, then is pruned.
        out.append(Series("kube_replicaset_owner", {
            **base, "namespace": ns, "replicaset": rs, "owner_kind": w.kind,
            "owner_name": owner, "owner_is_controller": "true",
        }, one, False, TOPOLOGY, start, min(w.end, end + 2 * DAY)))
    out += _jobs(base, cluster)
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


def _jobs(base: dict[str, str], cluster: Cluster) -> list[Series]:
    """CronJobs and their Jobs; a finished Job is kept until three newer ones have run."""
    runs = sorted({(p.namespace, p.owner_name, p.workload.name, p.workload.start)
                   for p in cluster.pods if p.owner_kind == "Job"}, key=lambda r: r[3])
    out: list[Series] = []
    one = constant(1.0)
    for ns, cronjob in sorted({(ns, cj) for ns, _job, cj, _t in runs}):
        mine = [r for r in runs if r[:3:2] == (ns, cronjob)]
        created = float(int(mine[0][3] - 3600))
        ids = {**base, "namespace": ns, "cronjob": cronjob}
        out.append(Series("kube_cronjob_info", {**ids, "schedule": "0 * * * *",
                                                "concurrency_policy": "Forbid"},
                          one, False, TOPOLOGY, created))
        out.append(Series("kube_cronjob_created", ids, constant(created), False, TOPOLOGY, created))
        for i, (_ns, job, _cj, start) in enumerate(mine):
            pruned = mine[i + 3][3] + 600 if i + 3 < len(mine) else float("inf")
            job_ids = {**base, "namespace": ns, "job_name": job}
            out.append(Series("kube_job_info", job_ids, one, False, TOPOLOGY, start, pruned))
            out.append(Series("kube_job_created", job_ids, constant(float(int(start))), False,
                              TOPOLOGY, start, pruned))
            out.append(Series("kube_job_owner", {**job_ids, "owner_kind": "CronJob",
                                                 "owner_name": cronjob, "owner_is_controller": "true"},
                              one, False, TOPOLOGY, start, pruned))
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


def burst(scenario: Scenario, name: str, rate: float, base: ValueFn | None = None) -> ValueFn:
    """A rate that is `base` (default 0) plus `rate` while the named incident is active."""

    def fn(t: float) -> float:
        value = base(t) if base is not None else 0.0
        return value + rate if scenario.active(name, t) else value

    return fn


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
    return out + _young_volumes(cluster, scenario)


def _young_volumes(cluster: Cluster, scenario: Scenario) -> list[Series]:
    """Two volumes younger than an hour: one filling up on its own (attack), one restored
    nearly full that barely grows (look-alike)."""
    filling = scenario.incident("inode-filling")
    restored = scenario.incident("volume-full-but-steady")
    node, other = cluster.node("worker-4"), cluster.node("worker-2")

    def fill(t: float) -> float:
        phase = scenario.phase("inode-filling", t)
        return 0.86 + 0.09 * min(1.0, (phase if phase is not None else 0.0) / ACTIVE_FILL)

    def gone(t: float) -> bool:  # deleted after the attack; live repeats: there while filling
        if t > scenario.anchor:
            return not scenario.active("inode-filling", t)
        return t >= filling.end + 60

    def steady_fill(t: float) -> float:
        return 0.92 + 0.001 * (t - restored.start) / 3600

    return [*_volume(scenario, "shop", "session-cache", node.name, node.internal_ip,
                     filling.start - 60, float("inf"), 5, 0.86, 0.4, ratio=fill, hidden=gone),
            *_volume(scenario, "data", "archive-restore", other.name, other.internal_ip,
                     restored.start, other.end, 50, 0.92, 0.7, ratio=steady_fill)]


ACTIVE_FILL = 480.0  # seconds the young volume takes to fill


def _volume(scenario: Scenario, ns: str, pvc: str, node: str, ip: str, start: float, end: float,
            cap_gib: float, inode_ratio: float, byte_ratio: float, *, ratio: ValueFn | None = None,
            hidden: Callable[[float], bool] | None = None) -> list[Series]:
    capacity = cap_gib * 2**30
    inodes = float(int(capacity / 16384))
    seed = stable_seed(pvc)

    def usual(t: float) -> float:
        r = inode_ratio * (1 + 0.02 * noise(seed, t, 600))
        if pvc == "uploads" and (ph := scenario.phase("inode-exhaustion", t)) is not None:
            r += (0.96 - r) * min(1.0, ph / 120)
        if (ph := scenario.phase("volumes-grow-together", t)) is not None:
            r += 0.10 * min(1.0, ph / 120)
        return r

    share = ratio or usual

    def used_inodes(t: float) -> float:
        return float(int(inodes * share(t)))

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
    # the inode series have history (volume-inode-anomaly reads them); byte series are live only
    return [Series(f"kubelet_volume_stats_{m}", labels, fn, False, TRAFFIC if "inodes" in m else LIVE,
                   start, end, hidden=hidden) for m, fn in values.items()]


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
            cpu = burst(scenario, "crypto-miner", 1.9 - w.cpu, cpu)
        if w.name == "thumbnailer":
            cpu = burst(scenario, "thumbnailer-busy", 1.4, cpu)
        if w.kind in ("Deployment", "Rollout") and p.start > w.start:  # rolled out, moved, scaled
            cpu = _warming_up(cpu, w.cpu * spread, p.start)
        if (w.namespace, w.name) == day.HPA[:2]:
            cpu = burst(scenario, "hpa-scale-up", 1.5 * w.cpu, cpu)
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
            tx = burst(scenario, "exfiltration", 25e6, tx)
        if w.name == "payments-api":
            tx = burst(scenario, "payments-batch-sync", 8e6, tx)
        if (w.namespace, w.name) in day.BACKUP_WORKLOADS:
            tx = burst(scenario, "nightly-backup", 20e6, tx)
        net = {**common, "interface": "eth0", "container": "", "image": "", "name": "",
               "id": f"/kubepods/burstable/pod{p.uid}"}
        out.append(Series("container_network_transmit_bytes_total", net, tx, True, TRAFFIC,
                          p.start, p.end))
        # no detector reads received bytes: served live, not backfilled (a smaller, faster history)
        out.append(Series("container_network_receive_bytes_total", net, scaled(tx, 1.3), True, LIVE,
                          p.start, p.end))
    return out



def _warming_up(fn: ValueFn, usual: float, since: float) -> ValueFn:
    """A new pod's CPU: several times its usual use while it starts (see day.warmup_factor)."""
    until = since + day.WARMUP

    def warming(t: float) -> float:
        value = fn(t)
        return value + usual * day.warmup_factor(t - since) if since <= t < until else value

    return warming


__all__ = ["FAMILIES", "burst", "cadvisor", "kube_state_metrics", "kubelet_volumes", "pod_named"]
