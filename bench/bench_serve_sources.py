"""`promsoc serve --ssh` on `promsoc demo --clusters N`: one viewer's first cycle over N grouped sources.

Run: .venv/bin/python bench/bench_serve_sources.py [--clusters 3] [--window S] [--late S]
The real `promsoc serve` (one source per cluster, all on the lab's one Prometheus, so the hub's
pollers ask them together: `prom.fanin`) and one OpenSSH viewer at 120x40 on the overview. It
prints, for the viewer's first cycle: the seconds until every tile in view has its status (no
WAITING), the seconds until Prometheus stops being asked (the cycle's sparklines included: no
request for --quiet s; the next cycle is a minute later, `refresh: 1m`), Prometheus's API
requests over that, and the hub's fan-in line logged at stop (merged requests; why batches went:
"window" is a question that waited out the fan-in window). `--window` sets that window
(`$PROMSOC_FANIN_WINDOW`; the default is `fanin.WINDOW`, 0.3 s): made long, a batch that waits
for members that never ask shows as a cycle that does not end. `--late` connects the viewer that
many seconds after the server listens (past `fanin.GRACE` the group's members are no longer
assumed to be asking together). `--stay` keeps the viewer on for the next cycles (the fan-in
line then counts them too).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.test_fanin_lab import api_requests  # noqa: E402
from tests.integration.test_serve_fanin_lab import served_console  # noqa: E402
from tests.serve.ptyclient import PtyClient  # noqa: E402

from promsoc.cli import build_parser  # noqa: E402
from promsoc.cli.demo import _options  # noqa: E402
from promsoc.lab import Lab  # noqa: E402


def ready(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return "LIVE" in lines[0] and "✓ OK" in text and "WAITING" not in text


def quiet_after(url: str, quiet: float, limit: float) -> tuple[float, int]:
    """(when Prometheus was last asked, as time.monotonic(); requests counted) once no request
    came for `quiet` s, or at `limit`."""
    last, count = time.monotonic(), api_requests(url)
    while time.monotonic() - last < quiet and time.monotonic() < limit:
        time.sleep(0.25)
        now = api_requests(url)
        if now != count:
            last, count = time.monotonic(), now
    return last, count


def one_viewer(lab: Lab, args: argparse.Namespace, folder: Path) -> None:
    env = {} if args.window is None else {"PROMSOC_FANIN_WINDOW": str(args.window)}
    served, ssh = served_console(lab, folder, coalesce=not args.apart, clusters=args.clusters, env=env)
    try:
        time.sleep(args.late)
        before = api_requests(lab.url)
        began = time.monotonic()
        client = PtyClient(ssh, 120, 40)
        try:
            try:
                client.wait_until(ready, timeout=args.timeout)
                tiles = f"{time.monotonic() - began:.2f} s"
            except AssertionError:
                marks = ("WAITING", "LIVE", "promsoc")  # a tile waiting, the header, a message of the server's
                shown = [line.strip() for line in client.lines() if any(mark in line for mark in marks)]
                tiles = f"not within {args.timeout:.0f} s ({' / '.join(shown[:3])})"
            last, count = quiet_after(lab.url, args.quiet, began + args.timeout + 60)
            window = "default" if args.window is None else f"{args.window:g} s"
            print(f"{args.clusters} sources{' apart' if args.apart else ''}, window {window}, "
                  f"viewer {args.late:.0f} s after listening: tiles in view {tiles}, Prometheus asked until "
                  f"{last - began:.2f} s, {count - before} requests", flush=True)  # fmt: skip
            if args.stay:
                time.sleep(args.stay)  # the next cycles (one a minute), their sparkline rounds
                print(f"  and {args.stay:.0f} s more: {api_requests(lab.url) - before} requests in all", flush=True)
            client.send("q")
            client.wait_exit()
        finally:
            client.close()
    finally:
        code = served.stop()
        fanin = [line.split("promsoc serve: ", 1)[-1].strip() for line in served.log if "fan-in:" in line]
        print(f"  {fanin[-1] if fanin else 'no fan-in line logged'} (serve exited {code})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--window", type=float, default=None, help="the fan-in window, s ($PROMSOC_FANIN_WINDOW)")
    parser.add_argument("--apart", action="store_true", help="every source asks alone (coalesce: false)")
    parser.add_argument("--late", type=float, default=0.0, help="seconds between listening and the viewer")
    parser.add_argument("--quiet", type=float, default=5.0, help="seconds without a request that end the cycle")
    parser.add_argument("--stay", type=float, default=0.0, help="seconds the viewer stays after the first cycle")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds the tiles may take")
    args = parser.parse_args()
    options = _options(build_parser().parse_args(["demo", "--no-alertmanager", "--clusters", str(args.clusters)]))
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = replace(options, cache_dir=Path(cache) if cache else None)
    with Lab(options) as lab, tempfile.TemporaryDirectory() as tmp:
        one_viewer(lab, args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
