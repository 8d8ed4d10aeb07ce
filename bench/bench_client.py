"""One poll cycle of 20 queries, concurrently, against the lab: about as long as its slowest query.

Run: .venv/bin/python bench/bench_client.py [--runs N] [--plain]
Budget (issue 3): the concurrent cycle takes at most 1.3x the slowest single query measured in
the same run; the sequential sum is printed beside it to show what concurrency saves.
The queries are the built-in detectors' own, evaluated at the end of the lab's history
(`--plain` uses a self-scraping Prometheus and generic queries instead, without the lab).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit

from proccpu import cpu_seconds
from promsoc.prom import PromClient
from promsoc.prom.settings import Source

BUDGET = 1.3
CYCLE = 20


Target = tuple[str, float, list[str], int | None]


@asynccontextmanager
async def latency_proxy(upstream: str, rtt: float) -> AsyncIterator[str]:
    """A TCP relay adding `rtt`/2 each way, as a Prometheus in another zone would (0: none)."""
    if rtt <= 0:
        yield upstream
        return
    host, port = urlsplit(upstream).hostname or "127.0.0.1", urlsplit(upstream).port or 80

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                await asyncio.sleep(rtt / 2)
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, port)
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await asyncio.sleep(rtt * 2)  # let the relays see both ends close



@contextmanager
def lab_target() -> Iterator[Target]:
    """(url, evaluation time, 20 detector queries, Prometheus pid) from a running lab."""
    from promsoc.detectors.packs import builtin_detectors
    from promsoc.lab import Lab, LabOptions

    detectors = builtin_detectors()
    queries = [d.query for d in detectors]
    queries += [d.signal for d in detectors if d.signal and d.signal not in queries]
    with Lab(LabOptions(live_incidents=False)) as lab:
        yield lab.url, lab.anchor, queries[:CYCLE], _pid(lab.prometheus)


def _pid(server: object) -> int | None:
    proc = getattr(server, "_proc", None)
    return getattr(proc, "pid", None)


@contextmanager
def plain_target() -> Iterator[Target]:
    """(url, now, 20 generic queries, pid) from a self-scraping Prometheus."""
    from promsoc.lab.launcher import PrometheusServer, free_port

    port = free_port()
    with PrometheusServer(port=port, scrape_targets=[f"127.0.0.1:{port}"], scrape_interval="1s") as p:
        time.sleep(8)
        queries = [
            f"sum by (handler) (rate(prometheus_http_requests_total[{w}m])) > {i % 3 - 1}"
            for i, w in enumerate(range(1, CYCLE + 1))
        ]
        yield p.url, time.time(), queries, _pid(p)


async def timed(client: PromClient, query: str, at: float) -> float:
    started = time.perf_counter()
    await client.query(query, at=at)
    return time.perf_counter() - started


Run = tuple[float, float, float, float, float]


async def one_run(client: PromClient, queries: list[str], at: float, pid: int | None) -> Run:
    """(concurrent cycle, slowest single, sequential sum, client CPU, server CPU) in seconds."""
    singles = [await timed(client, q, at) for q in queries]
    server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client.query(q, at=at) for q in queries))
    cycle = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    return cycle, max(singles), sum(singles), client_cpu, cpu_seconds(pid) - server_cpu


async def measure(url: str, at: float, queries: list[str], runs: int, pid: int | None, rtt: float) -> list[Run]:
    async with (
        latency_proxy(url, rtt) as via,
        PromClient(Source("bench", via, timeout=60)) as client,
    ):
        await one_run(client, queries, at, pid)  # warm the pool and Prometheus's caches
        return [await one_run(client, queries, at, pid) for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plain", action="store_true", help="no lab: a self-scraping Prometheus")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="network round trip to emulate (default 0: loopback)")
    args = parser.parse_args()
    started = time.perf_counter()
    target = plain_target() if args.plain else lab_target()
    with target as (url, at, queries, pid):
        print(f"target ready in {time.perf_counter() - started:.1f}s: {len(queries)} queries")
        results = asyncio.run(measure(url, at, queries, args.runs, pid, args.rtt_ms / 1e3))
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, emulated round trip: {args.rtt_ms:g} ms")
    print(
        f"{'run':>3} {'cycle ms':>9} {'slowest ms':>11} {'seq sum ms':>11} "
        f"{'cycle/slowest':>14} {'sum/cycle':>10} {'client cpu':>11} {'prom cpu':>9}"
    )
    for i, (cycle, slowest, total, ccpu, scpu) in enumerate(results, 1):
        print(
            f"{i:>3} {cycle * 1e3:9.1f} {slowest * 1e3:11.1f} {total * 1e3:11.1f} "
            f"{cycle / slowest:14.2f} {total / cycle:10.2f} {ccpu * 1e3:11.1f} {scpu * 1e3:9.1f}"
        )
    ratio = statistics.median(r[0] / r[1] for r in results)
    cycle, slowest, total, ccpu, scpu = (statistics.median(r[i] for r in results) for i in range(5))
    print(
        f"median: concurrent cycle {cycle * 1e3:.1f} ms, slowest single {slowest * 1e3:.1f} ms, "
        f"sequential sum {total * 1e3:.1f} ms; cycle/slowest {ratio:.2f} (budget {BUDGET}), "
        f"sum/cycle {total / cycle:.1f}x; CPU per cycle: client {ccpu * 1e3:.0f} ms, "
        f"Prometheus {scpu * 1e3:.0f} ms"
    )
    cores = os.cpu_count() or 1
    floor = max(slowest, (ccpu + scpu) / cores)
    print(
        f"CPU floor: a cycle cannot beat max(slowest, CPU/cores) = {floor * 1e3:.1f} ms here "
        f"({cores} cores, other load not counted); cycle/floor {cycle / floor:.2f}"
    )
    ok = ratio <= BUDGET
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
