"""Benchmark: a raw whole-pack scan with the sibling bands applied by promsoc vs in PromQL.

Without recording rules the sibling detectors ask for their signal once and promsoc applies the
median band (`detectors.local_band`); before, their PromQL evaluated the signal (the pods' rates
and the pod -> workload join) on both sides of the comparison. Both variants alternate in one
run against the same Prometheus; the findings must be the same.

    .venv/bin/python bench/bench_local_band.py [--pods 5000 --nodes 200] [--rounds 5]
    .venv/bin/python bench/bench_local_band.py --url URL --pid PID   # a lab already running

Prints each variant's median scan wall time and Prometheus CPU per scan (from /proc), and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

from proccpu import cpu_seconds
from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient

VARIANTS = {"in PromQL (before)": False, "applied by promsoc": True}


async def measure(url: str, pid: int | None, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    detectors = load_detectors()
    found: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in VARIANTS}
    async with PromClient.from_url(url, name="lab") as client:
        await evaluate(detectors, client, "lab", time.time(), recorded=False)  # warm the connections
        for _ in range(rounds):
            at = time.time()
            answers = []
            for name, local in VARIANTS.items():
                began, cpu = time.perf_counter(), cpu_seconds(pid)
                results = await evaluate(detectors, client, "lab", at, recorded=False, local=local)
                found[name][0].append(time.perf_counter() - began)
                found[name][1].append(cpu_seconds(pid) - cpu)
                answers.append([(r.detector, r.status, r.findings) for r in results])
            assert answers[0] == answers[1], "the two variants disagree"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="a lab already running (skips starting one)")
    parser.add_argument("--pid", type=int, help="with --url: its Prometheus's process id (for /proc)")
    args = parser.parse_args()
    if args.url:
        return report(args, asyncio.run(measure(args.url, args.pid, args.rounds)))
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(live_incidents=False, pods=args.pods, nodes=args.nodes,
                         cache_dir=Path(cache) if cache else None)  # fmt: skip
    if (args.pods, args.nodes) != (120, 6):  # as `promsoc demo --pods N --nodes M` builds it
        options = replace(options, history_days=2.0, traffic_days=1.0)
    with Lab(options) as lab:
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        return report(args, asyncio.run(measure(lab.url, pid, args.rounds)))


def report(args: argparse.Namespace, found: dict[str, tuple[list[float], list[float]]]) -> int:
    print(f"lab: {args.pods} pods, {args.nodes} nodes; {args.rounds} raw scans per variant, alternating")
    cpus = {}
    for name, (walls, cpu) in found.items():
        cpus[name] = statistics.median(cpu)
        print(f"  sibling bands {name:<20} scan wall median {statistics.median(walls):5.2f} s, "
              f"Prometheus CPU per scan median {cpus[name]:5.2f} s ({', '.join(f'{c:.2f}' for c in cpu)})")
    before, after = cpus.values()
    print(f"Prometheus CPU, applied by promsoc / in PromQL: {after / before:.2f}x"
          if before else "no Prometheus CPU measured (give --pid)")
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
