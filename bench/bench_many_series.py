"""The console against 5,000 series per answer: key latency in a real pseudo-terminal.

Run: .venv/bin/python bench/bench_many_series.py [--series 5000] [--presses 30] [--gap 0.1] [--jitter 0]
Budget (issue 15): keys answered within 50 ms (p95) with 5,000 series per answer. The shared
machine's load moves the tail a lot: compare runs at a similar load average (printed).

A loopback server stands in for a Prometheus of a 5,000-pod cluster: every instant query and
every range query answers 5,000 series (240 points each for ranges), except the sparklines'
`topk(1, …)`, `… and on (…) topk(1, …)` and `count(…)` queries, which it answers as Prometheus
would: one series. A second run serves 5,000 series for those too (a server that ignores topk),
the worst case the console's off-loop maths and the client's byte cap must absorb. Each `[`/`]`
moves the time cursor, so every key also starts a poll cycle: evaluation and sparklines.

Keys are `--gap` s apart (plus a seeded draw of up to `--jitter` s). The console starts the moved
cursor's poll 0.1 s after the last move and drops a poll in flight when the cursor moves again
(`tui.poller`): at the default gap most polls are dropped early, as for someone stepping through
time; `--gap 0.1 --jitter 0.8` lets polls finish between keys, so keys land at every phase of one
(parsing, sparklines arriving, tiles repainting).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import random
import statistics
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench_console import FIRST, Terminal, key_latency

STEPS = 240


class ClusterServer:
    """Answers the Prometheus HTTP API with `series` series per answer (see the module docstring)."""

    def __init__(self, series: int, honour_topk: bool) -> None:
        rng = random.Random(1)
        now = time.time()
        labels = [{"namespace": f"ns{i % 20}", "workload": f"w{i % 400}", "workload_kind": "Deployment",
                   "pod": f"pod-{i}", "host": "h", "path": "/"} for i in range(series)]  # fmt: skip
        stamps = [now - 3600 + 15 * i for i in range(STEPS)]
        self.vector = self._envelope("vector", [
            {"metric": m, "value": [now, f"{rng.random() * 10:.3f}"]} for m in labels])  # fmt: skip
        self.matrix = self._envelope("matrix", [
            {"metric": m, "values": [[t, f"{rng.random() * 10:.3f}"] for t in stamps]} for m in labels])  # fmt: skip
        self.one = self._envelope("matrix", [
            {"metric": labels[0], "values": [[t, f"{rng.random() * 10:.3f}"] for t in stamps]}])  # fmt: skip
        self.honour_topk = honour_topk
        self.bytes_sent = 0  # answers written whole (one the console dropped mid-way is not)
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length).decode() if length else urllib.parse.urlsplit(self.path).query
                query = urllib.parse.parse_qs(form).get("query", [""])[0]
                body = server.body(self.path, query)
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                server.bytes_sent += len(body)

            do_GET = do_POST = _answer

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # the console opens many connections at once

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a query cancelled by the next key press resets its connection: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _envelope(kind: str, result: list[dict[str, object]]) -> bytes:
        return json.dumps({"status": "success", "data": {"resultType": kind, "result": result}}).encode()

    def body(self, path: str, query: str) -> bytes:
        if "query_range" not in path:
            return self.vector
        if query.startswith("vector(") or (self.honour_topk and (query.startswith("count(") or "topk(1," in query)):
            return self.one
        return self.matrix  # every series of the cluster

    def close(self) -> None:
        self.server.shutdown()


def run(series: int, honour_topk: bool, presses: int, gap: float, jitter: float) -> tuple[list[float], int, int]:
    server = ClusterServer(series, honour_topk)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(f"sources:\n  - name: big\n    url: {server.url}\n    refresh: 5\n    timeout: 60\n")
        term = Terminal(config)
        try:
            term.wait_for(FIRST, 30.0)
            term.pump(15.0)  # the first cycle's evaluation and sparklines land
            sent, asked = server.bytes_sent, server.requests
            timings = key_latency(term, presses, gap, jitter)
            sent, asked = server.bytes_sent - sent, server.requests - asked
        finally:
            term.stop()
            server.close()
    return timings, sent, asked


def report(name: str, timings: list[float], sent: int, asked: int) -> float:
    p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"{name}: key to screen median {statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"worst {max(timings) * 1000:.1f} ms (budget 50 ms: {'OK' if p95 <= 0.05 else 'OVER'}); "
        f"while the keys were pressed {asked} requests, {sent / 1e6:,.0f} MB of answers written whole"
    )
    return p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=5000, help="series per answer")
    parser.add_argument("--presses", type=int, default=30, help="keys to time per run")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between a key's answer and the next key")
    parser.add_argument("--jitter", type=float, default=0.0, help="up to this many seconds more per gap (seeded)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start; gap {args.gap} s + up to {args.jitter} s")
    keys = (args.presses, args.gap, args.jitter)
    honest = report(f"{args.series} series, Prometheus-like topk", *run(args.series, True, *keys))
    hostile = report(f"{args.series} series, server ignoring topk", *run(args.series, False, *keys))
    print(f"p95 ratio, topk ignored / honoured: {hostile / max(honest, 1e-9):.1f}x; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
