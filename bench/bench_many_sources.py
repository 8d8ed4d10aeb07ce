"""Twenty sources: one console's poll cycle over `promsoc demo --clusters 20`, against one source's.

The lab is built as `promsoc demo --clusters 20` builds it (20 clusters behind one Prometheus, a
`cluster` label on every series) and the console's own poll loop runs as the console runs it:
one `tui.poller.Poller` per source over one `LiveBackend`, each source with its
`cluster="cluster-k"` selector, every cycle refetching every sparkline (incrementally). Measured
in one run, each the median of --cycles cycles after one warm-up:

1. one source alone (cluster-1);
2. all twenty at once: the wall of the cycle (until the last source's results and sparklines);
3. all twenty, cluster-20 slow (a relay holding each of its answers --slow seconds), then dead
   (its relay closed): when the other nineteen's results arrive.

    .venv/bin/python bench/bench_many_sources.py [--clusters 20] [--cycles 5] [--slow 8]

Budget (issue 10): twenty sources' cycle wall <= 1.5x one source's, and no source's tiles delayed
by another's (the nineteen's results arrive within the same budget while one is slow or dead).
PROMSOC_LAB_CACHE: the lab's history cache (its default otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from promsoc.cli import build_parser
from promsoc.cli.demo import _options, sources_config
from promsoc.config import Settings, load_file
from promsoc.lab import Lab
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.messages import PollFailed, ResultsUpdated
from promsoc.tui.poller import Poller
from relay import Relay


def settings_for(url: str, clusters: int, *, slow: str | None = None) -> Settings:
    """The demo's generated config; `slow` replaces the last source's URL (a relay)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clusters.yaml"
        path.write_text(sources_config(url, clusters))
        settings = load_file(path)
    sources = [replace(s, timeout=60.0) for s in settings.sources]
    if slow is not None:
        sources[-1] = replace(sources[-1], url=slow, timeout=30.0)
    return replace(settings, sources=tuple(sources))


async def cycles(settings: Settings, names: list[str], count: int) -> tuple[list[float], list[dict[str, float]]]:
    """Walls of `count` cycles of the named sources' pollers run at once (after one warm-up), and
    for each cycle when each source's results (or failure) arrived, in seconds from its start."""
    backend = LiveBackend(settings)
    arrived: dict[str, float] = {}
    began = 0.0

    def post(message: Any) -> None:
        if isinstance(message, ResultsUpdated | PollFailed):
            arrived[message.source] = time.monotonic() - began

    pollers = [Poller(backend, name, interval=30.0, cursor=lambda: None, post=post, clock=time.time,
                      history_every=0.0) for name in names]  # fmt: skip
    walls: list[float] = []
    arrivals: list[dict[str, float]] = []
    try:
        for index in range(count + 1):
            arrived.clear()
            began = time.monotonic()
            await asyncio.gather(*(p.cycle() for p in pollers))
            if index:  # the first cycle fetches every sparkline's hour whole: a warm-up
                walls.append(time.monotonic() - began)
                arrivals.append(dict(arrived))
    finally:
        await backend.aclose()
    return walls, arrivals


def healthy_arrival(arrivals: list[dict[str, float]], unhealthy: str) -> float:
    """Median over the cycles of the last healthy source's results."""
    return statistics.median(max(v for k, v in one.items() if k != unhealthy) for one in arrivals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--slow", type=float, default=8.0, help="seconds the slow source holds each answer")
    args = parser.parse_args()
    options = _options(build_parser().parse_args(["demo", "--no-alertmanager", "--clusters", str(args.clusters)]))
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = replace(options, cache_dir=Path(cache) if cache else None)
    began = time.monotonic()
    with Lab(options) as lab:
        series = len(lab.simulator.series) if lab.simulator else 0
        ready, how = time.monotonic() - began, "cached" if lab.cache_hit else "cold"
        print(f"lab: {args.clusters} clusters x {options.pods} pods, {series} series, ready in {ready:.1f} s ({how}), "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        settings = settings_for(lab.url, args.clusters)
        names = [s.name for s in settings.sources]
        one, _ = asyncio.run(cycles(settings, names[:1], args.cycles))
        many, _ = asyncio.run(cycles(settings, names, args.cycles))
        relay = Relay(lab.url, delay=args.slow)
        try:
            slow_settings = settings_for(lab.url, args.clusters, slow=relay.url)
            _, slow_arrivals = asyncio.run(cycles(slow_settings, names, args.cycles))
        finally:
            relay.close()
            relay.server.server_close()
        dead_settings = slow_settings  # the relay is closed now: nothing listens on its port
        _, dead_arrivals = asyncio.run(cycles(dead_settings, names, args.cycles))
    base, wall = statistics.median(one), statistics.median(many)
    slowest = names[-1]
    slow_others, dead_others = healthy_arrival(slow_arrivals, slowest), healthy_arrival(dead_arrivals, slowest)
    slow_own = statistics.median(a[slowest] for a in slow_arrivals)
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; {args.cycles} cycles each, medians")
    print(f"one source's cycle:            {base:6.2f} s   (all: {' '.join(f'{w:.2f}' for w in one)})")
    print(f"twenty sources' cycle:         {wall:6.2f} s   (all: {' '.join(f'{w:.2f}' for w in many)})")
    print(f"with {slowest} slow ({args.slow:.0f} s/answer): the other {len(names) - 1} done at {slow_others:6.2f} s, "
          f"{slowest} at {slow_own:.2f} s")  # fmt: skip
    print(f"with {slowest} dead (refused):   the other {len(names) - 1} done at {dead_others:6.2f} s")
    ratio = wall / base
    verdicts = [("twenty / one", ratio, 1.5), ("nineteen beside a slow one / one", slow_others / base, 1.5),
                ("nineteen beside a dead one / one", dead_others / base, 1.5)]  # fmt: skip
    failed = False
    for name, value, budget in verdicts:
        ok = value <= budget
        failed |= not ok
        print(f"{name:34} {value:5.2f}x  budget <= {budget}x  {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
