"""Benchmark: a whole-pack scan against the lab vs the slowest single detector query, same run.

Target (issue 4): the scan's wall time is at most 1.5x the slowest single detector query,
i.e. the detectors run concurrently and the presence check adds no round of its own.

    .venv/bin/python bench/bench_scan.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from proccpu import cpu_seconds
from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.promql.presence import presence_query

TARGET = 1.5



async def _once(client: PromClient, promql: str, at: float) -> float:
    began = time.perf_counter()
    await client.query(promql, at)
    return time.perf_counter() - began


async def measure(
    url: str, at: float, rounds: int, pid: int | None
) -> tuple[dict[str, float], float, list[float], float]:
    detectors = load_detectors()
    families = {f for det in detectors for f in det.required_families}
    singles: dict[str, list[float]] = {det.id: [] for det in detectors}
    singles["(presence check)"] = []
    scans: list[float] = []
    cpu = 0.0  # Prometheus + this process, during the scans only
    async with PromClient.from_url(url, name="lab") as client:
        await evaluate(detectors, client, "lab", at)  # warm the connection pool and the TSDB
        for _ in range(rounds):
            for det in detectors:  # one at a time: each query's own latency
                singles[det.id].append(await _once(client, det.query, at))
            singles["(presence check)"].append(await _once(client, presence_query(families), at))
            began, cpu_before = time.perf_counter(), cpu_seconds(pid) + time.process_time()
            results = await evaluate(detectors, client, "lab", at)
            scans.append(time.perf_counter() - began)
            cpu += cpu_seconds(pid) + time.process_time() - cpu_before
            assert len(results) == len(detectors)
    medians = {name: statistics.median(times) for name, times in singles.items()}
    return medians, statistics.median(scans), scans, cpu / rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with Lab(LabOptions(live_incidents=False)) as lab:
        at = lab.scenario.incident("mass-extraction").eval_at
        # The server's pid, to count its CPU (the launcher keeps the process private).
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        medians, scan, scans, cpu = asyncio.run(measure(lab.url, at, args.rounds, pid))
    slowest_name, slowest = max(medians.items(), key=lambda item: item[1])
    total = sum(medians.values())
    print(f"detector queries (median of {args.rounds} runs each, ms):")
    for name, value in sorted(medians.items(), key=lambda item: -item[1]):
        print(f"  {name:<32} {value * 1000:8.1f}")
    print(f"sequential sum of all queries      {total * 1000:8.1f} ms")
    print(f"slowest single query               {slowest * 1000:8.1f} ms ({slowest_name})")
    print(f"whole-pack scan (median)           {scan * 1000:8.1f} ms "
          f"(runs: {', '.join(f'{s * 1000:.0f}' for s in scans)})")
    ratio = scan / slowest
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"scan / slowest single query        {ratio:8.2f}x (target <= {TARGET}x) {verdict}")
    print(f"scan / sequential sum              {scan / total:8.2f}x")
    cores = os.cpu_count() or 1
    floor = max(slowest, cpu / cores)
    print(f"CPU per scan (Prometheus + client) {cpu * 1000:8.1f} ms on {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"CPU floor max(slowest, CPU/cores)  {floor * 1000:8.1f} ms; scan / floor "
          f"{scan / floor:.2f}x (other processes' load not counted)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
