"""`promsoc alerts --at TIME`: the console's past alerts board, headless, against the lab's real
Prometheus evaluating the pack's exported rules (`clusters_lab`: three clusters behind one
Prometheus, the opening back door, a new Ingress, in cluster-1, then each cluster's in turn)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from promsoc.cli.demo import sources_config
from promsoc.lab import Lab
from promsoc.lab.launcher import free_port
from tests.integration.labquery import query
from tests.integration.test_many_clusters_lab import CLUSTERS, SHOWS_WITHIN, Backdoors, load_file_text
from tests.integration.test_scan_cli import promsoc

BACKDOOR = 'ALERTS{alertname="PromsocIngressCreated",alertstate="firing",cluster="cluster-1"}'
PAST_KEYS = {"at", "from", "note", "sources", "alerts"}


def backdoor_firing(lab: Lab) -> float:
    """A moment (a rule evaluation's own time) when cluster-1's back-door alert was firing: its
    latest in the last hour (it opens every 30 minutes), or, if none since the rules run (the lab
    was up after the opening attack ended), at its next activation, which the scenario says."""
    due = Backdoors(lab).next_open("cluster-1", lab.ready_at + SHOWS_WITHIN)  # open a while once rules run
    deadline = time.monotonic() + max(120.0, due - time.time() + 120)
    while not (found := query(lab.url, f"last_over_time(timestamp({BACKDOOR})[1h:5s])")):
        assert time.monotonic() < deadline, "the back-door rule never fired"
        time.sleep(2)
    return float(found[0]["value"][1])


def config_of(lab: Lab, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "clusters.yaml"
    path.write_text(sources_config(lab.url, 3) + extra)
    return path


def test_at_a_moment_the_back_door_fired_it_is_listed_and_exits_1(clusters_lab: Lab, tmp_path: Path) -> None:
    at = backdoor_firing(clusters_lab)
    config = config_of(clusters_lab, tmp_path)
    proc = promsoc("alerts", "--config", str(config), "--at", f"{at:.3f}", "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == PAST_KEYS and doc["from"] == "prometheus ALERTS"
    assert "silences and inhibitions are live-only" in doc["note"]
    assert doc["sources"] == {"answered": list(CLUSTERS), "unanswered": []}
    doors = [a for a in doc["alerts"] if a["labels"]["alertname"] == "PromsocIngressCreated"]
    # the other clusters' back doors open in turn too: those the scenario has open then, and no other
    backdoors, clusters = Backdoors(clusters_lab), [a["labels"]["cluster"] for a in doors]
    assert len(clusters) == len(set(clusters)), doors
    assert backdoors.must(at, at) | {"cluster-1"} <= set(clusters) <= backdoors.may(at, at), (at, doors)
    [door] = [a for a in doors if a["labels"]["cluster"] == "cluster-1"]
    assert door["state"] == "firing" and set(door) == {"labels", "state", "starts_at"}
    assert door["labels"]["cluster"] == "cluster-1" and door["labels"]["detector"] == "ingress-created"
    assert door["labels"]["ingress"] == "promo-backdoor" and "alertstate" not in door["labels"]
    assert door["starts_at"].endswith("Z") and door["starts_at"] <= doc["at"]

    table = promsoc("alerts", "--config", str(config), "--source", "cluster-1", "--at", f"{at:.3f}")
    assert table.returncode == 1, table.stdout + table.stderr
    lines = table.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert lines[0].startswith("Prometheus ALERTS at ") and lines[0].endswith(": cluster-1")
    assert "silences and inhibitions are live-only" in " ".join(lines) and "PromsocIngressCreated (1)" in lines
    row = lines[lines.index("PromsocIngressCreated (1)") + 1]
    assert row.startswith("▲ firing") and "detector=ingress-created" in row, row


def test_each_sources_past_board_is_the_consoles(clusters_lab: Lab, tmp_path: Path) -> None:
    """`--source NAME --at T` lists what the console's alerts view of NAME shows at T."""
    at = backdoor_firing(clusters_lab)
    assert clusters_lab.alertmanager is not None
    config = config_of(clusters_lab, tmp_path)
    settings = load_file_text(sources_config(clusters_lab.url, 3), clusters_lab.alertmanager.url)

    async def consoles() -> dict[str, set[tuple[str, str, str]]]:
        from promsoc.prom.client import PromClient
        from promsoc.tui.alerts_link import AlertsLink

        clients = {s.name: PromClient(s) for s in settings.sources}
        link = AlertsLink(settings, clients.__getitem__)
        try:
            boards = {name: await link.board(name, at) for name in CLUSTERS}
        finally:
            await link.aclose()
            for client in clients.values():
                await client.aclose()
        return {name: {(r.name, r.labels.get("cluster", ""), r.state) for r in b.rows} for name, b in boards.items()}

    console = asyncio.run(consoles())
    for name in CLUSTERS:
        proc = promsoc("alerts", "--config", str(config), "--source", name, "--at", f"{at:.3f}", "--format", "json")
        doc = json.loads(proc.stdout)
        listed = {(a["labels"]["alertname"], a["labels"].get("cluster", ""), a["state"]) for a in doc["alerts"]}
        assert listed == console[name], name
        assert {c for _, c, _ in listed} <= {name}, listed
        assert (("PromsocIngressCreated", "cluster-1", "firing") in listed) is (name == "cluster-1")
        assert doc["sources"]["answered"] == [name]
        assert proc.returncode == (1 if any(state == "firing" for *_, state in listed) else 0), proc.stderr


def test_before_the_rules_ran_nothing_fired_and_it_exits_0(clusters_lab: Lab, tmp_path: Path) -> None:
    """The lab's history is backfilled; its rules only run since its Prometheus started."""
    config = config_of(clusters_lab, tmp_path)
    before = clusters_lab.anchor - 3600
    assert query(clusters_lab.url, "count(kube_pod_info)", before)  # the cluster was there then
    proc = promsoc("alerts", "--config", str(config), "--at", str(int(before)), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["alerts"] == [] and doc["sources"]["answered"] == list(CLUSTERS)
    table = promsoc("alerts", "--config", str(config), "--at", str(int(before)))
    assert table.returncode == 0 and "0 alerts (0 firing, 0 pending)" in table.stdout, table.stdout


def test_a_prometheus_that_does_not_answer_is_named_and_exits_3(clusters_lab: Lab, tmp_path: Path) -> None:
    at = backdoor_firing(clusters_lab)
    dead = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "dr.yaml"
    config.write_text(f"sources:\n  - name: cluster-1\n    url: {clusters_lab.url}\n"
                      f"  - name: dr\n    url: {dead}\n    timeout: 2s\n")  # fmt: skip
    proc = promsoc("alerts", "--config", str(config), "--at", f"{at:.3f}", "--format", "json")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sources"]["answered"] == ["cluster-1"]
    [gone] = doc["sources"]["unanswered"]
    assert gone["source"] == "dr" and "connection refused" in gone["error"], gone
    assert "PromsocIngressCreated" in {a["labels"]["alertname"] for a in doc["alerts"]}  # the rest is shown
    table = promsoc("alerts", "--config", str(config), "--at", f"{at:.3f}")
    assert table.returncode == 3 and "✗ no answer from dr: " in table.stdout, table.stdout
    alone = promsoc("alerts", "--url", dead, "--at", f"{at:.3f}")
    assert alone.returncode == 3 and "connection refused" in alone.stderr and alone.stdout == ""
    assert alone.stderr.count("\n") == 1 and "Traceback" not in alone.stderr


def test_bad_at_and_options_that_do_not_go_together_are_usage_errors() -> None:
    for argv, words in (
        (["--at", "yesterday-ish", "--url", "http://127.0.0.1:9"], "--at: 'yesterday-ish' is not a time"),
        (["--at", "2026-02-30T00:00:00Z", "--url", "http://127.0.0.1:9"], "February 2026 has no day 30"),
        (["--at", "1700000000", "--alertmanager", "http://127.0.0.1:9"], "Alertmanager keeps no history"),
        (["--url", "http://127.0.0.1:9"], "only for a past moment (--at)"),
    ):
        proc = promsoc("alerts", *argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert words in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout == ""
