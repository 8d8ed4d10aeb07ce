"""detectors.cadence: which detectors a live console asks again, and how long a kept answer stands."""

from __future__ import annotations

import itertools
from collections import Counter

from promsoc.detectors.cadence import (
    HEAVY_SPARKLINE_EVERY,
    HEAVY_STEP,
    SCALED_EVERY,
    Cadence,
    heavy_sparkline,
    phase_of,
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


def test_phases_spread_the_sources_evenly_over_the_period() -> None:
    assert [phase_of(i, 4) for i in range(4)] == [0.0, 30.0, 60.0, 90.0]
    assert [phase_of(i, 3) for i in range(3)] == [0.0, 40.0, 80.0]
    assert phase_of(0, 1) == 0.0 and phase_of(5, 20) == 30.0


def live_cycles(count: int, refresh: float, minutes: float, start: float) -> list[list[float]]:
    """Every source's moments of evaluating the scaled detectors over `minutes` of live cycles
    every `refresh` s, each source with its phase by position (as `LiveBackend` gives them)."""
    detectors = [d for d in load_detectors() if scales_with_pods(d)]
    clock = [start]
    paces = [Cadence(lambda: clock[0], phase_of(i, count)) for i in range(count)]
    evaluated: list[list[float]] = [[] for _ in range(count)]
    while clock[0] <= start + minutes * 60:
        for index, pace in enumerate(paces):
            due, kept = pace.split(detectors, clock[0])
            every_cycle, own = pace.apart(due)
            assert every_cycle == [] and own == due  # read raw: always at their own cadence
            assert len(due) in (0, len(detectors))  # both together (their map asked once)
            if due:
                evaluated[index].append(clock[0])
            pace.merge(detectors, [result(d.id, clock[0]) for d in due], kept)
        clock[0] += refresh
    return evaluated


def test_twenty_sources_evaluate_the_join_a_quarter_at_a_time_each_every_two_minutes() -> None:
    """Twenty sources, a 30 s refresh, ten minutes from an arbitrary moment: all at once at first
    (the first frame needs every tile), then five a cycle, each source every 120 s exactly, as
    often as without phases (1 + 600 / 120 evaluations each)."""
    start = NOW + 17.3
    evaluated = live_cycles(20, 30.0, 10, start)
    by_cycle = Counter(at for moments in evaluated for at in moments)
    assert by_cycle[start] == 20
    assert {n for at, n in by_cycle.items() if at != start} == {5}
    assert len(by_cycle) == 21  # every cycle of the ten minutes evaluates five of them
    for moments in evaluated:
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        assert moments[0] == start and gaps[0] <= SCALED_EVERY and set(gaps[1:]) == {SCALED_EVERY}, gaps
        assert len(moments) >= 1 + 600 // SCALED_EVERY


def test_few_sources_or_an_uneven_refresh_still_spread_and_never_wait_past_a_period_and_a_refresh() -> None:
    for count, refresh in ((3, 30.0), (2, 30.0), (20, 45.0), (7, 17.0)):
        start = NOW + 5.0
        evaluated = live_cycles(count, refresh, 10, start)
        by_cycle = Counter(at for moments in evaluated for at in moments if at != start)
        assert max(by_cycle.values()) <= -(-count * refresh // SCALED_EVERY), (count, refresh, by_cycle)
        for moments in evaluated:
            gaps = [b - a for a, b in itertools.pairwise([*moments, start + 600 + refresh])]
            assert max(gaps) <= SCALED_EVERY + refresh, (count, refresh, gaps)  # detection latency as before
            assert min(gaps[1:-1]) >= SCALED_EVERY - refresh, (count, refresh, gaps)  # at most once a period


def test_with_a_phase_a_kept_answer_still_stands_only_forward_at_the_live_edge() -> None:
    boundary = 1_800_000_030.0  # 30 s into a period: a multiple of 120 plus the phase
    assert (boundary - 30.0) % SCALED_EVERY == 0
    assert reusable(boundary - 10, boundary - 1, 120, boundary, phase=30.0)
    assert not reusable(boundary - 10, boundary, 120, boundary, phase=30.0)  # the phase's moment passed
    assert reusable(boundary, boundary + 119, 120, boundary + 119, phase=30.0)
    assert not reusable(boundary, boundary - 1, 120, boundary, phase=30.0)  # the cursor went back
    assert not reusable(boundary - 3600, boundary - 3590, 120, boundary, phase=30.0)  # the past: afresh
    assert not reusable(boundary, boundary + 30, 0, boundary + 30, phase=30.0)  # every refresh


def test_a_scaled_detector_read_recorded_is_asked_every_cycle_with_the_others() -> None:
    detectors = [d for d in load_detectors() if d.id in ("container-cpu-outlier", "ingress-sqli")]
    pace = Cadence(lambda: NOW, phase_of(3, 20))
    due, kept = pace.split(detectors, NOW)
    assert [[d.id for d in part] for part in pace.apart(due)] == [["ingress-sqli"], ["container-cpu-outlier"]]
    pace.merge(detectors, [result("ingress-sqli", NOW), result("container-cpu-outlier", NOW, recorded=True)], kept)
    due, _ = pace.split(detectors, NOW + 30)
    assert [[d.id for d in part] for part in pace.apart(due)] == [["ingress-sqli", "container-cpu-outlier"], []]
