"""The lab's pure parts: scenario windows, cluster churn, the launcher's missing-binary message."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys

import pytest

from promsoc.lab.cluster import DAY, HOUR, build_cluster
from promsoc.lab.day import DAY_EVENTS
from promsoc.lab.launcher import PrometheusNotFound, find_binaries
from promsoc.lab.scenario import LIVE_ACTIVE, LIVE_EVERY, OPENING, Window, build_scenario
from promsoc.lab.simulator import SimOptions, Simulator

ANCHOR = 1_800_000_000.0


def test_window_once_and_periodic() -> None:
    once = Window(100.0, 50.0)
    assert once.phase(99.0) is None and once.phase(100.0) == 0.0 and once.phase(149.0) == 49.0
    assert once.phase(150.0) is None
    every = Window(100.0, 50.0, period=200.0)
    assert every.phase(310.0) == 10.0 and every.phase(360.0) is None
    assert every.last_start(399.0) == 300.0


def test_scenario_covers_every_detector_with_distinct_slots() -> None:
    cluster = build_cluster(ANCHOR)
    scenario = build_scenario(cluster, ANCHOR, live_start=None)
    starts = sorted(i.start for i in scenario.incidents)
    assert all(b - a >= 600 for a, b in itertools.pairwise(starts))
    ordinary = {e.name for e in DAY_EVENTS}
    assert all(i.start >= ANCHOR - 8 * HOUR and i.end <= ANCHOR - HOUR
               for i in scenario.incidents if i.name not in ordinary)
    day = [i for i in scenario.incidents if i.name in ordinary]
    assert len(day) == len(DAY_EVENTS) and all(i.benign for i in day)
    assert all(i.start >= ANCHOR - DAY and i.end < ANCHOR - 8 * HOUR for i in day)
    for quiet in scenario.quiet_times:
        assert not any(i.start - 1800 < quiet < i.end + 1800 for i in scenario.incidents)
    assert len({i.detector for i in scenario.attacks}) == 17


def test_live_loop_plays_an_attack_every_90_seconds() -> None:
    cluster = build_cluster(ANCHOR)
    live = ANCHOR + 100
    scenario = build_scenario(cluster, ANCHOR, live_start=live)
    attacks = [i.name for i in scenario.attacks]
    for k in range(3 * len(attacks)):
        t = live + k * LIVE_EVERY + 1
        assert scenario.active(attacks[k % len(attacks)], t)
    busy = [sum(scenario.active(a, live + s) for a in attacks) for s in range(0, 3600, 15)]
    assert min(busy) >= 1 and max(busy) <= LIVE_ACTIVE // LIVE_EVERY + 1


def test_live_mode_opens_on_an_attack_already_running() -> None:
    cluster = build_cluster(ANCHOR)
    opening = ANCHOR + 30
    scenario = build_scenario(cluster, ANCHOR, live_start=ANCHOR + 150, opening=opening)
    assert not scenario.active(OPENING, opening - 1)
    assert scenario.active(OPENING, opening) and scenario.active(OPENING, ANCHOR + 150)
    assert scenario.activation(OPENING, opening + 60) == opening
    assert not build_scenario(cluster, ANCHOR, live_start=None, opening=None).active(OPENING, opening)


def test_default_cluster_size_and_churn() -> None:
    cluster = build_cluster(ANCHOR)
    pods_now = cluster.pods_at(ANCHOR - 1)
    assert 110 <= len(pods_now) <= 130
    assert len(cluster.nodes_at(ANCHOR)) == 7  # control-plane-2 joined during the last day
    assert len(cluster.workload_keys_at(ANCHOR - 1800)) >= 25
    assert "shop/Deployment/legacy-search" in cluster.workload_keys_at(ANCHOR - 4 * 7 * DAY)
    assert "shop/Deployment/legacy-search" not in cluster.workload_keys_at(ANCHOR)
    host_net = {p.workload.name for p in pods_now if p.workload.host_network}
    assert "node-debugger" in host_net
    kinds = {p.owner_kind for p in pods_now}
    assert {"ReplicaSet", "StatefulSet", "DaemonSet"} <= kinds


def test_scale_knob_reaches_5000_pods_and_200_nodes() -> None:
    cluster = build_cluster(ANCHOR, pods=5000, nodes=200, history=2 * DAY)
    assert 4900 <= len(cluster.pods_at(ANCHOR - 1)) <= 5100
    assert len(cluster.nodes_at(ANCHOR)) == 200
    assert len(cluster.workload_keys_at(ANCHOR - 1800)) >= 700


def test_backfill_never_writes_after_its_end_and_series_ascend(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sim = Simulator(ANCHOR, SimOptions(history_days=1.0, traffic_days=0.5, live_incidents=False))
    out = tmp_path / "x.om"
    with out.open("w") as fh:
        sim.write_backfill(fh, ANCHOR - 3 * HOUR, ANCHOR)
    last: dict[str, int] = {}
    for line in out.read_text().splitlines():
        series, _value, stamp = line.rsplit(" ", 2)
        t = int(stamp)
        assert t <= ANCHOR
        assert t > last.get(series, -1), series
        last[series] = t


def test_counters_continue_from_backfill_into_live() -> None:
    sim = Simulator(ANCHOR, SimOptions(history_days=1.0, traffic_days=0.5, live_incidents=False))
    buf = io.StringIO()
    sim.write_backfill(buf, ANCHOR - HOUR, ANCHOR)
    key = 'nginx_ingress_controller_requests{'

    def series(text: str) -> str:  # the series Prometheus stores: empty-valued labels dropped
        return re.sub(r',?[a-z_]+=""', "", text).replace("{,", "{")

    backfilled = {series(ln.rsplit(" ", 2)[0]): float(ln.rsplit(" ", 2)[1])
                  for ln in buf.getvalue().splitlines() if ln.startswith(key)}
    live = {series(ln.rsplit(" ", 1)[0]): float(ln.rsplit(" ", 1)[1])
            for ln in sim.exposition(ANCHOR + 15).splitlines() if ln.startswith(key)}
    assert backfilled
    assert backfilled.keys() <= live.keys()
    for name, value in backfilled.items():
        assert live[name] >= value  # a counter never goes back
        assert live[name] - value < 2000  # ... and continues, it does not restart


def test_missing_binaries_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMSOC_PROMETHEUS_BIN", "/nonexistent/prometheus")
    with pytest.raises(PrometheusNotFound) as info:
        find_binaries()
    assert "apt-get install" in str(info.value) and "brew install prometheus" in str(info.value)


def test_demo_without_prometheus_exits_2_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "promsoc", "demo", "--no-tui"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "apt-get install" in proc.stderr and "Traceback" not in proc.stderr


def test_live_attack_moves_counters_in_the_exposition() -> None:
    live = ANCHOR + 60
    sim = Simulator(ANCHOR, SimOptions(history_days=1.0, traffic_days=0.5), live_start=live)
    series = 'apiserver_request_total{job="apiserver"'

    def refused(t: float) -> float:
        text = sim.exposition(t)
        return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
                   if ln.startswith(series) and 'code="403"' in ln and 'verb="LIST"' in ln)

    before = refused(live - 30)
    during = refused(live + 90)
    assert during - before > 200  # 3 refused LIST/s for two minutes: the first live attack


def test_pod_ips_are_in_their_node_cidr() -> None:
    import ipaddress

    cluster = build_cluster(ANCHOR)
    nodes = {n.name: n for n in cluster.nodes}
    for pod in cluster.pods_at(ANCHOR - 1):
        ip = ipaddress.ip_address(pod.pod_ip)
        if pod.workload.host_network:
            assert pod.pod_ip == pod.host_ip
        else:
            assert ip in ipaddress.ip_network(nodes[pod.node].pod_cidr), pod


def test_cache_entries_are_immutable_and_the_newest_young_one_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from promsoc.lab import backfill

    options = SimOptions(history_days=1.0, traffic_days=0.5)
    sim = Simulator(ANCHOR, options, live_start=None)
    data = tmp_path / "data"
    (data / "01BLOCK").mkdir(parents=True)
    (data / "01BLOCK" / "meta.json").write_text("{}")
    cache = tmp_path / "cache"
    cache.mkdir()
    backfill.save(cache, options, ANCHOR - 3600, sim, data)
    backfill.save(cache, options, ANCHOR, sim, data)
    found = backfill.restore(cache, options, ANCHOR + 60)
    assert found is not None and found[0] == ANCHOR
    assert len(list(cache.iterdir())) == 2  # the older one is still young: kept for running readers
    assert backfill.restore(cache, options, ANCHOR + backfill.MAX_GAP + 1) is None
    # an entry pruned while being read is a miss, not a crash, and leaves no half-copied blocks
    import shutil

    shutil.rmtree(found[1] / "blocks")
    target = tmp_path / "fresh"
    with pytest.raises(backfill.CacheMiss):
        backfill.load_cached(found[1], sim, target)
    assert list(target.iterdir()) == []
    # a much later save prunes entries nobody can reuse
    backfill.save(cache, options, ANCHOR + 3 * backfill.MAX_GAP, sim, data)
    assert [p.name.rsplit("-", 1)[1] for p in cache.iterdir()] == [str(int(ANCHOR + 3 * backfill.MAX_GAP))]


def test_parallel_backfill_continues_every_counter_like_a_single_worker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A cached history's gap is filled by two workers: every counter must end where one worker
    would have left it, or the live scrapes after it look like counter resets (false spikes)."""
    from promsoc.lab import backfill
    from promsoc.lab.launcher import Binaries

    fake = tmp_path / "promtool"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    tools = Binaries(prometheus=fake, promtool=fake)
    options = SimOptions(history_days=1.0, traffic_days=0.5, live_incidents=False)
    parallel, single = Simulator(ANCHOR, options), Simulator(ANCHOR, options)
    for sim in (parallel, single):  # the state a cache entry restores
        sim.write_backfill(io.StringIO(), ANCHOR - HOUR, ANCHOR)
    backfill.build_blocks(parallel, tools, tmp_path / "a" / "data", ANCHOR + 1, ANCHOR + 900, parts=2)
    backfill.build_blocks(single, tools, tmp_path / "b" / "data", ANCHOR + 1, ANCHOR + 900, parts=1)
    assert parallel.state() == single.state()
    live_at_end = {s.key for s in parallel.series if s.counter and s.schedule != "live"
                   and s.start <= ANCHOR + 900 < s.end}
    assert len(live_at_end) > 400
    assert all(parallel.state()[k][0] == ANCHOR + 900 for k in live_at_end), "the gap was not filled to its end"


def test_status_classes_fold_each_code_into_its_class() -> None:
    """--report-status-classes: the 404 and 403 of a path become its one 4xx series, same total."""
    at = ANCHOR + 30

    def requests(classes: bool) -> dict[tuple[str, str, str], float]:
        sim = Simulator(ANCHOR, SimOptions(live_incidents=False, ingress_status_classes=classes))
        sim.exposition(ANCHOR)  # counters start at the anchor
        out: dict[tuple[str, str, str], float] = {}
        for line in sim.exposition(at).splitlines():
            if line.startswith("nginx_ingress_controller_requests{"):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
                key = (labels["host"], labels["path"], labels["status"][0])
                out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
        return out

    codes, classes = requests(False), requests(True)
    assert classes.keys() == codes.keys()
    assert all(abs(classes[k] - codes[k]) <= 2 for k in codes)  # integer counters, rounded apart
    sim = Simulator(ANCHOR, SimOptions(live_incidents=False, ingress_status_classes=True))
    statuses = set(re.findall(r'nginx_ingress_controller_\w+\{[^}]*status="([^"]+)"', sim.exposition(at)))
    assert statuses == {"2xx", "3xx", "4xx", "5xx"}
