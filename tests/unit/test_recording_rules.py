"""The recorded path gives the same findings as the raw path: the sibling detectors' promtool
cases (attacks and look-alikes, tests/rules) pass unchanged against the recording rules plus the
detectors rewritten to read them."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from promsoc.detectors.engine import can_read_recorded, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import alerting_rule, export_recording
from promsoc.promql import recording

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"


@pytest.mark.parametrize("what", ["map", "signals"])
def test_promtool_cases_pass_on_the_recorded_path(tmp_path: Path, promtool: str, what: str) -> None:
    """`map`: only the pod -> workload map read from its recording (rules of an older export);
    `signals`: the sibling detectors' whole per-pod signals too (what the export writes now)."""
    detectors = [d for d in load_detectors() if can_read_recorded(d)]
    assert {d.id for d in detectors} == {"container-cpu-outlier", "pod-egress-outlier"}
    blocks = recording.BLOCKS if what == "map" else recorded_blocks(detectors)
    rules = []
    for det in detectors:
        rewritten = recording.rewrite(det.query, blocks)
        assert "kube_replicaset_owner" not in rewritten and "kube_pod_owner" not in rewritten
        if what == "signals":
            assert "container_cpu_usage_seconds_total" not in rewritten
            assert "container_network_transmit_bytes_total" not in rewritten
        rule = alerting_rule(replace(det, query=rewritten))
        rule.pop("annotations")  # promtool compares annotations exactly; the cases check labels
        rules.append(rule)
    groups = yaml.safe_load(export_recording())["groups"]  # recorded first, as Prometheus would have them
    assert [r["record"] for r in groups[0]["rules"]] == [b.record for b in recorded_blocks(detectors)]
    groups.append({"name": "promsoc", "interval": "1m", "rules": rules})
    (tmp_path / "promsoc-rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    cases = [shutil.copy(RULES_DIR / f"{det.id}.test.yaml", tmp_path) for det in detectors]
    proc = subprocess.run([promtool, "test", "rules", *cases], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "SUCCESS" in proc.stdout


def test_the_recording_rules_pass_promtool_check(tmp_path: Path, promtool: str) -> None:
    path = tmp_path / "recording.yaml"
    path.write_text(export_recording())
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 rules found" in proc.stdout
