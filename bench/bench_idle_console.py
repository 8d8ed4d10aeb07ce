"""What one idle console costs the lab's Prometheus: CPU, requests and bytes a minute.

The console's own poll loop (`tui.poller.Poller` over `LiveBackend`, as a console left on the
overview at the default 30 s refresh runs it; the screen adds no queries) polls the lab for
--seconds after one warm-up cycle, twice in one run: with the incremental range fetch, and with
every range fetched whole as before it (the baseline). Prometheus's CPU comes from /proc, minus
what it spends meanwhile with no console at all (scraping, measured before and after); bytes are
as they cross the wire (gzip: the client asks for it and Prometheus compresses), counted by a
transport that forwards to the real server, and as decoded (the JSON the console parses). The
console's CPU is this process's while it polls (the decoding count's own time left out).

`--bands promql` (or `both`: each in turn, in one run) sets the source's `sibling_bands: promql`:
the sibling detectors send their PromQL band (`signal > on (g) group_left () (ratio * median +
floor)`: only the outliers come back) instead of asking for every pod's signal and applying the
band in promsoc (`local`, the default).

    .venv/bin/python bench/bench_idle_console.py [--seconds 120] [--refresh 30] [--pods 5000 --nodes 200]
        [--now-only] [--bands local|promql|both] [--url URL --pid PID]   # --url/--pid: a lab already running
Budget (issue 10): <= 1 % of a core and <= 100 kB of responses a minute on the lab, <= 5 % on the
5,000-pod lab (as `promsoc demo --pods 5000 --nodes 200` builds it; PROMSOC_LAB_CACHE: its cache).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import zlib
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
        self.decoded = 0
        self.decoding = 0.0  # this process's CPU seconds spent counting the decoded bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        self.requests += 1
        self.bytes += len(body)
        began = time.process_time()
        gzipped = response.headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip")
        self.decoded += len(zlib.decompress(body, 32 + zlib.MAX_WBITS)) if gzipped and body else len(body)
        self.decoding += time.process_time() - began
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
    decoded: int
    console: float  # the console's CPU seconds (this process)


async def poll(
    backend_type: type[LiveBackend], url: str, seconds: float, refresh: float, pid: int | None, bands: str = "local"
) -> Cost:
    transport = Counting()
    settings = load_settings(None, url, "lab")
    sources = tuple(replace(s, refresh=refresh, timeout=60.0, sibling_bands=bands) for s in settings.sources)
    settings = replace(settings, sources=sources)

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    backend = backend_type(settings, clients=clients)
    poller = Poller(backend, "lab", interval=refresh, cursor=lambda: None, post=lambda _m: None, clock=time.time)
    try:
        await poller.cycle()  # warm-up: the first cycle fetches every range whole either way
        cpu, requests, sent, cycles = cpu_seconds(pid), transport.requests, transport.bytes, poller.cycles
        decoded, own, decoding = transport.decoded, time.process_time(), transport.decoding
        began = time.monotonic()
        task = asyncio.ensure_future(poller.run())
        await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        spent = time.monotonic() - began
        console = time.process_time() - own - (transport.decoding - decoding)
        name = "incremental" if backend_type is LiveBackend else "whole ranges (before)"
        name += f", {bands} bands"
        used = cpu_seconds(pid) - cpu
        return Cost(name, spent, used, transport.requests - requests, transport.bytes - sent, poller.cycles - cycles,
                    transport.decoded - decoded, console)  # fmt: skip
    finally:
        await backend.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--refresh", type=float, default=30.0)
    parser.add_argument("--pods", type=int, default=120)
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--now-only", action="store_true", help="leave out the baseline (whole ranges)")
    parser.add_argument("--bands", choices=("local", "promql", "both"), default="local",
                        help="sibling bands applied by promsoc (local), sent as PromQL, or each in turn")  # fmt: skip
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
    kinds = ("local", "promql") if args.bands == "both" else (args.bands,)
    idle = [idle_cpu(pid, min(60.0, args.seconds / 2))]
    costs = [asyncio.run(poll(t, url, args.seconds, args.refresh, pid, kind)) for kind in kinds for t in variants]
    idle.append(idle_cpu(pid, min(60.0, args.seconds / 2)))
    base = sum(idle) / len(idle)
    print(f"lab: {args.pods} pods, {args.nodes} nodes")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; refresh {args.refresh:.0f} s, "
          f"{args.seconds:.0f} s each; Prometheus with no console: {base * 100:.2f} % of a core")  # fmt: skip
    print(f"{'console':<36} {'prom % core':>11} {'requests/min':>12} {'kB/min wire':>11} {'decoded':>8} "
          f"{'console % core':>14} {'cycles':>6}")  # fmt: skip
    for cost in costs:
        minutes = cost.seconds / 60
        share = max(0.0, cost.cpu / cost.seconds - base) * 100
        rate, kilobytes = cost.requests / minutes, cost.bytes / 1e3 / minutes
        print(f"{cost.name:<36} {share:11.2f} {rate:12.1f} {kilobytes:11.1f} {cost.decoded / 1e3 / minutes:8.1f} "
              f"{cost.console / cost.seconds * 100:14.2f} {cost.cycles:6d}")  # fmt: skip
    if len(costs) != 2 or len(kinds) != 1:
        return 0
    before, after = costs
    cpu_ratio = (after.cpu / after.seconds - base) / max(before.cpu / before.seconds - base, 1e-9)
    print(f"incremental / before: Prometheus CPU {cpu_ratio:.2f}x, bytes {after.bytes / max(before.bytes, 1):.3f}x, "
          f"requests {after.requests / max(before.requests, 1):.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
