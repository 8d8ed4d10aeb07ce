"""What one idle console costs the lab's Prometheus: CPU, requests and bytes a minute.

The console's own poll loop (`tui.poller.Poller` over `LiveBackend`, as a console left on the
overview at the default 30 s refresh runs it; the screen adds no queries) polls the lab for
--seconds after one warm-up cycle, twice in one run: with the incremental range fetch, and with
every range fetched whole as before it (the baseline). Prometheus's CPU comes from /proc, minus
what it spends meanwhile with no console at all (scraping, measured before and after); bytes are
as they cross the wire (compressed), counted by a transport that forwards to the real server.

    .venv/bin/python bench/bench_idle_console.py [--seconds 120] [--refresh 30] [--pods 5000 --nodes 200]
        [--now-only] [--url URL --pid PID]   # --url/--pid: a lab already running (its Prometheus's pid)
Budget (issue 10): <= 1 % of a core and <= 100 kB of responses a minute on the lab, <= 5 % on the
5,000-pod lab (as `promsoc demo --pods 5000 --nodes 200` builds it; PROMSOC_LAB_CACHE: its cache).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from proccpu import cpu_seconds, idle_cpu
from promsoc.config import load_settings
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.prom.types import InstantResult, QueryClient, RangeResult
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.poller import Poller


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the real server, counting requests and the bytes of the answers on the wire."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0
        self.bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        self.requests += 1
        self.bytes += len(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


class WholeRanges:
    """The baseline: every range fetched whole, as the console did before the range cache."""

    def __init__(self, client: QueryClient) -> None:
        self.client = client

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        return await self.client.query(promql, at)

    async def query_range(
        self, promql: str, start: float, end: float, step: float | str, *, tip: bool = False
    ) -> RangeResult:
        return await self.client.query_range(promql, start, end, step)


class BaselineBackend(LiveBackend):
    def ranges(self, source: str) -> Any:
        return WholeRanges(self._client(source))


@dataclass
class Cost:
    name: str
    seconds: float
    cpu: float
    requests: int
    bytes: int
    cycles: int


async def poll(backend_type: type[LiveBackend], url: str, seconds: float, refresh: float, pid: int | None) -> Cost:
    transport = Counting()
    settings = load_settings(None, url, "lab")
    settings = replace(settings, sources=tuple(replace(s, refresh=refresh, timeout=60.0) for s in settings.sources))

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    backend = backend_type(settings, clients=clients)
    poller = Poller(backend, "lab", interval=refresh, cursor=lambda: None, post=lambda _m: None, clock=time.time)
    try:
        await poller.cycle()  # warm-up: the first cycle fetches every range whole either way
        cpu, requests, sent, cycles = cpu_seconds(pid), transport.requests, transport.bytes, poller.cycles
        began = time.monotonic()
        task = asyncio.ensure_future(poller.run())
        await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        spent = time.monotonic() - began
        name = "incremental" if backend_type is LiveBackend else "whole ranges (before)"
        used = cpu_seconds(pid) - cpu
        return Cost(name, spent, used, transport.requests - requests, transport.bytes - sent, poller.cycles - cycles)
    finally:
        await backend.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--refresh", type=float, default=30.0)
    parser.add_argument("--pods", type=int, default=120)
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--now-only", action="store_true", help="leave out the baseline (whole ranges)")
    parser.add_argument("--url", help="a lab already running (e.g. with the recording rules), not a new one")
    parser.add_argument("--pid", type=int, help="with --url: its Prometheus's process id (for /proc)")
    args = parser.parse_args()
    if args.url:
        return report(args, args.url, args.pid)
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(live_incidents=False, pods=args.pods, nodes=args.nodes,
                         cache_dir=Path(cache) if cache else None)  # fmt: skip
    if (args.pods, args.nodes) != (120, 6):  # as the scaled demo
        options = replace(options, history_days=2.0, traffic_days=1.0)
    with Lab(options) as lab:
        return report(args, lab.url, getattr(getattr(lab.prometheus, "_proc", None), "pid", None))


def report(args: argparse.Namespace, url: str, pid: int | None) -> int:
    variants = (LiveBackend,) if args.now_only else (BaselineBackend, LiveBackend)
    idle = [idle_cpu(pid, min(60.0, args.seconds / 2))]
    costs = [asyncio.run(poll(t, url, args.seconds, args.refresh, pid)) for t in variants]
    idle.append(idle_cpu(pid, min(60.0, args.seconds / 2)))
    base = sum(idle) / len(idle)
    print(f"lab: {args.pods} pods, {args.nodes} nodes")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; refresh {args.refresh:.0f} s, "
          f"{args.seconds:.0f} s each; Prometheus with no console: {base * 100:.2f} % of a core")  # fmt: skip
    print(f"{'console':<24} {'prom % core':>11} {'requests/min':>12} {'kB/min':>8} {'cycles':>6}")
    for cost in costs:
        minutes = cost.seconds / 60
        share = max(0.0, cost.cpu / cost.seconds - base) * 100
        rate, kilobytes = cost.requests / minutes, cost.bytes / 1e3 / minutes
        print(f"{cost.name:<24} {share:11.2f} {rate:12.1f} {kilobytes:8.1f} {cost.cycles:6d}")
    if len(costs) < 2:
        return 0
    before, after = costs
    cpu_ratio = (after.cpu / after.seconds - base) / max(before.cpu / before.seconds - base, 1e-9)
    print(f"incremental / before: Prometheus CPU {cpu_ratio:.2f}x, bytes {after.bytes / max(before.bytes, 1):.3f}x, "
          f"requests {after.requests / max(before.requests, 1):.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
