"""`promsoc rules export --by cluster`: one Prometheus holding many clusters, each alert one cluster's."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import alert_name, export, export_by
from promsoc.prom.group_by import Unsplittable, split_plan

SRC = str(Path(__file__).resolve().parents[2] / "src")

ABSENT_PACK = """
pack: mine
detectors:
  - id: exporter-gone
    title: Exporter gone
    category: app
    severity: high
    mitre: [T1562]
    description: The exporter stopped reporting.
    runbook: Restart it.
    requires: [up]
    query: 'absent(up{job="falco"})'
"""


def rules_of(text: str, fmt: str = "rules") -> list[dict[str, object]]:
    doc = yaml.safe_load(text)
    groups = doc["spec"]["groups"] if fmt == "prometheusrule" else doc["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_pack_rule_keeps_the_cluster_label() -> None:
    """Each built-in rule's query is the rewritten one (every aggregation and join keeps `cluster`),
    or it is listed as unsplittable: none is left as it was silently."""
    detectors = load_detectors()
    done = export_by(detectors, by="cluster")
    rules = rules_of(done.text)
    assert [r["alert"] for r in rules] == [alert_name(d.id) for d in detectors]
    rewritten = 0
    for det, rule in zip(detectors, rules, strict=True):
        try:
            expected = split_plan(det.query, "cluster").promql
        except Unsplittable:
            assert rule["alert"] in done.unsplit
            assert rule["expr"] == det.query
            continue
        rewritten += 1
        assert rule["alert"] not in done.unsplit
        assert rule["expr"] == expected
        assert "{{ $labels.cluster }}" in rule["annotations"]["summary"]  # type: ignore[index]
    assert rewritten == len(detectors) and done.unsplit == {}  # the built-in packs all split today
    # what was rewritten: a per-namespace sum keeps the cluster apart
    sqli = next(r for r in rules if r["alert"] == "PromsocIngressSqli")
    assert "cluster" in str(sqli["expr"])
    assert "cluster" not in next(d.query for d in detectors if d.id == "ingress-sqli")
    # without --by nothing changes
    assert export(detectors) == export_by(detectors).text
    assert "$labels.cluster" not in export(detectors)


def test_an_unsplittable_rule_is_exported_as_it_is_under_a_comment() -> None:
    detectors = load_detectors()
    gone = replace(detectors[0], id="exporter-gone", query='absent(up{job="falco"})')
    done = export_by([*detectors, gone], by="cluster")
    assert list(done.unsplit) == ["PromsocExporterGone"]
    assert "absent" in done.unsplit["PromsocExporterGone"]
    rules = rules_of(done.text)
    assert rules[-1]["expr"] == 'absent(up{job="falco"})'
    assert "$labels" not in rules[-1]["annotations"]["summary"]  # type: ignore[index]
    lines = done.text.splitlines()
    at = lines.index("  - alert: PromsocExporterGone")
    assert lines[at - 1].startswith("  # NOT split by cluster: absent() ")
    assert lines[at - 1].endswith("its alerts carry no cluster (one for every cluster)")
    assert sum(line.lstrip().startswith("# NOT split") for line in lines) == 1


@pytest.mark.parametrize("fmt", ["rules", "prometheusrule"])
def test_promtool_accepts_the_split_rules(tmp_path: Path, fmt: str, promtool: str) -> None:
    detectors = load_detectors()
    gone = replace(detectors[0], id="exporter-gone", query='absent(up{job="falco"})')
    text = export_by([*detectors, gone], fmt, by="cluster").text
    doc = yaml.safe_load(text)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc["spec"] if fmt == "prometheusrule" else doc))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(detectors) + 1} rules found" in proc.stdout


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    env.pop("PROMSOC_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "promsoc", "rules", "export", *args],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip


def test_cli_warns_once_per_unsplittable_rule(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "mine.yaml").write_text(ABSENT_PACK)
    config = tmp_path / "config.yaml"
    config.write_text(f"detectors:\n  packs_dir: {tmp_path / 'packs'}\n")
    proc = cli("--config", str(config), "--by", "cluster", "--format", "prometheusrule")
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith("promsoc: warning: PromsocExporterGone not split by cluster (absent()")
    assert warnings[0].endswith("exported as it is, its alerts carry no cluster")
    rules = rules_of(proc.stdout, "prometheusrule")
    assert len(rules) == 18
    assert sum("$labels.cluster" in str(r["annotations"]) for r in rules) == 17


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "1cluster"), "is not a label name"),
        (("--by", "clus-ter"), "is not a label name"),
        (("--by", "__name__"), "is reserved"),
        (("--by", "severity"), "rules set themselves"),
    ],
)
def test_cli_refuses_a_bad_label_with_a_usage_error(args: tuple[str, ...], message: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_sources_alerts_are_those_its_selector_matches() -> None:
    from promsoc.alerts import of_source
    from promsoc.prom.alertmanager import Alert

    def alert(**labels: str) -> Alert:
        return Alert(labels={"alertname": "A", **labels}, annotations={}, state="active", starts_at=0.0)

    mine, theirs, fleet = alert(cluster="c-1"), alert(cluster="c-2"), alert()
    everything = [mine, theirs, fleet]
    assert of_source(everything, 'cluster="c-1"') == [mine, fleet]  # no cluster: every source's
    assert of_source(everything, '{cluster=~"c-.", env!="x"}') == everything
    assert of_source(everything, 'cluster!="c-1"') == [theirs, fleet]
    assert of_source(everything, 'cluster=~"c"') == [fleet]  # anchored, as in PromQL
    assert of_source(everything, "") == everything
    assert of_source(everything, "not a selector") == everything
