"""What the alerts view at a past moment asks a shared Prometheus for one cluster's source.

A real Prometheus evaluates --clusters x --per rules, each an always-firing alert labelled with
its cluster, and --wide rules without the label (every cluster's). The past board of the source
`cluster="c-0"` asks `ALERTS` with the live rule's matchers (`alerts.SourceRule`: `cluster=~"c-0|"`);
beside it, the old query (`cluster="c-0"`, which lost the cluster-wide alerts) and the naive fix
(every `ALERTS` series, filtered afterwards). Printed: series returned, bytes on the wire and
the median latency of each, measured in one run.

    .venv/bin/python bench/bench_alerts_past.py [--clusters 100] [--per 20] [--wide 20] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from promsoc.alerts import SourceRule
from promsoc.lab.launcher import PrometheusServer


def rules(clusters: int, per: int, wide: int) -> dict[str, object]:
    split = [{"alert": f"Split{j}", "expr": "vector(1)", "labels": {"cluster": f"c-{i}"}}
             for i in range(clusters) for j in range(per)]  # fmt: skip
    fleet = [{"alert": f"Wide{j}", "expr": "vector(1)"} for j in range(wide)]
    return {"groups": [{"name": "bench", "interval": "5s", "rules": split + fleet}]}


def ask(url: str, promql: str, runs: int) -> tuple[int, int, float]:
    """(series, bytes, median seconds) of `promql` asked `runs` times."""
    times, size, series = [], 0, 0
    with httpx.Client(timeout=60) as http:
        for _ in range(runs):
            began = time.perf_counter()
            resp = http.post(f"{url}/api/v1/query", data={"query": promql})
            times.append(time.perf_counter() - began)
            resp.raise_for_status()
            size, series = len(resp.content), len(resp.json()["data"]["result"])
    return series, size, statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--per", type=int, default=20)
    parser.add_argument("--wide", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    total = args.clusters * args.per + args.wide
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.yml"
        path.write_text(yaml.safe_dump(rules(args.clusters, args.per, args.wide)))
        with PrometheusServer(rule_files=[path]) as prom:
            deadline = time.monotonic() + 120
            while ask(prom.url, "ALERTS", 1)[0] < total:
                if time.monotonic() > deadline:
                    raise SystemExit("the rules never all fired")
                time.sleep(1)
            wanted = SourceRule('cluster="c-0"').promql
            rows = [
                ("past board (SourceRule)", f"ALERTS{{{wanted}}}"),
                ("old: the source's selector", 'ALERTS{cluster="c-0"}'),
                ("naive: every ALERTS series", "ALERTS"),
            ]
            print(f"{total} ALERTS series ({args.clusters} clusters x {args.per}, {args.wide} without cluster)")
            print(f"{'query':<30}{'series':>8}{'bytes':>10}{'median ms':>11}")
            for name, promql in rows:
                series, size, median = ask(prom.url, promql, args.runs)
                print(f"{name:<30}{series:>8}{size:>10}{median * 1000:>11.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
