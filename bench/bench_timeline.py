"""Benchmark: a day of the lab at a 1-minute step, `promsoc timeline` vs a scan at every step.

Target (issue 11): the timeline (one range query per detector, plus the presence query)
costs a small fraction of evaluating the pack once per step (1,440 scans), in wall time and
in CPU (Prometheus + this process), measured in the same run.

    .venv/bin/python bench/bench_timeline.py [--hours 24] [--step 60] [--every 1]

`--every N` scans only every Nth step and scales the scan side up by N (quicker, less exact).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from proccpu import cpu_seconds
from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import Status
from promsoc.detectors.timeline import make_range, timeline
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient

TARGET = 0.2  # "a small fraction": at most a fifth of the per-step scans


async def measure(url: str, end: float, hours: float, step: float, every: int,
                  pid: int | None) -> dict[str, float]:
    detectors = load_detectors()
    span = make_range(end - hours * 3600, end, step)
    async with PromClient.from_url(url, name="lab") as client:
        await evaluate(detectors, client, "lab", end)  # warm the pool and the TSDB
        began, cpu0 = time.perf_counter(), cpu_seconds(pid) + time.process_time()
        results = await timeline(detectors, client, "lab", span)
        line_wall = time.perf_counter() - began
        line_cpu = cpu_seconds(pid) + time.process_time() - cpu0
        assert not [r for r in results if r.status is Status.ERROR], results
        moments = span.moments()[::every]
        began, cpu0 = time.perf_counter(), cpu_seconds(pid) + time.process_time()
        firing = 0
        for moment in moments:  # one scan after another, as a loop over `scan --at` would
            scan = await evaluate(detectors, client, "lab", moment)
            firing += sum(r.status is Status.FIRING for r in scan)
        scan_wall = (time.perf_counter() - began) * every
        scan_cpu = (cpu_seconds(pid) + time.process_time() - cpu0) * every
    return {"steps": span.steps, "scanned": len(moments), "line_wall": line_wall,
            "line_cpu": line_cpu, "scan_wall": scan_wall, "scan_cpu": scan_cpu,
            "intervals": sum(len(r.intervals) for r in results), "firing_steps": firing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--step", type=float, default=60)
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    with Lab(LabOptions(live_incidents=False)) as lab:
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        end = lab.scenario.anchor
        m = asyncio.run(measure(lab.url, end, args.hours, args.step, args.every, pid))
    scaled = f" (x{args.every}, sampled)" if args.every > 1 else ""
    print(f"range: {args.hours:g} h at a {args.step:g} s step = {m['steps']:.0f} steps; "
          f"{m['intervals']:.0f} intervals found")
    print(f"timeline (range queries)   wall {m['line_wall']:8.2f} s   CPU {m['line_cpu']:8.2f} s")
    print(f"scan at every step{scaled:<9} wall {m['scan_wall']:8.2f} s   CPU {m['scan_cpu']:8.2f} s"
          f"   ({m['scanned']:.0f} scans run)")
    wall, cpu = m["line_wall"] / m["scan_wall"], m["line_cpu"] / max(m["scan_cpu"], 1e-9)
    verdict = "OK" if max(wall, cpu) <= TARGET else "OVER TARGET"
    print(f"timeline / scans           wall {wall:8.3f}x  CPU {cpu:8.3f}x  (target <= {TARGET}x) {verdict}")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
