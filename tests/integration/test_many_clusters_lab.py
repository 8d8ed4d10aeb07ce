"""A lab of three clusters behind one Prometheus (a `cluster` label, as Thanos or Mimir show them):
one source per cluster, each with its `cluster` selector, and every detector runs per cluster."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from promsoc.cli.demo import sources_config
from promsoc.config import Settings
from promsoc.lab import Lab
from tests.integration.labquery import query
from tests.integration.test_scan_cli import promsoc

CLUSTERS = ("cluster-1", "cluster-2", "cluster-3")


def scan(lab: Lab, config: Path, at: float) -> dict[tuple[str, str], dict[str, object]]:
    proc = promsoc("scan", "--config", str(config), "--at", str(at), "--format", "json")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return {(r["source"], r["detector"]): r for r in json.loads(proc.stdout)["results"]}


def test_an_incident_fires_only_in_its_own_clusters_source(clusters_lab: Lab, tmp_path: Path) -> None:
    lab = clusters_lab
    config = tmp_path / "clusters.yaml"
    config.write_text(sources_config(lab.url, 3))
    pods = {r["metric"]["cluster"]: r["value"][1] for r in query(lab.url, "count by (cluster) (kube_pod_info)")}
    assert set(pods) == set(CLUSTERS)
    for owner, name in (("cluster-1", "bruteforce"), ("cluster-2", "crypto-miner"), ("cluster-3", "secrets-denied")):
        incident = lab.scenarios[owner].incident(name)
        results = scan(lab, config, incident.eval_at)
        assert len(results) == 17 * 3
        for cluster in CLUSTERS:
            entry = results[(cluster, incident.detector)]
            if cluster == owner:
                assert entry["status"] == "firing", (cluster, name, entry)
                findings = entry["findings"]
                assert isinstance(findings, list)
                # the finding names this cluster's own object (crypto-miner: its own thumbnailer pod)
                assert any(incident.labels.items() <= f["labels"].items() for f in findings), findings
            else:
                assert entry["status"] == "ok", (cluster, name, entry)
        # meanwhile the other clusters run their own incidents (the timeline is rotated per cluster)
        for cluster in CLUSTERS:
            mine = [i for i in lab.scenarios[cluster].attacks
                    if i.start + 300 <= incident.eval_at < i.end and i.end - i.start <= 600]
            for other in mine:
                assert results[(cluster, other.detector)]["status"] == "firing", (cluster, other.name)


def test_demo_clusters_prints_a_config_with_one_source_per_cluster(clusters_lab: Lab) -> None:
    """`promsoc demo --clusters 3 --no-tui` (the fixture's history is in the shared cache, so this
    reuses it): its generated config scans three sources; the opening attack is cluster-1's alone."""
    launched = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "promsoc", "demo", "--no-tui", "--no-alertmanager",
                             "--clusters", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        line = proc.stdout.readline()
        assert line.startswith("Config: "), line
        config = Path(line.split(" ", 1)[1].strip())
        assert f"url: {url}" in config.read_text()
        # as the demo began: its opening attack began 2 minutes before, cluster-3's back door opens 2
        # minutes after (then cluster-2's, ...), whatever time the demo took to start
        results = scan(clusters_lab, config, launched + 1)
        assert {source for source, _ in results} == set(CLUSTERS)
        assert results[("cluster-1", "ingress-created")]["status"] == "firing"
        assert results[("cluster-2", "ingress-created")]["status"] == "ok"
        assert results[("cluster-3", "ingress-created")]["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not config.exists(), "the generated config outlived the demo"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_check_says_which_sources_are_asked_together(clusters_lab: Lab, tmp_path: Path) -> None:
    config = tmp_path / "clusters.yaml"
    config.write_text(sources_config(clusters_lab.url, 3) + "\n  - name: apart\n    url: " + clusters_lab.url
                      + "\n    selector: 'cluster=\"cluster-1\"'\n    coalesce: false\n")  # fmt: skip
    proc = promsoc("check", "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1] == "asked together (one request a query, split by cluster): cluster-1, cluster-2,"
    assert lines[2] == "  cluster-3"
    assert "-- source apart" in lines


def alerts_of(url: str, name: str | None = None) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=30) as resp:
        body = json.load(resp)
    return [a["labels"] for a in body["data"]["alerts"] if name in (None, a["labels"]["alertname"])]


BACKDOOR_ALERT = "PromsocIngressCreated"  # the rule of the detector below, exported `--by cluster`
BACKDOOR_DETECTOR = "ingress-created"
SHOWS_WITHIN = 60.0  # a back door's alert is in Prometheus, Alertmanager and ALERTS this long after it opens
LINGERS = 60.0  # and may stay this long after it closes (a scrape, an evaluation, a notification)


class Backdoors:
    """When each cluster's scenario has a back door open (its attacks of `BACKDOOR_DETECTOR`: the
    opening one, then the live repeats, rotated per cluster): which clusters' alerts a query made
    over [t0, t1] must show, and which it may (a session-long lab has seen several by then)."""

    def __init__(self, lab: Lab) -> None:
        self.ready = lab.ready_at
        self.windows = {cluster: [w for i in scenario.incidents if i.detector == BACKDOOR_DETECTOR and not i.benign
                                  for w in scenario.windows.get(i.name, ())]
                        for cluster, scenario in lab.scenarios.items()}  # fmt: skip
        assert all(self.windows.values()), self.windows

    def opens(self, t0: float, t1: float) -> set[str]:
        """Clusters with a back door open at some moment of [t0, t1]."""
        return {c for c, windows in self.windows.items()
                if any((s := w.last_start(t1)) is not None and s + w.duration > t0 for w in windows)}

    def may(self, t0: float, t1: float) -> set[str]:
        """Clusters whose alert may show in a query made over [t0, t1] (or in `ALERTS` at t0 = t1)."""
        return self.opens(t0 - LINGERS, t1)

    def must(self, t0: float, t1: float) -> set[str]:
        """Clusters with a back door open all through [t0 - SHOWS_WITHIN, t1], Prometheus up then."""
        since = t0 - SHOWS_WITHIN
        if since < self.ready:
            return set()
        return {c for c, windows in self.windows.items()
                if any(w.phase(since) is not None and (s := w.last_start(since)) is not None and s + w.duration > t1
                       for w in windows)}  # fmt: skip

    def next_open(self, cluster: str, after: float) -> float:
        """The first moment from `after` on at which the cluster's back door is open."""
        moments = []
        for w in self.windows[cluster]:
            start = w.last_start(after)
            if start is not None and start + w.duration > after:
                moments.append(after)
            elif start is None:
                moments.append(w.start)
            elif w.period is not None:
                moments.append(start + w.period)
        assert moments, (cluster, after)
        return min(moments)

    def past_moment(self, now: float) -> float | None:
        """The latest moment before now at which some cluster's back door must show in `ALERTS`."""
        moments = []
        for windows in self.windows.values():
            for w in windows:
                start = w.last_start(now - 5)
                for _ in range(2):  # this activation, or the one before it
                    if start is None:
                        break
                    at = min(now - 5, start + w.duration - 10)
                    if at - SHOWS_WITHIN >= max(start, self.ready):
                        moments.append(at)
                        break
                    start = w.last_start(start - 1)
        return max(moments, default=None)


def test_lab_alerts_carry_their_own_cluster(clusters_lab: Lab) -> None:
    """The lab's Prometheus evaluates the rules exported `--by cluster`: a back door (an ingress
    created in one cluster: the opening attack in cluster-1, then each cluster's live repeats) fires
    one alert per cluster that has one open, labelled with that cluster, and no other; every alert
    says its cluster; each source's alerts view (a shared Alertmanager) shows only its own cluster's.
    Which clusters have a back door open at a query's moment is the lab's scenario's say."""
    backdoors = Backdoors(clusters_lab)
    deadline = time.monotonic() + 120
    while True:
        t0 = time.time()
        fired = alerts_of(clusters_lab.url, BACKDOOR_ALERT)
        t1 = time.time()
        clusters = {a.get("cluster") for a in fired}
        assert clusters <= backdoors.may(t0, t1), (fired, backdoors.may(t0, t1))
        must = backdoors.must(t0, t1)
        # none must show now and none is open or opens in the next 30 s: the past moment below has one
        if must <= clusters and (must or not backdoors.opens(t1, t1 + 30)):
            break
        assert time.monotonic() < deadline, ("the rule never fired", fired, must)
        time.sleep(2)
    everything = alerts_of(clusters_lab.url)
    assert everything and all(a.get("cluster") in CLUSTERS for a in everything), everything
    assert clusters_lab.alertmanager is not None
    settings = load_file_text(sources_config(clusters_lab.url, 3), clusters_lab.alertmanager.url)
    # the past board at a moment when a back door was open (when none was yet: a second ago)
    past_at = backdoors.past_moment(time.time()) or time.time() - 1
    past_must, past_may = backdoors.must(past_at, past_at), backdoors.may(past_at, past_at)

    async def boards() -> dict[str, set[tuple[str, str]]]:
        from promsoc.prom.client import PromClient
        from promsoc.tui.alerts_link import AlertsLink

        clients = {s.name: PromClient(s) for s in settings.sources}
        link = AlertsLink(settings, clients.__getitem__)
        try:  # one board per cluster (the console's `n` steps through them), not one for the three
            assert [getattr(link.info(name), "sources", None) for name in CLUSTERS] == [(name,) for name in CLUSTERS]
            shown: dict[str, set[tuple[str, str]]] = {}
            for name in CLUSTERS:
                live = await link.board(name, None)
                past = await link.board(name, past_at)
                shown[name] = {(r.name, r.labels.get("cluster", "")) for r in live.rows}
                shown[name + "@past"] = {(r.name, r.labels.get("cluster", "")) for r in past.rows}
            return shown
        finally:
            await link.aclose()
            for client in clients.values():
                await client.aclose()

    # Prometheus's first send may precede its notifier's start: the lab resends after 5 s
    deadline = time.monotonic() + 60
    while True:
        t0 = time.time()
        shown = asyncio.run(boards())
        t1 = time.time()
        for name in CLUSTERS:
            assert {c for _, c in shown[name]} <= {name}, (name, shown[name])
            assert {c for _, c in shown[name + "@past"]} <= {name}, (name, shown[name + "@past"])
        live = {name for name in CLUSTERS if (BACKDOOR_ALERT, name) in shown[name]}
        past = {name for name in CLUSTERS if (BACKDOOR_ALERT, name) in shown[name + "@past"]}
        assert live <= backdoors.may(t0, t1) and past <= past_may, (shown, past_at)
        if backdoors.must(t0, t1) <= live and past_must <= past:
            break
        assert time.monotonic() < deadline, (shown, past_at, backdoors.must(t0, t1), past_must)
        time.sleep(2)
    # `promsoc alerts --source NAME` filters as the console does, and its exit code counts only those
    config = Path(tempfile.mkdtemp(prefix="promsoc-clusters-")) / "clusters.yaml"
    config.write_text(sources_config(clusters_lab.url, 3) + f"alertmanager:\n  url: {clusters_lab.alertmanager.url}\n")
    t0 = time.time()
    everyone = promsoc("alerts", "--config", str(config), "--format", "json")
    t1 = time.time()
    assert everyone.returncode in (0, 1), everyone.stdout + everyone.stderr
    listed = json.loads(everyone.stdout)["alerts"]
    assert everyone.returncode == (1 if any(a["state"] == "active" for a in listed) else 0)
    assert {a["labels"].get("cluster") for a in listed} <= set(CLUSTERS), listed
    clusters = {a["labels"].get("cluster") for a in listed if a["labels"]["alertname"] == BACKDOOR_ALERT}
    assert backdoors.must(t0, t1) <= clusters <= backdoors.may(t0, t1), (listed, t0, t1)
    for name in CLUSTERS:
        t0 = time.time()
        proc = promsoc("alerts", "--config", str(config), "--source", name, "--format", "json")
        t1 = time.time()
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        listed = json.loads(proc.stdout)["alerts"]
        assert {a["labels"].get("cluster") for a in listed} <= {name}, (name, listed)
        names = {(a["labels"]["alertname"], a["labels"].get("cluster")) for a in listed}
        has = (BACKDOOR_ALERT, name) in names
        assert not has or name in backdoors.may(t0, t1), (name, names, t0)
        assert has or name not in backdoors.must(t0, t1), (name, names, t0)
        assert proc.returncode == (1 if any(a["state"] == "active" for a in listed) else 0)


def load_file_text(text: str, am_url: str) -> Settings:
    from dataclasses import replace

    from promsoc.config import adhoc_alertmanager, load_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clusters.yaml"
        path.write_text(text)
        settings = load_file(path)
    return replace(settings, alertmanager=adhoc_alertmanager(am_url), source_alertmanagers={})
