"""Scoring a day sweep: what counts as a false firing, when an attack counts as caught."""

from __future__ import annotations

from dataclasses import dataclass, field

from promsoc.lab.cluster import build_cluster
from promsoc.lab.scenario import Scenario, build_scenario
from promsoc.lab.scoring import TAIL, score, table

ANCHOR = 1_800_000_000.0
STEP = 300.0


@dataclass(frozen=True)
class Run:
    start: float
    end: float
    findings: list[dict[str, str]] = field(default_factory=list)


def _scenario() -> Scenario:
    return build_scenario(build_cluster(ANCHOR), ANCHOR, live_start=None)


def test_attack_caught_at_the_first_step_with_its_labels() -> None:
    scenario = _scenario()
    miner = scenario.incident("crypto-miner")
    wrong = Run(miner.start, miner.start + STEP, [{"namespace": "media", "pod": "someone-else"}])
    right = Run(miner.start + STEP, miner.start + 2 * STEP, [dict(miner.labels)])
    [result] = score(scenario, {"container-cpu-outlier": [wrong, right]}, STEP,
                     ANCHOR - 86400, ANCHOR)
    assert result.steps_fired == 4 and result.false == []
    [catch] = result.catches
    assert catch.incident is miner and catch.delay == STEP


def test_firing_outside_attacks_is_false_and_a_missed_attack_is_reported() -> None:
    scenario = _scenario()
    quiet = scenario.quiet_times[0]
    finding = {"namespace": "kube-system", "pod": "kube-apiserver-control-plane-1"}
    [result] = score(scenario, {"container-cpu-outlier": [Run(quiet, quiet + STEP, [finding])]},
                     STEP, ANCHOR - 86400, ANCHOR)
    assert result.false == [(quiet, finding), (quiet + STEP, finding)]
    assert [c.at for c in result.catches] == [None]
    assert "crypto-miner missed" in table([result])


def test_a_window_still_holds_an_attack_for_its_tail_and_benign_events_explain_only_their_own() -> None:
    scenario = _scenario()
    drops = scenario.incident("falco-drops")
    gap = scenario.incident("falco-scrape-gap")  # rightly fires falco-blind (scenario.ALSO_FIRES)
    runs = [Run(drops.end + TAIL, drops.end + TAIL, [dict(drops.labels)]),
            Run(drops.end + TAIL + STEP, drops.end + TAIL + STEP, [{"node": "worker-1"}]),
            Run(gap.start + STEP, gap.start + STEP, [{"node": "worker-1"}])]
    [blind, burst] = score(scenario, {"falco-blind": runs, "falco-rule-burst": runs[2:]}, STEP,
                           ANCHOR - 86400, ANCHOR)
    assert blind.false == [(drops.end + TAIL + STEP, {"node": "worker-1"})]
    assert burst.false == [(gap.start + STEP, {"node": "worker-1"})]  # not the detector it fires
