"""The recorded path gives the same findings as the raw path: every recordable detector's promtool
cases (attacks and look-alikes, tests/rules) pass unchanged against the recording rules plus the
detectors rewritten to read them; a seasonal band, which no built-in detector uses, has cases of
its own here."""

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
from promsoc.detectors.spec import Detector, build
from promsoc.promql import recording

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
RECORDABLE = {"container-cpu-outlier", "pod-egress-outlier", "ingress-response-size-anomaly", "falco-blind"}
RAW_INPUTS = {  # what the recorded path must no longer read raw, per detector
    "container-cpu-outlier": ("kube_replicaset_owner", "kube_pod_owner", "container_cpu_usage_seconds_total"),
    "pod-egress-outlier": ("kube_replicaset_owner", "kube_pod_owner", "container_network_transmit_bytes_total"),
    "ingress-response-size-anomaly": ("nginx_ingress_controller_response_size_bucket", "[1h:5m]"),
    "falco-blind": ("kube_pod_info",),
}


def run_cases(tmp_path: Path, promtool: str, detectors: list[Detector], blocks: tuple[recording.Recorded, ...],
              cases: list[Path]) -> None:  # fmt: skip
    """promtool test rules: the recording rules of `detectors` first (as Prometheus has them), then
    the detectors as alerting rules reading `blocks`."""
    rules = []
    for det in detectors:
        rule = alerting_rule(replace(det, query=recording.rewrite(det.query, blocks)))
        rule.pop("annotations")  # promtool compares annotations exactly; the cases check labels
        rules.append(rule)
    groups = yaml.safe_load(export_recording(detectors))["groups"]
    groups.append({"name": "promsoc", "interval": "1m", "rules": rules})
    (tmp_path / "promsoc-rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    proc = subprocess.run([promtool, "test", "rules", *cases], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "SUCCESS" in proc.stdout


@pytest.mark.parametrize("what", ["map", "all"])
def test_promtool_cases_pass_on_the_recorded_path(tmp_path: Path, promtool: str, what: str) -> None:
    """`map`: only the pod -> workload map read from its recording (rules of an older export);
    `all`: every block the export writes now (the sibling detectors' signals, the time band's
    signal, mean and stddev, the pods per node)."""
    detectors = [d for d in load_detectors() if can_read_recorded(d)]
    assert {d.id for d in detectors} == RECORDABLE
    blocks = recording.BLOCKS if what == "map" else recorded_blocks(detectors)
    for det in detectors:
        rewritten = recording.rewrite(det.query, blocks)
        if what == "all":
            assert rewritten != det.query
            for raw in RAW_INPUTS[det.id]:
                assert raw not in rewritten, (det.id, raw)
        elif det.id in ("container-cpu-outlier", "pod-egress-outlier"):
            assert "kube_replicaset_owner" not in rewritten and "kube_pod_owner" not in rewritten
    rules = yaml.safe_load(export_recording(detectors))["groups"][0]["rules"]
    exported = recorded_blocks(detectors, presence=True)
    assert [r["record"] for r in rules if r["record"] != recording.MARKER] == [b.record for b in exported]
    markers = [r["labels"] for r in rules if r["record"] == recording.MARKER]
    assert markers == [{"block": b.record, "expr": b.fingerprint} for b in exported]
    cases = [shutil.copy(RULES_DIR / f"{det.id}.test.yaml", tmp_path) for det in detectors]
    run_cases(tmp_path, promtool, detectors, blocks, [Path(c) for c in cases])


def test_band_terms_read_the_recorded_signal_and_need_it_old_enough() -> None:
    det = next(d for d in load_detectors() if d.id == "ingress-response-size-anomaly")
    blocks = {b.record: b for b in recorded_blocks([det])}
    signal = blocks["promsoc:ingress_response_size_anomaly:signal"]
    mean = blocks["promsoc:ingress_response_size_anomaly:band_mean"]
    assert mean.rule == f"avg_over_time(({signal.record})[1h:5m] offset 10m)"
    # the 1h window, the 10m skip and one rule interval: the recorded signal must be 71 min old
    assert {b.age for b in blocks.values() if b.aged} == {4260.0}
    assert all(b.aged == signal.record for b in blocks.values() if b.aged)


def test_presence_answer_decides_what_is_read_and_what_is_too_young() -> None:
    det = next(d for d in load_detectors() if d.id == "ingress-response-size-anomaly")
    blocks = recorded_blocks([det])
    signal = next(b for b in blocks if b.record.endswith(":signal"))
    query = recording.presence_query(blocks)
    assert query == (
        f'{recording.MARKER} or label_replace({recording.MARKER}{{block="{signal.record}"}} offset 4260s, '
        '"promsoc_age", "4260", "", "")'
    )
    markers = [{"__name__": recording.MARKER, "block": b.record, "expr": b.fingerprint} for b in blocks]
    aged = {"block": signal.record, "expr": signal.fingerprint, "promsoc_age": "4260"}
    young = recording.present(blocks, markers)  # installed, but not 71 min ago
    assert [b.record for b in young.readable] == [recording.POD_WORKLOAD]
    assert len(young.young) == 3
    assert recording.rewrite(det.query, young.readable) == det.query  # the whole query stays raw
    old = recording.present(blocks, [*markers, aged])
    assert old.readable == blocks and not old.young
    assert recording.present(blocks, [aged]).readable == ()  # aged but gone now: not read
    # rules exported for other parameters (another window: another expression) are not read
    other = replace(det, params={**det.params, "window": "10m"}).with_overrides()
    assert recording.present(recorded_blocks([other]), [*markers, aged]).readable == (recording.MAP,)


SEASONAL_CASES = """
rule_files: [promsoc-rules.yaml]
evaluation_interval: 1m
tests:
  - name: attack (ten times the size of the same time of the last two hours)
    interval: 1m
    input_series:
      - series: 'nginx_ingress_controller_response_size_count{host="shop.example.com", path="/api/orders"}'
        values: '0+600x200'
      - series: 'nginx_ingress_controller_response_size_sum{host="shop.example.com", path="/api/orders"}'
        values: '0+3000000x180 543000000+30000000x20'
      - series: 'nginx_ingress_controller_response_size_bucket{host="shop.example.com", path="/api/orders", le="100"}'
        values: '0x200'
      - series: 'nginx_ingress_controller_response_size_bucket{host="shop.example.com", path="/api/orders", le="+Inf"}'
        values: '0+600x200'
    alert_rule_test:
      - eval_time: 190m
        alertname: PromsocSeasonalSize
        exp_alerts:
          - exp_labels:
              {severity: high, detector: seasonal-size, category: ingress, host: shop.example.com, path: /api/orders}
  - name: look-alike (as large as an hour and two hours ago; before any history)
    interval: 1m
    input_series:
      - series: 'nginx_ingress_controller_response_size_count{host="shop.example.com", path="/download"}'
        values: '0+60x200'
      - series: 'nginx_ingress_controller_response_size_sum{host="shop.example.com", path="/download"}'
        values: '0+30000000x200'
      - series: 'nginx_ingress_controller_response_size_bucket{host="shop.example.com", path="/download", le="100"}'
        values: '0x200'
      - series: 'nginx_ingress_controller_response_size_bucket{host="shop.example.com", path="/download", le="+Inf"}'
        values: '0+60x200'
    alert_rule_test:
      - eval_time: 190m
        alertname: PromsocSeasonalSize
        exp_alerts: []
      - eval_time: 30m
        alertname: PromsocSeasonalSize
        exp_alerts: []
"""


def seasonal_detector() -> Detector:
    """The response-size detector judged against a seasonal band (the same time 1h and 2h ago)."""
    base = next(d for d in load_detectors() if d.id == "ingress-response-size-anomaly")
    spec = {"kind": "seasonal", "k": 2}
    det = replace(base, id="seasonal-size", mitre=(), band_spec=spec, query_template="{{ signal }} > 2 * {{ upper }}")
    return build(det)


def test_seasonal_band_promtool_cases_pass_on_both_paths(tmp_path: Path, promtool: str) -> None:
    det = seasonal_detector()
    assert det.band is not None and det.band.kind == "seasonal" and det.band.reach == 7260
    blocks = recorded_blocks([det])
    assert [b.record.rsplit(":", 1)[1] for b in blocks] == ["owner", "signal", "band_mean", "band_stddev"]
    rewritten = recording.rewrite(det.query, blocks)
    assert "offset" not in rewritten and "nginx" not in rewritten
    for path, reading in (("raw", ()), ("recorded", blocks)):
        (tmp_path / path).mkdir()
        (tmp_path / path / "seasonal.test.yaml").write_text(SEASONAL_CASES)
        run_cases(tmp_path / path, promtool, [det], reading, [tmp_path / path / "seasonal.test.yaml"])


def test_the_recording_rules_pass_promtool_check(tmp_path: Path, promtool: str) -> None:
    path = tmp_path / "recording.yaml"
    path.write_text(export_recording())
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "16 rules found" in proc.stdout  # 8 blocks, a marker each
