"""Where the lab's Prometheus spends its CPU in a scan: request by request, as the scan sends them.

For each request of a whole-pack scan (heavy detectors alone, the light ones and the presence
check combined as `evaluate` does) and for a trivial query: Prometheus's own evaluation time and
samples touched (`stats=all`), and Prometheus CPU and client CPU per request (/proc, averaged
over --repeat runs, so the kernel's 10 ms ticks average out). The sum of the CPU column is the
scan's CPU; divided by the cores it is the floor that bench_scan.py compares against.

    .venv/bin/python bench/bench_prom_cost.py [--repeat 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import httpx

from proccpu import cpu_seconds
from promsoc.detectors.batch import is_heavy
from promsoc.detectors.engine import PRESENCE
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.promql.batch import combine
from promsoc.promql.presence import presence_query


def scan_requests() -> dict[str, str]:
    """The requests one `evaluate` of the built-in pack sends, by name."""
    detectors = load_detectors()
    queries = {det.id: det.query for det in detectors}
    queries[PRESENCE] = presence_query({f for det in detectors for f in det.required_families})
    requests = {key: q for key, q in queries.items() if is_heavy(q)}
    light = {key: q for key, q in queries.items() if key not in requests}
    requests[f"light batch ({len(light)})"] = combine(light)
    return requests


def server_stats(url: str, promql: str, at: float, runs: int = 7) -> tuple[float, int]:
    """Median evaluation time (s) and samples touched, from Prometheus's own `stats=all`."""
    evals, samples = [], 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(runs):
            body = http.post("/api/v1/query", data={"query": promql, "time": at, "stats": "all"}).json()
            stats = body["data"]["stats"]
            evals.append(stats["timings"]["evalTotalTime"])
            samples = stats["samples"]["totalQueryableSamples"]
    return statistics.median(evals), samples


async def cpu_per_request(url: str, promql: str, at: float, pid: int | None, repeat: int) -> tuple[float, float]:
    """(Prometheus CPU, client CPU) per request in seconds, averaged over `repeat` runs."""
    async with PromClient.from_url(url, name="lab") as client:
        await client.query(promql, at)
        server, mine = cpu_seconds(pid), time.process_time()
        for _ in range(repeat):
            await client.query(promql, at)
        return (cpu_seconds(pid) - server) / repeat, (time.process_time() - mine) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    requests = {**scan_requests(), "vector(1) (per-request overhead)": "vector(1)"}
    with Lab(LabOptions(live_incidents=False)) as lab:
        at = lab.scenario.incident("mass-extraction").eval_at
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        rows = []
        for name, promql in requests.items():
            evaluation, samples = server_stats(lab.url, promql, at)
            server, client = asyncio.run(cpu_per_request(lab.url, promql, at, pid, args.repeat))
            rows.append((name, evaluation, samples, server, client, len(promql)))
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"{'request':<36} {'eval ms':>8} {'samples':>8} {'prom cpu':>9} {'client cpu':>11} {'chars':>7}")
    for name, evaluation, samples, server, client, chars in rows:
        print(f"{name:<36} {evaluation * 1e3:8.2f} {samples:8d} {server * 1e3:9.2f} {client * 1e3:11.2f} {chars:7d}")
    scan = [row for row in rows if not row[0].startswith("vector(1)")]
    total = sum(row[3] + row[4] for row in scan)
    slowest = max(row[3] for row in scan)
    cores = os.cpu_count() or 1
    print(f"scan: {len(scan)} requests, CPU {total * 1e3:.1f} ms (Prometheus + client); "
          f"floor on {cores} cores {total / cores * 1e3:.1f} ms = {total / cores / slowest:.2f}x "
          f"the costliest request's Prometheus CPU ({slowest * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
