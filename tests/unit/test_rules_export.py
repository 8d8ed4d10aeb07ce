"""`promsoc rules export`: promtool accepts it; each detector fires on attack, not look-alike."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import alert_name, export

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
GOLDEN = RULES_DIR / "promsoc-rules.yaml"



def _for_promtool_tests(text: str) -> str:
    """The export without annotations: promtool compares annotations exactly, labels suffice."""
    doc = yaml.safe_load(text)
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    header = (
        "# `promsoc rules export` without annotations, for the promtool unit tests beside it.\n"
        "# Regenerate: PROMSOC_REGEN_RULES=1 .venv/bin/pytest tests/unit/test_rules_export.py\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)


def test_golden_rules_file_matches_the_packs() -> None:
    expected = _for_promtool_tests(export(load_detectors()))
    if os.environ.get("PROMSOC_REGEN_RULES"):
        GOLDEN.write_text(expected)
    assert GOLDEN.read_text() == expected, "tests/rules/promsoc-rules.yaml is stale: regenerate it"


@pytest.mark.parametrize("fmt", ["rules", "prometheusrule"])
def test_promtool_check_rules_passes(tmp_path: Path, fmt: str, promtool: str) -> None:
    doc = yaml.safe_load(export(load_detectors(), fmt))
    groups = doc["spec"] if fmt == "prometheusrule" else doc
    if fmt == "prometheusrule":
        assert doc["kind"] == "PrometheusRule"
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(groups))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(load_detectors())} rules found" in proc.stdout


def test_every_rule_carries_severity_mitre_summary_and_runbook() -> None:
    doc = yaml.safe_load(export(load_detectors()))
    rules = doc["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [alert_name(d.id) for d in load_detectors()]
    for rule in rules:
        assert rule["labels"]["severity"] in ("info", "low", "medium", "high", "critical")
        assert rule["labels"]["mitre_attack"].startswith("T")
        for key in ("summary", "runbook", "description", "mitre_attack"):
            assert rule["annotations"][key].strip(), (rule["alert"], key)


def test_every_detector_has_an_attack_and_a_look_alike_test() -> None:
    for det in load_detectors():
        path = RULES_DIR / f"{det.id}.test.yaml"
        assert path.exists(), f"no promtool test for {det.id}"
        doc = yaml.safe_load(path.read_text())
        checks = [
            check
            for test in doc["tests"]
            for check in test.get("alert_rule_test", [])
            if check["alertname"] == alert_name(det.id)
        ]
        assert any(c["exp_alerts"] for c in checks), f"{det.id}: no firing case"
        assert any(not c["exp_alerts"] for c in checks), f"{det.id}: no silent look-alike"


def test_promtool_unit_tests_pass(promtool: str) -> None:
    files = sorted(str(p) for p in RULES_DIR.glob("*.test.yaml"))
    proc = subprocess.run(
        [promtool, "test", "rules", *files], capture_output=True, text=True, cwd=RULES_DIR
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
