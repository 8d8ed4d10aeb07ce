"""Twenty sources: one console's poll cycle over `promsoc demo --clusters 20`, against one source's.

The lab is built as `promsoc demo --clusters 20` builds it (20 clusters behind one Prometheus, a
`cluster` label on every series) and the console's own poll loop runs as the console runs it:
one `tui.poller.Poller` per source over one `LiveBackend`, each source with its
`cluster="cluster-k"` selector, every cycle refetching every sparkline (incrementally). Measured
in one run, each the median of --cycles cycles after one warm-up, one every --refresh s (the
console's default 30 s, so each cycle fetches what 30 s added, as in the console):

1. one source alone (cluster-1);
2. all twenty at once: the wall of the cycle (until the last source's results and sparklines);
3. all twenty, cluster-20 slow (a relay holding each of its answers --slow seconds), then dead
   (its relay closed): when the other nineteen's results arrive.

    .venv/bin/python bench/bench_many_sources.py [--clusters 20] [--cycles 3] [--refresh 30] [--slow 8] [--apart]
    .venv/bin/python bench/bench_many_sources.py --console [--clusters 20] [--cycles 3] [--slow 8]
        [--recording off|on|both] [--healthy-only]

That is the worst case: every sparkline of every source refetched every cycle. `--console` runs
the real console instead (`bench/console_cycles.py`: `ConsoleApp` headless at 120x40 on the
overview, its own pollers at its default refresh): a sparkline is refetched every 30 s only
while its tile is in view, every 5 minutes otherwise, so it measures enough cycles for one to
fall where the hidden sparklines are due (11 at 30 s); one source's (cluster-1 alone, --cycles)
and twenty's in the same run, then the slow and dead checks (--cycles each). `--whole` adds a
second baseline, one source with no selector (every cluster's data, asked as one source), and
then runs both baselines as many cycles as the twenty, so that each holds its own 2-minute join
cycles (`detectors.cadence`); it prints twenty's median / a baseline's median, worst / worst, and
worst / the baseline's median.

The sources share one Prometheus and differ by their `cluster` value, so they are asked together
(`prom.fanin`: one request a question for all twenty, split by `cluster`); `--apart` makes every
source ask alone, as before.

`--recording on` has the lab's Prometheus evaluate the recording rules split by cluster (as
`promsoc demo --clusters 20 --recording-rules`), `both` measures a lab without them and then one
with them in the same run; Prometheus's idle CPU (subtracted) then includes the rules' own cost.
`--backfill 140` records the rules over the last 140 minutes first (`bench/recorded_backfill.py`), so
that the time band and every sparkline read them, as after two hours of a Prometheus running them.
`--healthy-only` skips the slow and dead checks.

Budget (issue 10): twenty sources' cycle wall <= 1.5x one source's, and no source's tiles delayed
by another's (the nineteen's results arrive within the same budget while one is slow or dead).
PROMSOC_LAB_CACHE: the lab's history cache (its default otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from proccpu import cpu_seconds
from promsoc.cli import build_parser
from promsoc.cli.demo import _options, sources_config
from promsoc.config import Settings, load_file
from promsoc.lab import Lab
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.messages import PollFailed, ResultsUpdated
from promsoc.tui.poller import Poller, ticks
from relay import Relay


def settings_for(url: str, clusters: int, *, slow: str | None = None, apart: bool = False) -> Settings:
    """The demo's generated config; `slow` replaces the last source's URL (a relay)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clusters.yaml"
        path.write_text(sources_config(url, clusters))
        settings = load_file(path)
    sources = [replace(s, timeout=60.0, coalesce=not apart) for s in settings.sources]
    if slow is not None:
        sources[-1] = replace(sources[-1], url=slow, timeout=30.0)
    return replace(settings, sources=tuple(sources))


@dataclass
class Run:
    walls: list[float] = field(default_factory=list)
    arrivals: list[dict[str, float]] = field(default_factory=list)
    prom_cpu: float = 0.0  # Prometheus's CPU seconds over the measured cycles
    window: float = 0.0  # seconds those cycles (and the pauses between them) took
    own_cpu: float = 0.0  # this process's (the console's backend, parsing and judging)
    merged: int = 0  # requests that answered several grouped sources (prom.fanin), all cycles
    answered: int = 0  # the grouped sources' questions they answered
    recorded: int = 0  # detector results that read the recording rules' series, all cycles

    def per_cycle(self, cpu: float) -> float:
        return cpu / max(1, len(self.walls))


async def cycles(settings: Settings, names: list[str], count: int, pid: int | None, refresh: float) -> Run:
    """`count` cycles of the named sources' pollers run at once (after one warm-up), one every
    `refresh` s as the console paces them (so each refetches `refresh` s of every sparkline):
    each one's wall, when each source's results (or failure) arrived from its start, and CPU."""
    backend = LiveBackend(replace(settings, sources=tuple(s for s in settings.sources if s.name in names)))
    arrived: dict[str, float] = {}
    began = 0.0
    measured = math.inf
    run = Run()

    def post(message: Any) -> None:
        if isinstance(message, ResultsUpdated | PollFailed):
            arrived[message.source] = time.monotonic() - began
        if isinstance(message, ResultsUpdated) and began >= measured:
            run.recorded += sum(1 for r in message.results if r.recorded)

    shared = ticks(names, backend.together)  # as the console does: grouped sources share their moments
    pollers = [Poller(backend, name, interval=30.0, cursor=lambda: None, post=post, clock=time.time,
                      history_every=0.0, tick=shared[name], expect=backend.expect) for name in names]  # fmt: skip
    try:
        for index in range(count + 1):
            if index == 1:  # the first cycle fetches every sparkline's hour whole: a warm-up
                prom, own, since = cpu_seconds(pid), time.process_time(), time.monotonic()
                measured = since
            arrived.clear()
            began = time.monotonic()
            await asyncio.gather(*(p.cycle() for p in pollers))
            if index:
                run.walls.append(time.monotonic() - began)
                run.arrivals.append(dict(arrived))
            if index < count:
                await asyncio.sleep(max(0.0, began + refresh - time.monotonic()))
        run.prom_cpu, run.own_cpu = cpu_seconds(pid) - prom, time.process_time() - own
        run.window = time.monotonic() - since
        run.merged = sum(f.merged for f in backend.pool.groups)
        run.answered = sum(f.answered for f in backend.pool.groups)
    finally:
        await backend.aclose()
    together = f", {run.merged} merged requests answered {run.answered} questions" if run.merged else ""
    print(f"  {len(names)} source(s): {' '.join(f'{w:.2f}' for w in run.walls)} s{together}", flush=True)
    return run


def report_healthy(args: argparse.Namespace, idle: float, one: Run, many: Run) -> int:
    """The worst case's one source and twenty, without the slow and dead checks."""
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; {args.cycles} cycles each, medians")
    print(f"Prometheus with no console: {idle:.2f} CPU-s every {args.refresh:.0f} s (subtracted below)")
    for label, run in (("one source's cycle", one), (f"{args.clusters} sources' cycle", many)):
        prom = run.per_cycle(run.prom_cpu - idle * run.window / args.refresh)
        print(f"{label:30} {statistics.median(run.walls):6.2f} s wall, Prometheus {prom:.2f} CPU-s, "
              f"console {run.per_cycle(run.own_cpu):.2f} CPU-s, {run.recorded} results read recorded")  # fmt: skip
    ratio = statistics.median(many.walls) / statistics.median(one.walls)
    print(f"{args.clusters} sources / one: {ratio:5.2f}x  budget <= 1.5x  {'PASS' if ratio <= 1.5 else 'FAIL'}")
    return 0 if ratio <= 1.5 else 1


def healthy_arrival(arrivals: list[dict[str, float]], unhealthy: str) -> float:
    """Median over the cycles of the last healthy source's results."""
    return statistics.median(max(v for k, v in one.items() if k != unhealthy) for one in arrivals)


def console(args: argparse.Namespace, url: str, settings: Settings, pid: int | None, idle: float) -> int:
    """The real console's cycles, one source's then twenty's, then one of them slow and dead."""
    from console_cycles import healthy_done, needed, run_console

    first = replace(settings, sources=settings.sources[:1])
    count = needed(args.cycles, args.refresh)
    # with --whole, the baselines run as many cycles as the twenty: each distribution then holds
    # its own 2-minute join cycles (`detectors.cadence`), not only the twenty's
    one = run_console(first, count if args.whole else args.cycles, pid)
    whole = run_console(every_cluster(settings), count, pid) if args.whole else None
    many = run_console(settings, count, pid)
    if args.healthy_only:
        return report_console(args, settings, idle, one, many, whole=whole)
    slowest, others = settings.sources[-1].name, f"the other {len(settings.sources) - 1}"
    relay = Relay(url, delay=args.slow)
    try:
        slow = run_console(settings_for(url, args.clusters, slow=relay.url, apart=args.apart), args.cycles, pid)
    finally:
        relay.close()
        relay.server.server_close()
    dead = run_console(settings_for(url, args.clusters, slow=relay.url, apart=args.apart), args.cycles, pid)
    healthy = healthy_done(many.cycles, slowest)
    slow_others, dead_others = healthy_done(slow.cycles, slowest), healthy_done(dead.cycles, slowest)
    print(f"{others}'s results: all healthy {healthy:.2f} s, {slowest} slow ({args.slow:.0f} s/answer) "
          f"{slow_others:.2f} s, {slowest} dead {dead_others:.2f} s")  # fmt: skip
    return report_console(args, settings, idle, one, many, [
        (f"{others}, one slow / all healthy", slow_others / healthy),
        (f"{others}, one dead / all healthy", dead_others / healthy)], whole=whole)  # fmt: skip


def every_cluster(settings: Settings) -> Settings:
    """One source with no selector: every cluster's data, the data the twenty see together, as one source."""
    return replace(settings, sources=(replace(settings.sources[0], name="every-cluster", selector=""),))


def report_console(args: argparse.Namespace, settings: Settings, idle: float, one: Any, many: Any,
                   more: list[tuple[str, float]] | None = None, whole: Any = None) -> int:  # fmt: skip
    """One source's and twenty's cycles, and the ratios against the 1.5x budget (with `whole`: also
    against one source that sees every cluster, the same data as the twenty)."""
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; the console at 120x40 on the overview")
    print(f"Prometheus with no console: {idle:.2f} CPU-s every {args.refresh:.0f} s (subtracted below)")
    runs = [("one source", one), *([("every cluster", whole)] if whole else []),
            (f"{len(settings.sources)} sources", many)]  # fmt: skip
    for label, run in runs:
        walls = [c.wall() for c in run.cycles]
        prom = run.per_cycle(run.prom_cpu - idle * run.window / args.refresh)
        seen = sum(run.in_view.values())
        print(f"{label:12} {len(walls):2} cycles: median {statistics.median(walls):5.2f} s, worst {max(walls):5.2f} s "
              f"wall ({' '.join(f'{w:.2f}' for w in walls)}); Prometheus {prom:.2f}, "
              f"console {run.per_cycle(run.own_cpu):.2f} CPU-s a cycle; "
              f"{seen} tiles in view, sparklines a cycle {[c.sparklines for c in run.cycles]}, "
              f"{run.merged} merged requests, batches that went (all cycles) {run.went or {}}")  # fmt: skip
    walls = [c.wall() for c in many.cycles]
    verdicts = [*like_for_like("one", [c.wall() for c in one.cycles], walls), *(more or [])]
    if whole:
        verdicts[3:3] = like_for_like("every cluster", [c.wall() for c in whole.cycles], walls)
    failed = False
    for name, value in verdicts:
        ok = value <= 1.5
        failed |= not ok
        print(f"{name:40} {value:5.2f}x  budget <= 1.5x  {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


def like_for_like(name: str, base: list[float], walls: list[float]) -> list[tuple[str, float]]:
    """Twenty's cycles against a baseline's: median / median, worst / worst, and (as before the
    baselines ran as many cycles as the twenty) worst / the baseline's median."""
    median = statistics.median(base)
    return [(f"median cycle, twenty / {name}'s median", statistics.median(walls) / median),
            (f"worst cycle, twenty / {name}'s worst", max(walls) / max(base)),
            (f"worst cycle, twenty / {name}'s median", max(walls) / median)]  # fmt: skip


def rules_recorded(url: str, cluster: str, wait: float = 150.0) -> float:
    """Seconds until the source of `cluster` reads the recording rules' blocks (their first evaluation)."""
    from promsoc.detectors.engine import present_blocks, recorded_blocks
    from promsoc.detectors.packs import load_detectors
    from promsoc.prom.client import PromClient
    from promsoc.prom.settings import Source

    async def poll() -> float:
        began = time.monotonic()
        blocks = recorded_blocks(load_detectors(), presence=True)
        async with PromClient(Source(name=cluster, url=url, selector=f'cluster="{cluster}"')) as client:
            while not await present_blocks(client, None, blocks):
                if time.monotonic() - began > wait:
                    raise SystemExit(f"the recording rules never produced {cluster}'s markers")
                await asyncio.sleep(2)
        return time.monotonic() - began

    return asyncio.run(poll())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--refresh", type=float, default=30.0, help="seconds from one cycle's start to the next's")
    parser.add_argument("--slow", type=float, default=8.0, help="seconds the slow source holds each answer")
    parser.add_argument("--apart", action="store_true", help="every source asks alone (coalesce: false), as before")
    parser.add_argument("--console", action="store_true", help="the real console at 120x40 (bench/console_cycles.py)")
    parser.add_argument("--recording", choices=("off", "on", "both"), default="off",
                        help="the lab's Prometheus evaluates the recording rules (`promsoc demo --recording-rules`: "
                        "split by cluster); both: a lab without them, then one with them, in one run")
    parser.add_argument("--backfill", type=float, default=0.0, metavar="MINUTES",
                        help="with the recording rules: record them over the last MINUTES first (bench/"
                        "recorded_backfill.py; 140 for every band and sparkline to read them)")
    parser.add_argument("--whole", action="store_true",
                        help="with --console: also one source with no selector (every cluster's data, as the "
                        "twenty see it together, asked as one source) as a second baseline")
    parser.add_argument("--healthy-only", action="store_true",
                        help="one source's and twenty's cycles only (no slow and dead checks)")
    args = parser.parse_args()
    variants = {"off": [False], "on": [True], "both": [False, True]}[args.recording]
    failed = 0
    for recording in variants:
        print(f"== recording rules {'loaded (split by cluster)' if recording else 'not loaded'}", flush=True)
        failed |= measure(args, recording)
    return failed


def measure(args: argparse.Namespace, recording: bool) -> int:
    argv = ["demo", "--no-alertmanager", "--clusters", str(args.clusters), *(["--recording-rules"] * recording)]
    options = _options(build_parser().parse_args(argv))
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = replace(options, cache_dir=Path(cache) if cache else None)
    began = time.monotonic()
    with Lab(options) as lab:
        series = len(lab.simulator.series) if lab.simulator else 0
        ready, how = time.monotonic() - began, "cached" if lab.cache_hit else "cold"
        print(f"lab: {args.clusters} clusters x {options.pods} pods, {series} series, ready in {ready:.1f} s ({how}), "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        if recording:
            waited = rules_recorded(lab.url, "cluster-1")
            print(f"recording rules: cluster-1 reads them after {waited:.0f} s", flush=True)
            if args.backfill:
                from recorded_backfill import backfill

                took = backfill(lab, args.backfill * 60)
                print(f"recording rules backfilled over {args.backfill:.0f} min in {took:.0f} s, "
                      f"load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        pid = getattr(getattr(lab.prometheus, "_proc", None), "pid", None)
        before = cpu_seconds(pid)
        time.sleep(args.refresh)  # Prometheus with no console: scraping 100,000 series
        idle = cpu_seconds(pid) - before
        settings = settings_for(lab.url, args.clusters, apart=args.apart)
        names = [s.name for s in settings.sources]
        if args.console:
            return console(args, lab.url, settings, pid, idle)
        one = asyncio.run(cycles(settings, names[:1], args.cycles, pid, args.refresh))
        many = asyncio.run(cycles(settings, names, args.cycles, pid, args.refresh))
        if args.healthy_only:
            return report_healthy(args, idle, one, many)
        relay = Relay(lab.url, delay=args.slow)
        try:
            slow_settings = settings_for(lab.url, args.clusters, slow=relay.url, apart=args.apart)
            slow = asyncio.run(cycles(slow_settings, names, args.cycles, pid, args.refresh))
        finally:
            relay.close()
            relay.server.server_close()
        # the relay is closed now: nothing listens on its port
        dead = asyncio.run(cycles(slow_settings, names, args.cycles, pid, args.refresh))
    base, wall = statistics.median(one.walls), statistics.median(many.walls)
    slowest = names[-1]
    slow_others, dead_others = healthy_arrival(slow.arrivals, slowest), healthy_arrival(dead.arrivals, slowest)
    slow_own = statistics.median(a[slowest] for a in slow.arrivals)
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; {args.cycles} cycles each, medians")
    print(f"Prometheus with no console: {idle:.2f} CPU-s every {args.refresh:.0f} s (subtracted below)")
    for label, run in (("one source's cycle", one), (f"{len(names)} sources' cycle", many)):
        prom = run.per_cycle(run.prom_cpu - idle * run.window / args.refresh)
        print(f"{label:30} {statistics.median(run.walls):6.2f} s wall, Prometheus {prom:.2f} CPU-s, "
              f"console {run.per_cycle(run.own_cpu):.2f} CPU-s")
    print(f"with {slowest} slow ({args.slow:.0f} s/answer): the other {len(names) - 1} done at {slow_others:6.2f} s, "
          f"{slowest} at {slow_own:.2f} s")  # fmt: skip
    print(f"with {slowest} dead (refused):   the other {len(names) - 1} done at {dead_others:6.2f} s")
    healthy = healthy_arrival(many.arrivals, slowest)  # the same nineteen, all twenty healthy
    others = f"the other {len(names) - 1}"
    verdicts = [(f"{len(names)} sources / one", wall / base),
                (f"{others}, one slow / all healthy", slow_others / healthy),
                (f"{others}, one dead / all healthy", dead_others / healthy)]  # fmt: skip
    failed = False
    for name, value in verdicts:
        budget = 1.5
        ok = value <= budget
        failed |= not ok
        print(f"{name:40} {value:5.2f}x  budget <= {budget}x  {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
