"""`promsoc rules export --recording --by cluster`: the heavy blocks recorded for many clusters behind
one Prometheus. Every block keeps the label, its marker is one per cluster, a source narrowed to
one cluster reads that cluster's blocks (the label dropped where the raw expression drops it), and
the promtool cases of every recordable detector give, cluster by cluster, the raw path's alerts."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from promsoc.detectors.engine import can_read_recorded, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import alerting_rule, export_recording, split_blocks
from promsoc.detectors.spec import Detector
from promsoc.prom.group_by import plan_for, split_plan
from promsoc.prom.selector import inject_matchers
from promsoc.promql import recording

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
SRC = str(Path(__file__).resolve().parents[2] / "src")
CLUSTERS = ("c1", "c2")


def recordable() -> list[Detector]:
    return [d for d in load_detectors() if can_read_recorded(d)]


def test_every_block_keeps_the_label_and_has_one_marker_per_cluster() -> None:
    detectors = recordable()
    plain = recorded_blocks(detectors, presence=True)
    rules = yaml.safe_load(export_recording(detectors, by="cluster"))["groups"][0]["rules"]
    blocks = [r for r in rules if r["record"] != recording.MARKER]
    markers = [r for r in rules if r["record"] == recording.MARKER]
    assert [r["record"] for r in blocks] == [b.record for b in plain]
    for rule, block in zip(blocks, plain, strict=True):
        assert rule["expr"] == split_plan(block.rule or block.expr, "cluster").promql
        if " by (" in (block.rule or block.expr):
            assert "cluster)" in rule["expr"], block.record
    split = split_blocks(plain, "cluster")
    assert [m["expr"] for m in markers] == [f"group by (cluster) ({b.record})" for b in plain]
    assert [m["labels"] for m in markers] == [
        {"block": b.record, "expr": b.fingerprint, recording.BY: "cluster"} for b in split
    ]
    # another expression than the unsplit block's: a marker of the one is never taken for the other
    assert not {b.fingerprint for b in split} & {b.fingerprint for b in plain}


def test_a_split_block_is_read_with_the_label_dropped_where_the_raw_expression_drops_it() -> None:
    for block in split_blocks(recorded_blocks(recordable(), presence=True), "cluster"):
        raw = plan_for(block.expr, "cluster")
        assert not isinstance(raw, str)
        if raw.keeps is True:  # a per-pod signal: the raw answer has the cluster label too
            assert block.reads == replace(block, read="", by=None).reads or block.record == recording.PRESENCE
        else:
            assert block.reads.endswith(', "cluster", "", "", "")')
        # and the console's merged requests (prom.fanin) still split a query reading it
        merged = split_plan(block.reads, "cluster")
        assert merged.keeps is raw.keeps and '"cluster", "", "", "")' not in merged.promql


def markers(blocks: tuple[recording.Recorded, ...], cluster: str, **extra: str) -> list[dict[str, str]]:
    return [{"__name__": recording.MARKER, "block": b.record, "expr": b.fingerprint, recording.BY: "cluster",
             "cluster": cluster, **extra} for b in blocks]  # fmt: skip


def test_a_source_reads_the_split_blocks_of_its_one_cluster_only() -> None:
    det = next(d for d in load_detectors() if d.id == "container-cpu-outlier")
    plain = recorded_blocks([det])
    split = split_blocks(plain, "cluster")
    one = recording.present(plain, markers(split, "c7"))
    assert one.readable == split and one.spans is None
    rewritten = recording.rewrite(det.query, one.readable)
    assert "promsoc:container_cpu_outlier:signal" in rewritten and "kube_pod_owner" not in rewritten
    # a source that sees twenty clusters (no selector): the raw queries, and why
    many = recording.present(plain, [m for c in range(20) for m in markers(split, f"c{c}")])
    assert many.readable == () and many.spans == ("cluster", 20)
    # c7's map recorded but not its signal (no pod of c7 runs a container): what is there is read
    part = recording.present(plain, markers(split[:1], "c7"))
    assert [b.record for b in part.readable] == [recording.POD_WORKLOAD]
    # no marker for c7 at all: raw; the unsplit rules' markers (vector(1), no cluster) are read as before
    assert recording.present(plain, []).readable == ()
    unsplit = [{"block": b.record, "expr": b.fingerprint} for b in plain]
    assert recording.present(plain, unsplit).readable == plain


def test_a_split_band_waits_for_its_split_signal_to_be_old_enough() -> None:
    det = next(d for d in load_detectors() if d.id == "ingress-response-size-anomaly")
    plain = recorded_blocks([det])
    split = split_blocks(plain, "cluster")
    signal = next(b for b in split if b.record.endswith(":signal"))
    young = recording.present(plain, markers(split, "c1"))
    assert [b.record for b in young.readable] == [recording.POD_WORKLOAD] and len(young.young) == 3
    aged = markers((signal,), "c1", promsoc_age="4260")
    old = recording.present(plain, [*markers(split, "c1"), *aged])
    assert old.readable == split and not old.young


# -- promtool: the recorded path split by cluster, cluster by cluster, against the raw path ---------

def _series(text: str, cluster: str) -> str:
    return inject_matchers(text, f'cluster="{cluster}"')


def _partner(tests: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """Another case of the file with the same interval (cluster c2's data), else the case itself."""
    same = [t for i, t in enumerate(tests) if i != index and t.get("interval") == tests[index].get("interval")]
    return same[0] if same else tests[index]


def split_cases(det: Detector, source: Path) -> str:
    """The detector's promtool cases with two clusters behind one Prometheus: c1 has a case's series,
    c2 another case's (its look-alike or attack); each cluster's alerts (a rule per cluster, the
    detector's query narrowed to it as a source's selector narrows it) are that case's, with the
    cluster label where the raw query keeps it."""
    doc = yaml.safe_load(source.read_text())
    plan = plan_for(det.query, "cluster")
    assert not isinstance(plan, str)
    tests = []
    for index, case in enumerate(doc["tests"]):
        pair = {"c1": case, "c2": _partner(doc["tests"], index)}
        inputs = [{**s, "series": _series(s["series"], c)} for c, t in pair.items() for s in t["input_series"]]
        checks = []
        for cluster, part in pair.items():
            for check in part.get("alert_rule_test", []):
                expected = []
                for alert in check["exp_alerts"]:
                    labels = dict(alert["exp_labels"])
                    if plan.keeps is True:
                        labels["cluster"] = cluster
                    expected.append({"exp_labels": labels})
                checks.append({"eval_time": check["eval_time"], "alertname": f"{check['alertname']}_{cluster}",
                               "exp_alerts": expected})  # fmt: skip
        tests.append({"name": f"{case['name']} (c1) beside another case (c2)", "interval": case.get("interval", "1m"),
                      "input_series": inputs, "alert_rule_test": checks})  # fmt: skip
    return yaml.safe_dump({"rule_files": ["promsoc-rules.yaml"], "evaluation_interval": "1m", "tests": tests})


def run_split(tmp_path: Path, promtool: str, detectors: list[Detector], recorded: bool) -> None:
    groups: list[dict[str, Any]] = []
    blocks: tuple[recording.Recorded, ...] = ()
    if recorded:
        groups = yaml.safe_load(export_recording(detectors, by="cluster"))["groups"]
        blocks = split_blocks(recorded_blocks(detectors), "cluster")
    rules = []
    for det in detectors:
        query = recording.rewrite(det.query, blocks)
        assert (query != det.query) is recorded, det.id
        for cluster in CLUSTERS:  # the query as a source with `selector: cluster="c1"` sends it
            rule = alerting_rule(replace(det, query=inject_matchers(query, f'cluster="{cluster}"')))
            rule.pop("annotations")
            rule["alert"] += f"_{cluster}"
            rules.append(rule)
    groups.append({"name": "promsoc", "interval": "1m", "rules": rules})
    (tmp_path / "promsoc-rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    cases = []
    for det in detectors:
        path = tmp_path / f"{det.id}.test.yaml"
        path.write_text(split_cases(det, RULES_DIR / f"{det.id}.test.yaml"))
        cases.append(str(path))
    proc = subprocess.run([promtool, "test", "rules", *cases], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "SUCCESS" in proc.stdout


@pytest.mark.parametrize("path", ["raw", "recorded"])
def test_promtool_cases_per_cluster_on_the_raw_and_the_split_recorded_path(
    tmp_path: Path, promtool: str, path: str
) -> None:
    """The same expectations on both paths: each cluster's alerts are its own case's, whatever the
    other cluster's data (an attack beside a look-alike: a median or a band taken over both
    clusters would fire or miss)."""
    detectors = recordable()
    assert len(detectors) == 4
    run_split(tmp_path, promtool, detectors, path == "recorded")


def test_the_split_recording_rules_pass_promtool_check(tmp_path: Path, promtool: str) -> None:
    path = tmp_path / "recording.yaml"
    path.write_text(export_recording(by="cluster"))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "16 rules found" in proc.stdout


# -- the CLI -----------------------------------------------------------------------------------------

ABSENT_BAND_PACK = """
pack: mine
detectors:
  - id: gone-band
    title: Exporter gone, against its own hour
    category: app
    severity: high
    mitre: [T1562]
    description: d
    runbook: r
    requires: [up]
    signal: 'absent(up{job="falco"})'
    band: {kind: time, window: 1h, step: 5m, k: 3, skip: 10m, min_ratio: 2}
    query: '{{ above_band }}'
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    env.pop("PROMSOC_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "promsoc", "rules", "export", *args],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip


@pytest.mark.parametrize("fmt", ["rules", "prometheusrule"])
def test_cli_exports_the_recording_rules_by_cluster(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "recording.yaml"
    proc = cli("--recording", "--by", "cluster", "--format", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    doc = yaml.safe_load(out.read_text())
    groups = doc["spec"]["groups"] if fmt == "prometheusrule" else doc["groups"]
    rules = groups[0]["rules"]
    assert all(r["labels"][recording.BY] == "cluster" for r in rules if r["record"] == recording.MARKER)
    assert rules[0]["expr"].startswith("(max by (namespace, pod, workload_kind, workload, cluster)")
    if fmt == "prometheusrule":
        assert doc["metadata"]["name"] == "promsoc-recording"


def test_cli_refuses_a_block_that_cannot_keep_the_label(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "mine.yaml").write_text(ABSENT_BAND_PACK)
    config = tmp_path / "config.yaml"
    config.write_text(f"detectors:\n  packs_dir: {tmp_path / 'packs'}\n")
    out = tmp_path / "recording.yaml"
    proc = cli("--config", str(config), "--recording", "--by", "cluster", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "--recording --by cluster: cannot record by cluster: promsoc:gone_band:signal" in proc.stderr
    assert "absent()" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and proc.stdout == ""
    # without --by the same pack's recording rules are written
    assert cli("--config", str(config), "--recording", "-o", str(out)).returncode == 0
    assert "promsoc:gone_band:signal" in out.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (("--recording", "--by", "__name__"), "is reserved"),
    (("--recording", "--by", "1x"), "is not a label name"),
])  # fmt: skip
def test_cli_refuses_a_bad_label_with_recording(args: tuple[str, ...], message: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
