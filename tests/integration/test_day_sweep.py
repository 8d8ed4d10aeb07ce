"""The day sweep: the whole pack every 5 minutes over the lab's last 24 hours.

The detectors run as `promsoc timeline` runs them (one range query per detector, the same
answers as `scan --at` at each step). An ordinary day (rollouts, an HPA scale-up, CronJobs, a
node drain, a control plane joining, a Falco upgrade, a Falco first scraped, backups, 404 storms,
certificate rotation, missed scrapes) fires nothing; every scripted attack is caught at the first
step after one 5-minute window of it.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from promsoc.detectors.packs import load_detectors
from promsoc.detectors.timeline import TimelineResult, make_range, timeline
from promsoc.lab import Lab
from promsoc.lab.cluster import DAY
from promsoc.lab.scoring import DetectorScore, score, table
from promsoc.prom.client import PromClient

STEP = 300.0
WINDOW = 300.0  # the detectors' 5-minute window
# a vanished target shows only once Prometheus's 5-minute lookback no longer finds its last sample
VISIBLE_AFTER = {"falco-gone": WINDOW + 300.0}

Swept = tuple[list[TimelineResult], list[DetectorScore]]


def day_sweep(lab: Lab) -> Swept:
    span = make_range(lab.anchor - DAY, lab.anchor, STEP)

    async def run() -> list[TimelineResult]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            return await timeline(load_detectors(), client, "lab", span)

    results = asyncio.run(run())
    fired = {r.detector: r.intervals for r in results}
    return results, score(lab.scenario, fired, STEP, span.start, span.end)


@pytest.fixture(scope="module")
def swept(lab: Lab) -> Swept:
    return day_sweep(lab)


def test_the_sweep_covers_the_day_and_every_detector(lab: Lab, swept: Swept) -> None:
    results, scores = swept
    assert [r.detector for r in results] == [d.id for d in load_detectors()]
    assert not [(r.detector, r.error) for r in results if r.error]
    print("\n" + table(scores))
    day_events = [i for i in lab.scenario.lookalikes if i.start < lab.anchor - 8 * 3600]
    assert len(day_events) >= 9, "the benign day events sit before the incident window"
    assert all(lab.anchor - DAY <= i.start for i in lab.scenario.incidents)


def test_nothing_fires_outside_the_scripted_attacks(swept: Swept) -> None:
    _results, scores = swept
    false = [f"{s.detector} at {t:.0f}: {labels}" for s in scores for t, labels in s.false]
    assert not false, "\n".join(false[:20])


def test_every_attack_is_caught_within_one_window(lab: Lab, swept: Swept) -> None:
    _results, scores = swept
    catches = [c for s in scores for c in s.catches]
    assert {c.incident.name for c in catches} == {i.name for i in lab.scenario.attacks}
    late = []
    for c in catches:
        # the first sweep step at which one whole window of the attack lies behind
        due = math.ceil((c.incident.start + VISIBLE_AFTER.get(c.incident.name, WINDOW)) / STEP) * STEP
        if c.at is None or c.at > due:
            late.append(f"{c.incident.name}: {'missed' if c.delay is None else f'{c.delay:.0f} s'}")
    assert not late, "\n".join(late)
