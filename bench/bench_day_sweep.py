"""The day sweep: every detector every 5 minutes over the lab's last 24 hours, scored.

    .venv/bin/python bench/bench_day_sweep.py [--step 300] [--hours 24]

Prints, per detector, how many steps it fired, the false firings (outside the scripted attacks;
target 0), the attacks caught and each one's detection delay (from the attack's start to the
first step that caught it with the attack's labels), then the sweep's cost: `promsoc timeline`'s
range queries (one per detector) against a `scan --at` at each step, measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.timeline import make_range, timeline
from promsoc.lab import Lab, LabOptions
from promsoc.lab.scoring import score, table
from promsoc.prom.client import PromClient


async def _run(lab: Lab, step: float, hours: float) -> None:
    detectors = load_detectors()
    span = make_range(lab.anchor - hours * 3600, lab.anchor, step)
    start, end = span.start, span.end
    async with PromClient.from_url(lab.url, name="lab") as client:
        began = time.perf_counter()
        swept = await timeline(detectors, client, "lab", span)
        ranged = time.perf_counter() - began
        fired = {r.detector: r.intervals for r in swept}
        scores = score(lab.scenario, fired, step, start, end)
        print(table(scores))
        false = sum(len(s.false) for s in scores)
        caught = sum(s.caught for s in scores)
        attacks = sum(len(s.catches) for s in scores)
        delays = [d for s in scores for c in s.catches if (d := c.delay) is not None]
        benign = [i for i in lab.scenario.lookalikes if start <= i.start <= end]
        print(f"\n{len(detectors)} detectors x {span.steps} steps of {step:.0f} s; "
              f"{len(benign)} benign events, {attacks} attacks in the range")
        print(f"false firings: {false}   attacks caught: {caught}/{attacks}   "
              f"worst delay: {max(delays, default=0) / 60:.1f} min")
        errors = [f"{s.detector}: {s.error}" for s in swept if s.error]
        if errors:
            print("errors:", *errors, sep="\n  ")
        # the same answers as `scan --at` at each step, for a sample of the steps (cost only)
        sample = span.moments()[::24]
        began = time.perf_counter()
        for at in sample:
            await evaluate(detectors, client, "lab", at)
        instant = (time.perf_counter() - began) / len(sample) * span.steps
    print(f"sweep as promsoc timeline (range queries): {ranged:.2f} s; a scan at each step "
          f"(extrapolated from {len(sample)}): {instant:.1f} s ({instant / ranged:.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=300.0)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    began = time.monotonic()
    with Lab(LabOptions(live_incidents=False)) as lab:
        print(f"lab ready in {time.monotonic() - began:.1f} s (cache hit: {lab.cache_hit})\n")
        asyncio.run(_run(lab, args.step, args.hours))


if __name__ == "__main__":
    main()
