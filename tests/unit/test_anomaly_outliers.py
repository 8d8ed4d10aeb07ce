"""Why the sibling detectors use a robust band: one outlier among n = 3, 5 and 50 pods.

Each band builder of `promsoc.promql.bands` becomes an alerting rule over the same synthetic
series (one pod at 1 core, its siblings at 0.1 core with a little spread), run by
`promtool test rules`. The talk's `avg + 3*stddev` fires only for n = 50: for one outlier
among n its z-score (PromQL's stddev is the population one) is at most sqrt(n-1), not above
3 while n < 11. Median ratio, median/MAD
and leave-one-out fire for all three sizes, and none fires on a workload that is busy as a
whole.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from promsoc.promql import bands

SIGNAL = "rate(cpu_seconds_total[5m])"
BY = ("workload",)
SIZES = (3, 5, 50)
BANDS = {
    "ZScore": bands.group_zscore_band(SIGNAL, BY, k=3),
    "MedianRatio": bands.group_median_ratio_band(SIGNAL, BY, ratio=3, floor=0.1),
    "Mad": bands.group_mad_band(SIGNAL, BY, k=3, floor=0.1),
    "LeaveOneOut": bands.group_loo_band(SIGNAL, BY, k=3, floor=0.1),
}


def _series(busy: bool) -> list[dict[str, str]]:
    """Workloads w3, w5, w50; pod 0 mines (60 cpu-s/min) unless the whole workload is busy."""
    out = []
    for n in SIZES:
        for i in range(n):
            per_minute = 60 if busy or i == 0 else 6 + (i % 3)  # 0.1-0.13 cores, a little spread
            out.append({
                "series": f'cpu_seconds_total{{workload="w{n}", pod="w{n}-{i}"}}',
                "values": f"0+{per_minute}x20",
            })
    return out


def _expected(name: str, busy: bool) -> list[dict[str, object]]:
    if busy:
        return []
    sizes = (50,) if name == "ZScore" else SIZES
    return [{"exp_labels": {"workload": f"w{n}", "pod": f"w{n}-0"}} for n in sizes]


def test_robust_bands_catch_one_outlier_in_3_5_and_50_pods_and_the_talks_band_does_not(
    tmp_path: Path, promtool: str
) -> None:
    rules = {"groups": [{"name": "bands", "rules": [
        {"alert": name, "expr": bands.above(SIGNAL, band)} for name, band in BANDS.items()
    ]}]}
    (tmp_path / "bands.yaml").write_text(yaml.safe_dump(rules))
    tests = {
        "rule_files": ["bands.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _series(busy),
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": name, "exp_alerts": _expected(name, busy)}
                    for name in BANDS
                ],
            }
            for busy in (False, True)
        ],
    }
    (tmp_path / "bands.test.yaml").write_text(yaml.safe_dump(tests))
    proc = subprocess.run(
        [promtool, "test", "rules", "bands.test.yaml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_zscore_bound_explains_the_blind_spot() -> None:
    """Max z of one outlier among n (population stddev) is sqrt(n-1): not above 3 until n = 11."""
    def max_z(n: int) -> float:
        values = [1.0] + [0.0] * (n - 1)
        mean = sum(values) / n
        sd = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
        return float((1.0 - mean) / sd)

    assert all(max_z(n) <= 3 + 1e-9 for n in range(3, 11))
    assert max_z(11) > 3
    assert all(abs(max_z(n) - (n - 1) ** 0.5) < 1e-9 for n in (3, 5, 50))
