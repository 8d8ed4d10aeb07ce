"""A scan's Prometheus CPU and wall time with and without the recording rules, on the scaled lab.

The lab (default: the 5,000-pod / 200-node one `promsoc demo --pods 5000 --nodes 200` builds, with
every detector's metrics) runs `promsoc rules export --recording`. A time band's terms are read
only once its recorded signal is older than the band's window (71 min for the pack's 1h band): so
that the run need not wait an hour, those signals are recorded over the last 90 minutes with
`promtool tsdb create-blocks-from rules` first, as a Prometheus that has run the rules for a while
has them. Once every recorded block can be read, scans alternate between the raw path
(`evaluate(..., recorded=False)`) and the recorded one, --rounds times each, in one run.
Prometheus CPU per scan comes from /proc; what the rules themselves cost Prometheus (once a
minute, whatever the number of viewers) is read from its own
`prometheus_rule_group_last_duration_seconds`.

    PROMSOC_LAB_CACHE=DIR .venv/bin/python bench/bench_recording.py [--pods 5000 --nodes 200] [--rounds 5]
Budget (issue 10): scan <= 2 s; Prometheus CPU with recording rules <= 25 % of without.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

import httpx
import yaml

from proccpu import cpu_seconds
from promsoc.detectors.engine import evaluate, present_blocks, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import export_recording
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.prom.settings import source_from_url
from promsoc.promql import recording

BACKFILL = 90 * 60  # seconds of recorded signal history written before the run


def backfill_signals(lab: Lab) -> None:
    """The signals that band terms read over their past, recorded over the last BACKFILL seconds."""
    aged = [b for b in recorded_blocks(load_detectors()) if b.aged == b.record]
    if aged:
        now = time.time()
        lab.backfill_rules(yaml.safe_dump(recording.recording_rules(aged)), now - BACKFILL, now - 30)


async def measure(
    url: str, pid: int | None, rounds: int, slowest: list[tuple[float, str]], names: list[str]
) -> dict[str, list[tuple[float, float]]]:
    """(wall s, Prometheus CPU s) per scan, by path, alternating so drift hits both alike."""
    detectors = load_detectors()
    source = source_from_url(url, "lab")
    blocks = recorded_blocks(detectors, presence=True)
    async with PromClient(source) as client:
        deadline = time.monotonic() + 240
        while len(await present_blocks(client, time.time() - 10, blocks)) < len(blocks):
            if time.monotonic() > deadline:
                raise SystemExit("the recorded series were not all readable within 4 minutes")
            await asyncio.sleep(2)
        await asyncio.sleep(recording.INTERVAL + 5)  # band terms once more, over the whole history
        costs: dict[str, list[tuple[float, float]]] = {"raw": [], "recorded": []}
        recordable = {d.id for d in detectors if recording.uses_recorded(d.query, blocks)}
        await evaluate(detectors, client, "lab", time.time())  # warm-up: connections, caches
        for _ in range(rounds):
            for path in ("raw", "recorded"):
                cpu, began = cpu_seconds(pid), time.perf_counter()
                results = await evaluate(detectors, client, "lab", time.time(), recorded=path == "recorded")
                costs[path].append((time.perf_counter() - began, cpu_seconds(pid) - cpu))
                read = {r.detector for r in results if r.recorded}
                assert read == (recordable if path == "recorded" else set()), read
        slowest.extend(sorted(((r.latency, r.detector) for r in results), reverse=True)[:5])
        async with httpx.AsyncClient() as http:  # Prometheus's own metrics (the lab does not scrape it)
            text = (await http.get(f"{url}/metrics")).text
            rules = (await http.get(f"{url}/api/v1/rules", params={"type": "record"})).json()["data"]["groups"]
        for group in rules:
            if group["name"] == recording.GROUP_NAME:
                per_rule: dict[str, float] = {}
                for rule in group["rules"]:
                    per_rule[rule["name"]] = per_rule.get(rule["name"], 0.0) + rule["evaluationTime"]
                costs["per rule"] = [(seconds, 0.0) for seconds in per_rule.values()]
                names.extend(per_rule)
        costs["rules"] = [
            (float(line.rsplit(" ", 1)[1]), 0.0)
            for line in text.splitlines()
            if line.startswith("prometheus_rule_group_last_duration_seconds") and "promsoc-recording" in line
        ]
        return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(
        live_incidents=False, pods=args.pods, nodes=args.nodes, history_days=2.0, traffic_days=1.0,
        alert_rules=export_recording(), cache_dir=Path(cache) if cache else None,
    )  # fmt: skip
    with Lab(options) as lab:
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        started = lab.startup_seconds
        backfill_signals(lab)
        slowest: list[tuple[float, str]] = []
        names: list[str] = []
        costs = asyncio.run(measure(lab.url, pid, args.rounds, slowest, names))
    print(f"lab: {args.pods} pods, {args.nodes} nodes, started in {started:.0f} s")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; {args.rounds} scans per path")
    print(f"{'scan':<10} {'wall s (median)':>16} {'Prometheus CPU s (median)':>26}")
    medians, walls = {}, {}
    for path in ("raw", "recorded"):
        wall = statistics.median(w for w, _ in costs[path])
        cpu = statistics.median(c for _, c in costs[path])
        medians[path], walls[path] = cpu, wall
        print(f"{path:<10} {wall:16.2f} {cpu:26.3f}")
    print(f"recorded / raw Prometheus CPU per scan: {medians['recorded'] / max(medians['raw'], 1e-9):.2f}x"
          f" (budget 0.25x); wall {walls['recorded'] / max(walls['raw'], 1e-9):.2f}x")
    print(f"recorded scan wall {walls['recorded']:.2f} s (budget 2 s)")
    print("slowest detectors of the last recorded scan: " + ", ".join(f"{d} {t:.2f} s" for t, d in slowest))
    for duration, _ in costs["rules"]:
        print(f"the recording rule group's last evaluation took {duration:.3f} s (once a minute, for every viewer)")
    per_rule = zip(names, costs.get("per rule", []), strict=True)
    print("of which: " + ", ".join(f"{name} {seconds:.3f} s" for name, (seconds, _) in per_rule))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
