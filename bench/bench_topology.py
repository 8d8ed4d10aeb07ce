"""Topology at scale: model build + render of 5,000 pods / 200 nodes / 800 workloads, and RSS.

Run: .venv/bin/python bench/bench_topology.py [--pods N --nodes N --workloads N --runs N]
     [--tui]  also mount the console screen headless, page through the workload view, time keys
     [--lab]  also query a real lab Prometheus scaled to --pods/--nodes (1 day of history)
     [--console URL]  also run the whole console (detectors + topology mode) on a Prometheus
Budget (issue 6): build + render <= 300 ms; the process stays under 250 MB RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

from promsoc.topology.build import build_topology, istio_edges
from promsoc.topology.diff import diff_topology
from promsoc.topology.export import to_json
from promsoc.topology.render import as_text, render_nodes, render_traffic, render_workloads
from promsoc.topology.synthetic import SyntheticCluster, generate

BUDGET_MS = 300.0
RSS_BUDGET_MB = 250.0


def rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def build_and_render(cluster: SyntheticCluster) -> tuple[float, float, int]:
    """(build ms, render ms, lines) for one pass: samples -> model -> the three views."""
    start = time.perf_counter()
    edges = istio_edges(cluster.istio_total, cluster.istio_errors)
    topo = build_topology(
        0.0,
        cluster.pod_info,
        cluster.pod_owner,
        cluster.rs_owner,
        cluster.node_info,
        edges,
        "istio",
    )
    built = time.perf_counter()
    lines = render_nodes(topo) + render_workloads(topo) + render_traffic(topo)
    text = as_text(lines)
    done = time.perf_counter()
    assert len(topo.pods) == len(cluster.pod_info) and text
    return (built - start) * 1000, (done - built) * 1000, len(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--workloads", type=int, default=800)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tui", action="store_true", help="also time the console screen")
    parser.add_argument("--lab", action="store_true", help="also query a scaled lab Prometheus")
    parser.add_argument("--console", metavar="URL", help="also run the whole console on URL")
    args = parser.parse_args()
    cluster = generate(args.pods, args.nodes, args.workloads, seed=7)
    later = generate(args.pods, args.nodes, args.workloads, seed=7, rolled=args.workloads // 4)
    samples = len(cluster.pod_info) * 2 + len(cluster.rs_owner) + len(cluster.node_info)
    runs = [build_and_render(cluster) for _ in range(args.runs)]
    build_ms = statistics.median(r[0] for r in runs)
    render_ms = statistics.median(r[1] for r in runs)
    total_ms = statistics.median(r[0] + r[1] for r in runs)
    worst_ms = max(r[0] + r[1] for r in runs)

    def model(c: SyntheticCluster, at: float):  # type: ignore[no-untyped-def]
        edges = istio_edges(c.istio_total, c.istio_errors)
        return build_topology(at, c.pod_info, c.pod_owner, c.rs_owner, c.node_info, edges, "istio")

    before, after = model(cluster, 0.0), model(later, 86400.0)
    start = time.perf_counter()
    diff = diff_topology(before, after)
    marked = render_nodes(after, diff) + render_workloads(after, diff)
    diff_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    payload = json.dumps(to_json(after, "bench", diff))
    json_ms = (time.perf_counter() - start) * 1000
    print(
        f"topology bench: {args.pods} pods, {args.nodes} nodes, {args.workloads} workloads, "
        f"{len(before.edges)} edges, {samples} kube-state-metrics samples, {args.runs} runs"
    )
    print(f"  model build        median {build_ms:7.1f} ms")
    print(f"  render (3 views)   median {render_ms:7.1f} ms  ({runs[0][2]} lines)")
    print(
        f"  build + render     median {total_ms:7.1f} ms  worst {worst_ms:.1f} ms  "
        f"(budget {BUDGET_MS:.0f} ms, {total_ms / BUDGET_MS:.0%} of it)"
    )
    print(
        f"  diff + marked views       {diff_ms:7.1f} ms  ({len(diff.added_pods)} added, "
        f"{len(diff.removed_pods)} removed, {len(diff.moved_pods)} moved, {len(marked)} lines)"
    )
    print(f"  JSON export               {json_ms:7.1f} ms  ({len(payload) / 1e6:.1f} MB)")
    if args.tui:
        from bench_topology_tui import bench_screen

        bench_screen(after)
    if args.lab:
        from bench_topology_tui import bench_lab

        bench_lab(args.pods, args.nodes)
    if args.console:
        from bench_topology_tui import bench_console

        bench_console(args.console)
    peak = rss_mb()
    ok = total_ms <= BUDGET_MS and peak < RSS_BUDGET_MB
    print(f"  peak RSS                  {peak:7.1f} MB  (budget {RSS_BUDGET_MB:.0f} MB)")
    print("  result: " + ("within budget" if ok else "OVER BUDGET"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
