"""Real exporters' output (tests/fixtures/real), scraped by a real Prometheus: scan, check, topology.

Each dump is served as captured by a loopback HTTP server of its own (a target, as the exporter
would be) and scraped every second by a Prometheus started as the lab starts it. The data shows
no attack: every detector must run without error, say `no_data` for what the dumps lack, and fire
on nothing, including on the API server's and Falco's counters that a fresh Prometheus sees for
the first time (61 bootstrap ClusterRoleBinding writes: the old "born in the window" fragment fired
rbac-cluster-change on them with 4 findings, top 73). Istio's pairs and kubelet's two volumes
are read too: an unchanging Istio dump is a mesh without traffic (rate 0, no edges) until its
counters move; neither volume is near full. No falcosidekick dump exists here: `no_data`.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from promsoc.lab.launcher import PrometheusServer
from promsoc.promql.fragments import pod_workload
from promsoc.promql.topology import traffic_queries
from tests.integration.test_scan_cli import promsoc

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
DUMPS = [
    REAL / "kubernetes-1.35" / "kube-state-metrics.txt",
    REAL / "kubernetes-1.35" / "kube-apiserver.txt",
    REAL / "kubernetes-1.35" / "cadvisor.txt",
    REAL / "falco-0.40" / "falco.txt",
    REAL / "ingress-nginx-2018" / "ingress-nginx.txt",
    REAL / "istio-1.1" / "istio-mesh.txt",
    REAL / "kubelet-1.14" / "kubelet.txt",
]
# No public falcosidekick /metrics dump under a licence we may ship was found: honestly absent.
NO_DATA = {
    "cert-expiry-certmanager": ["certmanager_certificate_expiration_timestamp_seconds"],
    "falco-output-errors": ["falcosecurity_falcosidekick_outputs_total|falcosidekick_outputs"],
}
ISTIO = DUMPS[5]


class _Dump(http.server.BaseHTTPRequestHandler):
    """Serves `bodies` in turn, one per scrape, then the last one for ever."""

    bodies: list[bytes] = []
    served = 0

    def do_GET(self) -> None:
        cls = type(self)
        body = cls.bodies[min(cls.served, len(cls.bodies) - 1)]
        cls.served += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(body: bytes | list[bytes]) -> http.server.ThreadingHTTPServer:
    handler = type("Dump", (_Dump,), {"bodies": body if isinstance(body, list) else [body], "served": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _query(url: str, promql: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/api/v1/query?query={urllib.parse.quote(promql)}", timeout=10) as r:
        result: list[dict[str, object]] = json.load(r)["data"]["result"]
    return result


@contextlib.contextmanager
def _scraped(bodies: Sequence[bytes | list[bytes]]) -> Iterator[str]:
    """A real Prometheus scraping each body as a target of its own, after 3 scrapes of each."""
    servers = [_serve(body) for body in bodies]
    targets = [f"127.0.0.1:{s.server_address[1]}" for s in servers]
    prom = PrometheusServer(scrape_targets=targets, scrape_interval="1s",
                            scrape_options={"honor_timestamps": False})
    try:
        prom.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            scraped = _query(prom.url, "count_over_time(up[1m]) >= 3 and up == 1")
            if len(scraped) == len(targets):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"targets not scraped 3 times: {_query(prom.url, 'up')}")
        yield prom.url
    finally:
        prom.stop()
        for server in servers:
            server.shutdown()


@pytest.fixture(scope="module")
def real_prometheus() -> Iterator[str]:
    with _scraped([path.read_bytes() for path in DUMPS]) as url:
        yield url


def test_scan_fires_nothing_and_names_every_blind_spot(real_prometheus: str) -> None:
    # The dump holds the API server's bootstrap RBAC writes: a first sight, not a burst.
    writes = _query(real_prometheus, 'sum(apiserver_request_total{resource="clusterrolebindings", verb="POST"})')
    assert float(writes[0]["value"][1]) == 61  # type: ignore[index]
    proc = promsoc("scan", "--url", real_prometheus, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["detector"]: r for r in json.loads(proc.stdout)["results"]}
    assert len(results) == 17
    for det, result in results.items():
        assert result["error"] is None, result
        if det in NO_DATA:
            assert result["status"] == "no_data", result
            assert result["missing"] == NO_DATA[det], result
        else:
            assert result["status"] == "ok", result
    assert results["ingress-created"]["note"] == "no Ingress objects seen, or the ingress collector is off"
    # kubelet 1.14's two real volumes are read, and neither is near full (0.23% and 0.27% of inodes).
    shares = _query(real_prometheus, "kubelet_volume_stats_inodes_used / kubelet_volume_stats_inodes")
    assert sorted(round(float(s["value"][1]), 5) for s in shares) == [0.00228, 0.00274]  # type: ignore[index]
    assert results["volume-inode-anomaly"]["findings"] == []


def test_check_runs_every_query_and_lists_what_is_missing(real_prometheus: str) -> None:
    proc = promsoc("check", "--url", real_prometheus)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert not any("✗" in line for line in lines), proc.stdout
    assert sum("? missing" in line for line in lines) == len(NO_DATA)
    assert "  └ no Ingress objects seen, or the ingress collector is off" in lines
    assert "Traceback" not in proc.stderr


def test_topology_groups_real_owners_as_the_detectors_do(real_prometheus: str) -> None:
    proc = promsoc("topology", "--url", real_prometheus, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    pods = {(p["namespace"], p["name"]): (p["workload_kind"], p["workload"])
            for node in doc["nodes"] for p in node["pods"]}
    assert len(pods) == 25
    assert pods[("kube-system", "kube-apiserver-datagen-1-35")] == ("StaticPod", "kube-apiserver-datagen-1-35")
    assert pods[("kube-system", "etcd-datagen-1-35")] == ("StaticPod", "etcd-datagen-1-35")
    assert pods[("scraper", "e2e-cronjob-29707813-dhlr2")] == ("CronJob", "e2e-cronjob")
    assert pods[("scraper", "e2e-cronjob-29707814-h2f28")] == ("CronJob", "e2e-cronjob")
    assert pods[("scraper", "e2e-failjob-28dqq")] == ("Job", "e2e-failjob")
    assert pods[("kube-system", "coredns-7d764666f9-qdcxt")] == ("Deployment", "coredns")
    assert pods[("scraper", "e2e-container-pending")] == ("Pod", "e2e-container-pending")
    # The sibling detectors' PromQL groups every owned pod exactly as the topology does.
    grouped = {
        (str(s["metric"]["namespace"]), str(s["metric"]["pod"])):  # type: ignore[index]
        (str(s["metric"]["workload_kind"]), str(s["metric"]["workload"]))  # type: ignore[index]
        for s in _query(real_prometheus, pod_workload())
    }
    assert grouped == {key: value for key, value in pods.items() if value[0] != "Pod"}
    assert len(grouped) == 22  # 25 pods, 3 without an owner


def test_duplicate_falco_families_are_scraped_once(real_prometheus: str) -> None:
    events = _query(real_prometheus, "falcosecurity_scap_n_evts_total")
    assert len(events) == 1
    rules = _query(real_prometheus, "falcosecurity_falco_rules_matches_total")
    assert sorted(str(r["metric"]["rule_name"]) for r in rules) == [  # type: ignore[index]
        "Create Privileged Pod", "K8s Serviceaccount Created", "Terminal shell in container",
    ]


def test_status_classes_are_a_blind_spot_with_the_reason_not_ok() -> None:
    """The same controller as ingress-nginx prints it with --report-status-classes."""
    real = (REAL / "ingress-nginx-2018" / "ingress-nginx.txt").read_text()
    classes = re.sub(r'status="([1-5])[0-9][0-9]"', r'status="\1xx"', real)
    assert classes != real and 'status="4xx"' in classes
    with _scraped([DUMPS[0].read_bytes(), classes.encode()]) as url:
        proc = promsoc("scan", "--url", url, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["detector"]: r for r in json.loads(proc.stdout)["results"]}
    for det in ("ingress-fingerprinting", "ingress-bruteforce", "ingress-sqli"):
        assert results[det]["status"] == "no_data", results[det]
        assert results[det]["missing"] == ['nginx_ingress_controller_requests{status=~"[1-5][0-9][0-9]"}']
        assert "--report-status-classes" in results[det]["note"]
    assert results["ingress-response-size-anomaly"]["status"] == "ok"


# Istio 1.1 (Mixer) reports every request twice: once by the destination's proxy, once by the source's.
ISTIO_PAIRS = {
    ("default/productpage-v1", "default/details-v1"),
    ("default/details-v1", "istio-system/istio-policy"),
    ("istio-system/istio-ingressgateway", "istio-system/istio-policy"),
    ("default/productpage-v1", "istio-system/istio-policy"),
    ("default/ratings-v1", "istio-system/istio-policy"),
    ("default/reviews-v1", "istio-system/istio-policy"),
    ("default/reviews-v2", "istio-system/istio-policy"),
    ("default/reviews-v3", "istio-system/istio-policy"),
    ("istio-system/istio-ingressgateway", "default/productpage-v1"),
    ("default/reviews-v2", "default/ratings-v1"),
    ("default/reviews-v3", "default/ratings-v1"),
    ("default/productpage-v1", "default/reviews-v1"),
    ("default/productpage-v1", "default/reviews-v2"),
    ("default/productpage-v1", "default/reviews-v3"),
    *((f"default/{w}", "istio-system/istio-telemetry")
      for w in ("details-v1", "productpage-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3")),
    ("istio-system/istio-ingressgateway", "istio-system/istio-telemetry"),
    ("istio-system/istio-policy", "istio-system/istio-telemetry"),
}


def test_an_unchanging_istio_dump_is_a_mesh_with_no_traffic(real_prometheus: str) -> None:
    """The 22 destination-reported pairs are seen, but a counter that never moves has rate 0: no edges."""
    pairs = _query(real_prometheus, traffic_queries("10m")["istio_total"])
    seen = {(f"{s['metric']['source_workload_namespace']}/{s['metric']['source_workload']}",  # type: ignore[index]
             f"{s['metric']['destination_workload_namespace']}/{s['metric']['destination_workload']}")  # type: ignore[index]
            for s in pairs}
    assert seen == ISTIO_PAIRS and len(pairs) == 22
    assert {s["metric"]["connection_security_policy"] for s in pairs} == {"none"}  # type: ignore[index]
    assert {float(s["value"][1]) for s in pairs} == {0.0}  # type: ignore[index]
    proc = promsoc("topology", "--url", real_prometheus, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["mesh"] == "istio"
    assert doc["edges"] == []


def test_istio_pairs_become_plaintext_edges_once_the_counters_move() -> None:
    """The same mesh serving the same traffic again: the dump, then every count doubled."""
    real = ISTIO.read_text()
    again = re.sub(r"} ([0-9]+)$", lambda m: "} " + str(2 * int(m.group(1))), real, flags=re.MULTILINE)
    assert again != real and again.count("\n") == real.count("\n")
    with _scraped([DUMPS[0].read_bytes(), [real.encode(), again.encode()]]) as url:
        proc = promsoc("topology", "--url", url, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["mesh"] == "istio"
    edges = {(e["source"], e["destination"]): e for e in doc["edges"]}
    assert set(edges) == ISTIO_PAIRS
    # Mixer's connection_security_policy="none": no pair is mutual TLS, none failed (all 200).
    assert not any(e["mtls"] for e in edges.values())
    assert all(e["error_ratio"] == 0 and e["rps"] > 0 for e in edges.values())
    # The busiest pairs of the dump (7 requests) stay the busiest.
    top = max(edges.values(), key=lambda e: e["rps"])["rps"]
    assert {k for k, e in edges.items() if e["rps"] == top} == {
        ("default/productpage-v1", "default/details-v1"),
        ("istio-system/istio-ingressgateway", "default/productpage-v1"),
        ("default/productpage-v1", "istio-system/istio-telemetry"),
    }
