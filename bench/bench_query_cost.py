"""What each request of an idle console's cycle costs Prometheus, one by one, on the scaled lab.

The console's poll loop (`tui.poller.Poller` over `LiveBackend`, every tile's sparkline seen, as
`bench_idle_console.py` runs it) makes a warm-up cycle, waits one refresh, and makes a second
cycle whose requests are recorded as they cross the wire. Each recorded request is then sent
again --repeat times, alone, and Prometheus's CPU for it is read from /proc (minus what it spends
meanwhile with no request: scraping 32,000 series); the table names what asked (the scan's
detectors, the light batch, the presence check, each sparkline's signal / edge / fired query).

    PROMSOC_LAB_CACHE=DIR .venv/bin/python bench/bench_query_cost.py [--pods 5000 --nodes 200]
        [--recording] [--url URL --pid PID]   # --url/--pid: a lab already running (its Prometheus's pid)
Budget (issue 10): <= 5 % of a core per idle console on the 5,000-pod lab.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from proccpu import cpu_seconds, idle_cpu
from promsoc.config import load_settings
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import export_recording
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.poller import Poller


@dataclass
class Sent:
    method: str
    url: str
    content_type: str
    body: bytes

    def params(self) -> dict[str, str]:
        raw = self.body.decode() if self.body else urlsplit(self.url).query
        return {k: v[0] for k, v in parse_qs(raw).items()}


class Recording(httpx.AsyncBaseTransport):
    """Forwards to the real server and keeps every request while `on`."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.on = False
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.on:
            self.sent.append(Sent(request.method, str(request.url), request.headers.get("content-type", ""), body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def names() -> dict[str, str]:
    """What asked a query, by its text: detectors' scan queries and their sparklines' queries."""
    known: dict[str, str] = {}
    for det in load_detectors():
        known[det.query.strip()] = f"{det.id}: scan"
        plan = sparkline_plan(det)
        for part, promql in (("signal", plan.signal), ("edge", plan.edge), ("fired", plan.fired)):
            if promql:
                known.setdefault(promql.strip(), f"{det.id}: sparkline {part}")
    return known


def describe(sent: Sent, known: dict[str, str]) -> str:
    params = sent.params()
    promql = params.get("query", "").strip()
    path = urlsplit(sent.url).path.rsplit("/", 1)[-1]
    if path == "query_range":
        steps = round((float(params["end"]) - float(params["start"])) / float(params["step"])) + 1
        kind = f"range {steps} steps"
    else:
        kind = "instant"
    if promql in known:
        what = known[promql]
    elif "promsoc_detector" in promql:
        what = f"light batch ({promql.count('promsoc_detector')} detectors)"
    elif promql.startswith("group by (__name__)"):
        what = "presence / recorded check"
    else:
        what = f"? {promql[:60]!r}"
    return f"{what} [{kind}]"


async def record(url: str, refresh: float, recording: bool) -> list[Sent]:
    transport = Recording()
    settings = load_settings(None, url, "lab")
    settings = replace(settings, sources=tuple(replace(s, refresh=refresh, timeout=120.0) for s in settings.sources))

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    backend = LiveBackend(settings, clients=clients)
    poller = Poller(backend, "lab", interval=refresh, cursor=lambda: None, post=lambda _m: None, clock=time.time)
    try:
        began = time.monotonic()
        await poller.cycle()  # warm-up: every range fetched whole
        await asyncio.sleep(max(0.0, refresh - (time.monotonic() - began)))
        transport.on = True
        await poller.cycle()
        transport.on = False
    finally:
        await backend.aclose()
    return transport.sent


def replay(sent: list[Sent], pid: int | None, repeat: int, idle_rate: float) -> list[tuple[float, float, str, Sent]]:
    """(Prometheus CPU s, wall s, description, request) per request, medians over `repeat`."""
    known = names()
    out = []
    with httpx.Client(timeout=300) as http:
        for request in sent:
            cpus, walls = [], []
            for _ in range(repeat):
                cpu, began = cpu_seconds(pid), time.perf_counter()
                headers = {"Content-Type": request.content_type} if request.body else {}
                answer = http.request(request.method, request.url, content=request.body or None, headers=headers)
                answer.raise_for_status()
                wall = time.perf_counter() - began
                walls.append(wall)
                cpus.append(max(0.0, cpu_seconds(pid) - cpu - idle_rate * wall))
            out.append((statistics.median(cpus), statistics.median(walls), describe(request, known), request))
    return out


def report(rows: list[tuple[float, float, str, Sent]], refresh: float, idle_rate: float) -> None:
    total = sum(cpu for cpu, *_ in rows)
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; Prometheus with no console: "
          f"{idle_rate * 100:.2f} % of a core")  # fmt: skip
    print(f"{len(rows)} requests in one steady cycle; Prometheus CPU {total:.2f} s, "
          f"{total / refresh * 100:.1f} % of a core at a {refresh:.0f} s refresh (every tile seen)")  # fmt: skip
    print(f"{'CPU s':>7} {'wall s':>7} {'share':>6}  request")
    for cpu, wall, what, _ in sorted(rows, key=lambda r: -r[0]):
        print(f"{cpu:7.3f} {wall:7.3f} {cpu / max(total, 1e-9) * 100:5.1f}%  {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--refresh", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recording", action="store_true", help="the lab's Prometheus runs the recording rules")
    parser.add_argument("--url", help="a lab already running (skips starting one)")
    parser.add_argument("--pid", type=int, help="with --url: its Prometheus's process id (for /proc)")
    args = parser.parse_args()
    if args.url:
        return run(args, args.url, args.pid)
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(
        live_incidents=False, pods=args.pods, nodes=args.nodes, history_days=2.0, traffic_days=1.0,
        alert_rules=export_recording() if args.recording else "", cache_dir=Path(cache) if cache else None,
    )  # fmt: skip
    with Lab(options) as lab:
        print(f"lab: {args.pods} pods, {args.nodes} nodes, started in {lab.startup_seconds:.0f} s"
              f"{', recording rules installed' if args.recording else ''}")  # fmt: skip
        if args.recording:
            time.sleep(70)  # the rules' first evaluations
        return run(args, lab.url, getattr(getattr(lab.prometheus, "_proc", None), "pid", None))


def run(args: argparse.Namespace, url: str, pid: int | None) -> int:
    sent = asyncio.run(record(url, args.refresh, args.recording))
    idle_rate = idle_cpu(pid, 20.0)
    rows = replay(sent, pid, args.repeat, idle_rate)
    report(rows, args.refresh, (idle_rate + idle_cpu(pid, 20.0)) / 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
