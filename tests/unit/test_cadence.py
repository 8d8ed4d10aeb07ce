"""detectors.cadence: which detectors a live console asks again, and how long a kept answer stands."""

from __future__ import annotations

from promsoc.detectors.cadence import (
    HEAVY_SPARKLINE_EVERY,
    HEAVY_STEP,
    SCALED_EVERY,
    Cadence,
    heavy_sparkline,
    reusable,
    scales_with_pods,
    sparkline_every,
    sparkline_step,
)  # fmt: skip
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult, Status
from promsoc.detectors.sparkline import sparkline_plan

NOW = 1_800_000_000.0


def result(det_id: str, at: float, *, recorded: bool = False) -> DetectorResult:
    return DetectorResult("lab", det_id, det_id, "c", "high", Status.OK, at, recorded=recorded)


def test_only_the_pod_join_detectors_scale_and_only_heavy_sparklines_slow_down() -> None:
    detectors = {d.id: d for d in load_detectors()}
    assert {i for i, d in detectors.items() if scales_with_pods(d)} == {"container-cpu-outlier", "pod-egress-outlier"}
    cpu, light = sparkline_plan(detectors["container-cpu-outlier"]), sparkline_plan(detectors["ingress-sqli"])
    assert heavy_sparkline(cpu) and not heavy_sparkline(light)
    assert (sparkline_step(cpu, 15.0), sparkline_every(cpu)) == (HEAVY_STEP, HEAVY_SPARKLINE_EVERY)
    assert (sparkline_step(light, 15.0), sparkline_every(light)) == (15.0, 0.0)
    assert sparkline_step(cpu, 300.0) == 300.0  # a wide window's step is coarser already


def test_a_kept_answer_stands_only_at_the_live_edge_and_only_forward() -> None:
    assert reusable(NOW, NOW + 30, 120, NOW + 30)
    assert not reusable(NOW, NOW + 120, 120, NOW + 120)  # due again
    assert not reusable(NOW, NOW - 1, 120, NOW)  # the cursor went back
    assert not reusable(NOW - 3600, NOW - 3600 + 30, 120, NOW)  # the past is always asked afresh
    assert not reusable(NOW, NOW + 30, 0, NOW + 30)  # every refresh


def test_cadence_keeps_scaled_detectors_read_raw_and_runs_them_at_every_refresh_when_recorded() -> None:
    detectors = [d for d in load_detectors() if d.id in ("container-cpu-outlier", "ingress-sqli")]
    clock = [NOW]
    pace = Cadence(lambda: clock[0])
    due, kept = pace.split(detectors, NOW)
    assert [d.id for d in due] == ["ingress-sqli", "container-cpu-outlier"] and kept == {}
    merged = pace.merge(detectors, [result(d.id, NOW) for d in due], kept)
    assert [(r.detector, r.every) for r in merged] == [("ingress-sqli", 0.0), ("container-cpu-outlier", SCALED_EVERY)]
    clock[0] = NOW + 30
    due, kept = pace.split(detectors, NOW + 30)
    assert [d.id for d in due] == ["ingress-sqli"] and list(kept) == ["container-cpu-outlier"]
    merged = pace.merge(detectors, [result("ingress-sqli", NOW + 30)], kept)
    assert [r.evaluated_at for r in merged] == [NOW + 30, NOW]  # pack order, the kept one as evaluated
    clock[0] = NOW + SCALED_EVERY
    due, kept = pace.split(detectors, NOW + SCALED_EVERY)
    assert len(due) == 2
    fresh = [result("ingress-sqli", clock[0]), result("container-cpu-outlier", clock[0], recorded=True)]
    pace.merge(detectors, fresh, kept)
    due, kept = pace.split(detectors, clock[0] + 30)  # read from the recording rules: cheap, every refresh
    assert len(due) == 2 and pace.every(detectors[1]) == 0.0
