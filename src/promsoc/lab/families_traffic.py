"""Traffic-side exporters: ingress-nginx, Istio, Linkerd, Falco, falco-exporter, falcosidekick."""

from __future__ import annotations

import math

from promsoc.lab.cluster import Cluster
from promsoc.lab.families_k8s import INGRESSES, burst, pod_named
from promsoc.lab.scenario import Scenario
from promsoc.lab.series import (
    LIVE,
    TRAFFIC,
    Family,
    Series,
    ValueFn,
    render_series,
    scaled,
    stable_seed,
    steady,
)

FAMILIES = [
    Family("nginx_ingress_controller_requests", "counter", "The total number of client requests"),
    Family("nginx_ingress_controller_response_size", "histogram", "The response length (including headers)"),
    Family("nginx_ingress_controller_request_duration_seconds", "histogram", "The request processing time"),
    Family("istio_requests_total", "counter", "Total requests."),
    Family("istio_tcp_sent_bytes_total", "counter", "Total bytes sent during response in case of a TCP connection"),
    Family("istio_tcp_received_bytes_total", "counter",
           "Total bytes received during request in case of a TCP connection"),
    Family("request_total", "counter", "Total count of HTTP requests."),
    Family("response_total", "counter", "Total count of HTTP responses."),
    Family("falcosecurity_falco_rules_matches_total", "counter", "Number of times rules match"),
    Family("falcosecurity_scap_n_evts_total", "counter", "Number of events captured"),
    Family("falcosecurity_scap_n_drops_total", "counter", "Number of dropped events"),
    Family("falcosecurity_falco_outputs_queue_num_drops_total", "counter", "Number of outputs queue drops"),
    Family("falcosecurity_evt_hostname_info", "gauge", "Hostname of the Falco instance"),
    Family("falcosecurity_falco_version_info", "gauge", "Falco version"),
    Family("falco_events", "counter", "Number of Falco events (falco-exporter / falcosidekick < 2.30)"),
    Family("falcosecurity_falcosidekick_falco_events_total", "counter", "Falco events received"),
    Family("falcosecurity_falcosidekick_outputs_total", "counter", "Deliveries to outputs"),
    Family("falcosecurity_falcosidekick_inputs_total", "counter", "Inputs received"),
    Family("falcosidekick_outputs", "counter", "Deliveries to outputs (falcosidekick < 2.30)"),
    Family("falcosidekick_inputs", "counter", "Inputs received (falcosidekick < 2.30)"),
]

SIZE_BUCKETS = [100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]  # as set with --length-buckets
DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]

# Per path: typical response size (median bytes), and steady error shares.
_SIZES = {"/downloads": 5e6, "/api/export": 3e4, "/images": 2e5}
_STEADY_SHARE = {("api.example.com", "/v1", "404"): 0.10}
# attack/benign incident -> (host, path, status, share during the incident)
_ERROR_INCIDENTS = [("fingerprinting", "shop.example.com", "/", "404", 0.60),
                    ("bruteforce", "shop.example.com", "/login", "403", 0.65),
                    ("sqli", "shop.example.com", "/api/search", "500", 0.55)]
# benign: 404 storms on busy paths that stay a small share (a broken link on a popular page)
_SMALL_SHARES = [("busy-path-404s", "shop.example.com", "/", "404", 0.12),
                 ("busy-path-404s", "cdn.example.com", "/images", "404", 0.18)]
_QUIET_INCIDENTS = {"quiet-path-404": "404", "quiet-path-403": "403", "quiet-path-500": "500"}


def _lognormal_cdf(x: float, median: float, sigma: float = 0.6) -> float:
    if x <= 0:
        return 0.0
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2))))


def ingress_nginx(cluster: Cluster, scenario: Scenario, *, status_classes: bool = False) -> list[Series]:
    """ingress-nginx's metrics; with status_classes, as with --report-status-classes ("4xx")."""
    ctl = pod_named(cluster, "ingress-nginx", "ingress-nginx-controller", scenario.anchor)
    base = {"job": "ingress-nginx", "instance": f"{ctl.pod_ip}:10254", "controller_namespace": "ingress-nginx",
            "controller_class": "k8s.io/ingress-nginx", "controller_pod": ctl.name, "canary": ""}
    out: list[Series] = []
    for ns, ingress, _klass, host, paths, _age in INGRESSES:
        for path, service, rps in paths:
            ids = {**base, "host": host, "path": path, "namespace": ns, "ingress": ingress,
                   "service": service, "method": "POST" if path in ("/login", "/checkout") else "GET"}
            out += _path_series(scenario, ids, host, path, rps)
    return _as_classes(out) if status_classes else out


def _as_classes(series: list[Series]) -> list[Series]:
    """Status codes folded into classes: the series of 403 and 404 become one of 4xx."""
    groups: dict[str, list[Series]] = {}
    for s in series:
        groups.setdefault(render_series(s.name, _classed(s.labels)), []).append(s)
    out = []
    for members in groups.values():
        first = members[0]
        fns = [m.fn for m in members]
        fn = fns[0] if len(fns) == 1 else (lambda t, fns=fns: sum(f(t) for f in fns))
        out.append(Series(first.name, _classed(first.labels), fn, first.counter, first.schedule,
                          min(m.start for m in members), max(m.end for m in members),
                          integer=first.integer))
    return out


def _classed(labels: dict[str, str]) -> dict[str, str]:
    status = labels.get("status")
    return {**labels, "status": f"{status[0]}xx"} if status else labels


def _path_series(scenario: Scenario, ids: dict[str, str], host: str, path: str,
                 rps: float) -> list[Series]:
    seed = stable_seed(host + path)
    total = steady(rps, seed, amplitude=0.45, jitter=0.05)
    if path == "/downloads":
        total = burst(scenario, "download-rush", 9 * rps, total)
    attacks = [(name, status, share) for name, h, p, status, share in _ERROR_INCIDENTS + _SMALL_SHARES
               if (h, p) == (host, path)]

    def share_of(status: str) -> ValueFn:
        steady_share = _STEADY_SHARE.get((host, path, status), {"404": 0.02, "403": 0.003,
                                                                "500": 0.002, "301": 0.01}[status])

        def fn(t: float) -> float:
            share = steady_share
            for name, st, attack_share in attacks:
                if st == status and scenario.active(name, t):
                    share = attack_share
            return share
        return fn

    shares = {s: share_of(s) for s in ("404", "403", "500", "301")}
    quiet = path == "/admin"
    out: list[Series] = []
    for status in ("200", "301", "404", "403", "500"):
        if quiet:
            if status == "200":
                continue
            wanted = next((n for n, s in _QUIET_INCIDENTS.items() if s == status), None)
            if wanted is None:
                continue
            # two requests in the whole incident, both failing: 2 / 480 s
            fn: ValueFn = burst(scenario, wanted, 2.2 / 480)
            start = scenario.incident(wanted).start
            out.append(Series("nginx_ingress_controller_requests", {**ids, "status": status}, fn,
                              True, TRAFFIC, start, integer=True))
            continue
        if status == "200":
            def fn(t: float) -> float:
                return total(t) * (1 - sum(s(t) for s in shares.values()))
        else:
            def fn(t: float, share: ValueFn = shares[status]) -> float:
                return total(t) * share(t)
        out.append(Series("nginx_ingress_controller_requests", {**ids, "status": status}, fn,
                          True, TRAFFIC, integer=True))
    if not quiet and rps > 0:
        out += _size_histogram(scenario, ids, path, total)
    return out


def _size_histogram(scenario: Scenario, ids: dict[str, str], path: str, total: ValueFn) -> list[Series]:
    median = _SIZES.get(path, 8e3)
    normal = [_lognormal_cdf(le, median) for le in SIZE_BUCKETS]
    extraction = [_lognormal_cdf(le, 4e7, 0.3) for le in SIZE_BUCKETS]
    attack = path == "/api/export"
    name = "nginx_ingress_controller_response_size"
    labels = {**ids, "status": "200"}
    out = []

    def cdf(t: float, i: int) -> float:
        if attack and scenario.active("mass-extraction", t):
            return 0.3 * normal[i] + 0.7 * extraction[i]
        return normal[i]

    def bucket(i: int) -> ValueFn:
        return lambda t: total(t) * cdf(t, i)

    for i, le in enumerate(SIZE_BUCKETS):
        out.append(Series(f"{name}_bucket", {**labels, "le": f"{le:g}"}, bucket(i), True, TRAFFIC))
    out.append(Series(f"{name}_bucket", {**labels, "le": "+Inf"}, total, True, TRAFFIC))
    mean = median * 1.2

    def size_sum(t: float) -> float:
        big = attack and scenario.active("mass-extraction", t)
        return total(t) * (0.3 * mean + 0.7 * 4.2e7 if big else mean)

    out.append(Series(f"{name}_sum", labels, size_sum, True, TRAFFIC))
    out.append(Series(f"{name}_count", labels, total, True, TRAFFIC))
    # Request durations: served live only (no detector reads them).
    dname = "nginx_ingress_controller_request_duration_seconds"
    for le in [*DURATION_BUCKETS, math.inf]:
        label = "+Inf" if le == math.inf else f"{le:g}"
        share = 1.0 if le == math.inf else _lognormal_cdf(le, 0.04, 0.8)
        out.append(Series(f"{dname}_bucket", {**labels, "le": label},
                          scaled(total, share), True, LIVE))
    out.append(Series(f"{dname}_sum", labels, lambda t: total(t) * 0.05, True, LIVE))
    out.append(Series(f"{dname}_count", labels, total, True, LIVE))
    return out


# (source namespace, source workload, destination namespace, destination workload, rps)
EDGES = [("ingress-nginx", "ingress-nginx-controller", "shop", "storefront", 40.0),
         ("ingress-nginx", "ingress-nginx-controller", "auth", "auth-service", 6.0),
         ("ingress-nginx", "ingress-nginx-controller", "shop", "search-api", 15.0),
         ("ingress-nginx", "ingress-nginx-controller", "shop", "checkout", 3.0),
         ("ingress-nginx", "ingress-nginx-controller", "shop", "api-gateway", 32.0),
         ("ingress-nginx", "ingress-nginx-controller", "shop", "catalog", 4.0),
         ("ingress-nginx", "ingress-nginx-controller", "auth", "keycloak", 6.0),
         ("ingress-nginx", "ingress-nginx-controller", "payments", "payments-api", 4.0),
         ("shop", "storefront", "shop", "cart", 12.0), ("shop", "storefront", "shop", "catalog", 30.0),
         ("shop", "storefront", "shop", "search-api", 8.0), ("shop", "storefront", "auth", "auth-service", 10.0),
         ("shop", "cart", "data", "redis", 25.0), ("shop", "checkout", "payments", "payments-api", 3.0),
         ("shop", "checkout", "shop", "cart", 3.0), ("shop", "checkout", "shop", "inventory", 3.0),
         ("payments", "payments-api", "payments", "ledger-db", 7.0), ("shop", "search-api", "shop", "catalog", 20.0),
         ("shop", "catalog", "data", "postgres", 45.0), ("shop", "api-gateway", "shop", "catalog", 15.0),
         ("shop", "api-gateway", "shop", "inventory", 6.0), ("shop", "api-gateway", "auth", "auth-service", 12.0),
         ("auth", "auth-service", "auth", "keycloak", 10.0), ("auth", "keycloak", "data", "postgres", 8.0),
         ("data", "etl-worker", "data", "postgres", 20.0)]
# lateral movement: the compromised thumbnailer starts talking to the ledger, in clear text
LATERAL = ("media", "thumbnailer", "payments", "ledger-db", 2.0)
PLAINTEXT_EDGE = ("data", "etl-worker", "data", "postgres")  # never had mTLS
LOST_MTLS = ("shop", "checkout", "payments", "payments-api")  # mTLS turned off 3 days ago
LOST_MTLS_AGO = 3 * 86400.0


def istio(cluster: Cluster, scenario: Scenario) -> list[Series]:
    out: list[Series] = []
    lateral_start = scenario.incident("exfiltration").start
    edges = [(e, -math.inf) for e in EDGES] + [(LATERAL, lateral_start)]
    for (sns, src, dns, dst, rps), start in edges:
        plain = (sns, src, dns, dst) == PLAINTEXT_EDGE or (sns, src) == LATERAL[:2]
        lost = (sns, src, dns, dst) == LOST_MTLS
        switch = scenario.anchor - LOST_MTLS_AGO
        if plain:
            segments = [("none", start, math.inf)]
        elif lost:
            segments = [("mutual_tls", start, switch), ("none", switch, math.inf)]
        else:
            segments = [("mutual_tls", start, math.inf)]
        for policy, seg_start, seg_end in segments:
            labels = {"job": "istio-mesh", "reporter": "destination", "source_workload": src,
                      "source_workload_namespace": sns, "source_app": src.split("-")[0],
                      "source_principal": f"spiffe://cluster.local/ns/{sns}/sa/{src}",
                      "destination_workload": dst, "destination_workload_namespace": dns,
                      "destination_service": f"{dst}.{dns}.svc.cluster.local",
                      "destination_service_name": dst, "grpc_response_status": "", "response_flags": "-",
                      "request_protocol": "http", "connection_security_policy": policy}
            if policy == "none":
                labels["source_principal"] = "unknown"
            fn = steady(rps, stable_seed(src + dst), amplitude=0.45)
            for code, share in (("200", 0.995), ("503", 0.005)):
                out.append(Series("istio_requests_total", {**labels, "response_code": code},
                                  scaled(fn, share), True, TRAFFIC,
                                  seg_start, seg_end, integer=True))
            if dst in ("postgres", "redis", "ledger-db"):
                tcp = {k: v for k, v in labels.items() if k not in ("grpc_response_status", "request_protocol")}
                out.append(Series("istio_tcp_sent_bytes_total", tcp, scaled(fn, 900),
                                  True, LIVE, seg_start, seg_end))
                out.append(Series("istio_tcp_received_bytes_total", tcp, scaled(fn, 300),
                                  True, LIVE, seg_start, seg_end))
    return out


def linkerd(cluster: Cluster, scenario: Scenario) -> list[Series]:
    """A Linkerd-meshed corner (the data namespace's ETL), served live only."""
    out: list[Series] = []
    for p in cluster.pods_of("data", "etl-worker", scenario.anchor):
        common = {"job": "linkerd-proxy", "namespace": "data", "pod": p.name, "deployment": "etl-worker",
                  "direction": "outbound", "tls": "true", "authority": "redis.data.svc.cluster.local:6379",
                  "dst_namespace": "data", "dst_service": "redis", "dst_statefulset": "redis",
                  "dst_deployment": "", "dst_daemonset": ""}
        fn = steady(5.0, stable_seed(p.name))
        out.append(Series("request_total", common, fn, True, LIVE, p.start, p.end))
        out.append(Series("response_total", {**common, "status_code": "200", "classification": "success"},
                          fn, True, LIVE, p.start, p.end))
    return out


# Falco priorities: Falco's own numbers (0 Emergency .. 7 Debug)
PRIORITY_NAMES = ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"]


def sidekick_priority(falco_priority: int) -> int:
    """falcosidekick >= 2.30 numbers the other way: 0 Default, 1 Debug ... 8 Emergency."""
    return 8 - falco_priority
