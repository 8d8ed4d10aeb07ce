"""The day sweep: the whole pack every 5 minutes over the lab's last 24 hours.

An ordinary day (rollouts, an HPA scale-up, CronJobs, a node drain, a Falco upgrade, backups,
404 storms, certificate rotation, missed scrapes) fires nothing; every scripted attack is caught
within one 5-minute window of becoming visible.
"""

from __future__ import annotations

import asyncio

import pytest

from promsoc.detectors.packs import load_detectors
from promsoc.detectors.sweep import DetectorSweep, sweep
from promsoc.lab import Lab
from promsoc.lab.cluster import DAY
from promsoc.lab.scoring import DetectorScore, score, table
from promsoc.prom.client import PromClient

STEP = 300.0
# an attack is visible once a 5-minute window holds it; a vanished target only once Prometheus's
# 5-minute lookback no longer finds its last sample (so one step later)
WITHIN = {"falco-gone": 2 * STEP}


def day_sweep(lab: Lab) -> tuple[list[DetectorSweep], list[DetectorScore]]:
    start, end = lab.anchor - DAY, lab.anchor

    async def run() -> list[DetectorSweep]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            return await sweep(load_detectors(), client, start, end, STEP)

    sweeps = asyncio.run(run())
    return sweeps, score(lab.scenario, {s.detector: s.firing for s in sweeps}, start, end)


@pytest.fixture(scope="module")
def swept(lab: Lab) -> tuple[list[DetectorSweep], list[DetectorScore]]:
    return day_sweep(lab)


def test_the_sweep_covers_the_day_and_every_detector(
    lab: Lab, swept: tuple[list[DetectorSweep], list[DetectorScore]]
) -> None:
    sweeps, scores = swept
    assert [s.detector for s in sweeps] == [d.id for d in load_detectors()]
    assert not [(s.detector, s.error) for s in sweeps if s.error]
    print("\n" + table(scores))
    day_events = [i for i in lab.scenario.lookalikes if i.start < lab.anchor - 8 * 3600]
    assert len(day_events) >= 9, "the benign day events sit before the incident window"
    assert all(lab.anchor - DAY <= i.start for i in lab.scenario.incidents)


def test_nothing_fires_outside_the_scripted_attacks(
    swept: tuple[list[DetectorSweep], list[DetectorScore]],
) -> None:
    _sweeps, scores = swept
    false = [f"{s.detector} at {t:.0f}: {labels}" for s in scores for t, labels in s.false]
    assert not false, "\n".join(false[:20])


def test_every_attack_is_caught_within_one_window(
    lab: Lab, swept: tuple[list[DetectorSweep], list[DetectorScore]],
) -> None:
    _sweeps, scores = swept
    catches = [c for s in scores for c in s.catches]
    assert {c.incident.name for c in catches} == {i.name for i in lab.scenario.attacks}
    late = [f"{c.incident.name}: {'missed' if c.delay is None else f'{c.delay:.0f} s'}"
            for c in catches
            if c.delay is None or c.delay > WITHIN.get(c.incident.name, STEP)]
    assert not late, "\n".join(late)
