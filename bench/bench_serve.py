"""`promsoc serve` with 1 and 5 SSH viewers on the lab: Prometheus requests, memory, key latency.

Run: .venv/bin/python bench/bench_serve.py [--seconds 60] [--refresh 5]
Targets (issue 12): Prometheus requests per minute with 5 live viewers at most 1.2x those with
one (one evaluation shared by all); memory per additional viewer; key latency for each viewer
while 5 are connected. Requests are Prometheus's own count (prometheus_http_requests_total of
the query APIs), read before and after each window; the viewers are OpenSSH's `ssh -tt` in
pseudo-terminals, so the keys travel the whole way.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve.conftest import SshSetup, keygen, start_serve  # noqa: E402
from tests.serve.ptyclient import PtyClient  # noqa: E402

from proccpu import cpu_seconds  # noqa: E402
from promsoc.lab import Lab, LabOptions  # noqa: E402
from relay import Relay  # noqa: E402

HELP = "Command palette"  # written when the help overlay opens
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connect(setup: SshSetup, n: int) -> PtyClient:
    client = PtyClient(setup.ssh("-tt", user=f"viewer{n}"), 120, 40)
    client.wait_for("✓ OK", 60)
    client.emulate = False  # from here on the bench reads raw bytes: pyte would cost more than the server
    return client


def visible(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


def key_latency(client: PtyClient, presses: int) -> list[float]:
    """`?` opens the help overlay (time until its text is written), Esc closes it (time until the
    repaint starts): from the key leaving the client to the console's answer arriving over SSH."""
    out = []
    for _ in range(presses):
        for key, needle in (("?", HELP), ("\x1b", "")):
            mark = len(client.raw)
            started = time.perf_counter()
            client.send(key)
            while True:
                fresh = bytes(client.raw[mark:])
                if fresh and needle in visible(fresh):
                    break
                if time.perf_counter() - started > 10:
                    raise TimeoutError(f"key {key!r} not answered in 10 s")
                time.sleep(0.001)
            out.append(time.perf_counter() - started)
            time.sleep(0.3)
    return out


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    return f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms ({len(ms)} keys)"


def start_server(folder: Path, name: str, prometheus: str, refresh: float, viewer: Path) -> SshSetup:
    config = folder / f"{name}.yaml"
    config.write_text(
        f"sources:\n  - name: lab\n    url: {prometheus}\n    refresh: {refresh}s\n"
        f"serve:\n  ssh:\n    authorized_keys: authorized_keys\n    host_key: host_key\n"
    )
    served = start_serve(["--config", str(config), "--ssh", "127.0.0.1:0"], expect=["ssh"])
    return SshSetup(served, folder, viewer, viewer, folder / "authorized_keys", folder / "host_key")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the request-counting window")
    parser.add_argument("--refresh", type=float, default=5.0, help="the source's refresh interval")
    parser.add_argument("--presses", type=int, default=10, help="key round trips per viewer")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    viewer = keygen(folder / "viewer")
    (folder / "authorized_keys").write_text((folder / "viewer.pub").read_text())
    with Lab(LabOptions(live_incidents=False, scrape_interval="5s")) as lab:
        # Two servers side by side, each behind its own counting relay: one with one viewer, one
        # with five, over the same window, so the machine's load is the same for both.
        relays = {n: Relay(lab.url) for n in (1, 5)}
        setups = {n: start_server(folder, f"serve{n}", relays[n].url, args.refresh, viewer) for n in (1, 5)}
        pids = {n: setup.served.proc.pid for n, setup in setups.items()}
        clients: dict[int, list[PtyClient]] = {1: [], 5: []}
        try:
            time.sleep(3)
            rss0 = {n: rss_kib(pid) for n, pid in pids.items()}
            for n in (1, 5):
                clients[n].extend(connect(setups[n], i) for i in range(1, n + 1))
            time.sleep(args.refresh * 3)
            rss = {n: rss_kib(pid) for n, pid in pids.items()}
            cpu = {n: cpu_seconds(pid) for n, pid in pids.items()}
            counts = {n: relay.count for n, relay in relays.items()}
            time.sleep(args.seconds)
            rate = {n: (relays[n].count - counts[n]) * 60.0 / args.seconds for n in (1, 5)}
            cpu = {n: (cpu_seconds(pid) - cpu[n]) / args.seconds for n, pid in pids.items()}
            load = os.getloadavg()[0]
            alone = key_latency(clients[1][0], args.presses)
            # the same console run locally in a pty, on the same machine at the same moment: the baseline
            tui = [sys.executable, "-m", "promsoc", "tui", "--config", str(folder / "serve1.yaml")]
            local = PtyClient(tui, 120, 40)
            try:
                local.wait_for("✓ OK", 60)
                local.emulate = False
                here = key_latency(local, args.presses)
            finally:
                local.send("q")
                local.close()
            latencies = [key_latency(c, args.presses) for c in clients[5]]
        finally:
            for client in clients[1] + clients[5]:
                client.send("q")
                client.close()
            for setup in setups.values():
                setup.served.stop()
            for relay in relays.values():
                relay.close()
    first = rss[1] - rss0[1]
    further = (rss[5] - rss0[5] - first) / 4
    print(f"refresh {args.refresh:g} s, {args.seconds:g} s window, SSH viewers on the overview (live), "
          f"load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"Prometheus query requests/min: 1 viewer {rate[1]:.1f}, 5 viewers {rate[5]:.1f}: "
          f"ratio {rate[5] / rate[1]:.2f} (target <= 1.2; 5 local consoles would be ~{5 * rate[1]:.0f})")  # fmt: skip
    print(f"server RSS: {rss0[1] / 1024:.1f} MiB with no viewer; the first viewer +{first / 1024:.1f} MiB, "
          f"each further viewer +{further / 1024:.1f} MiB")  # fmt: skip
    print(f"server CPU: 1 viewer {cpu[1]:.1%} of a core, 5 viewers {cpu[5]:.1%}")
    print(f"the console run locally (no SSH): key -> screen {summary(here)}")
    print(f"one viewer alone: key -> screen {summary(alone)}")
    for n, samples in enumerate(latencies, 1):
        print(f"viewer {n} of 5 connected: key -> screen {summary(samples)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
