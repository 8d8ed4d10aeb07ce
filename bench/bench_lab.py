"""Lab start-up: cold (build the history) and warm (reuse the cache), measured in one run.

    .venv/bin/python bench/bench_lab.py

Prints seconds from nothing to a ready Prometheus answering a query, the number of backfilled
samples, and the warm/cold ratio. The issue's target: cold start of the default cluster in 15 s
or less on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from promsoc.lab import Lab, LabOptions


def _answer(url: str) -> float:
    q = urllib.parse.urlencode({"query": "count(kube_pod_info)"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=30) as resp:  # noqa: S310
        return float(json.load(resp)["data"]["result"][0]["value"][1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        timings = []
        for label in ("cold", "warm"):
            began = time.monotonic()
            with Lab(LabOptions(cache_dir=Path(cache), live_incidents=False)) as lab:
                pods = _answer(lab.url)
                elapsed = time.monotonic() - began
                timings.append(elapsed)
                print(f"{label:5} start to first answer: {elapsed:6.2f} s  "
                      f"(pods now: {pods:.0f}, cache hit: {lab.cache_hit})")
        load = os.getloadavg()[0]
        print(f"warm / cold: {timings[1] / timings[0]:.3f}   cores: {os.cpu_count()}   "
              f"load average before: {load:.2f}")
        print(f"target cold <= 15 s: {'PASS' if timings[0] <= 15 else 'FAIL'} ({timings[0]:.1f} s)")


if __name__ == "__main__":
    main()
