"""The querying half of the builder: asks "what ran where at T", sparse history or not."""

from __future__ import annotations

from dataclasses import dataclass

from promsoc.owners import PARENT_METRICS
from promsoc.prom.types import QueryClient, Sample
from promsoc.promql.topology import snapshot_queries, traffic_queries
from promsoc.tasks import gather_all
from promsoc.topology.build import (
    SNAPSHOT_TOLERANCE,
    build_topology,
    istio_edges,
    latest_snapshot,
    linkerd_edges,
)
from promsoc.topology.model import Edge, Topology


@dataclass(frozen=True)
class QueryOptions:
    """How far back the builder may reach for samples when history is sparse."""

    window: str = "3h"
    """Reach for the last kube-state-metrics snapshot when nothing is within the 5m lookback.

    Backfilled or down-sampled history may hold one snapshot per 5m, 30m or 1h; a plain instant
    query only sees samples within the lookback (5m), so coarse history would look empty.
    """
    resolution: str = "5m"
    """Subquery step: at most the server's lookback delta (5m by default) or samples slip by."""
    rate_window: str = "10m"
    """rate() window for traffic: two samples even at the backfill's 5m step."""
    wide_rate_window: str = "3h"
    """rate() window tried when the short one finds no traffic at all (coarse history)."""
    tolerance: float = SNAPSHOT_TOLERANCE


KSM_METRICS = ("kube_pod_info", "kube_pod_owner", "kube_node_info", *PARENT_METRICS)

async def fetch_snapshot(
    client: QueryClient, metric: str, at: float, options: QueryOptions
) -> tuple[list[Sample], float | None]:
    """The series of `metric` in its newest snapshot at or before `at`, and that snapshot's time."""
    plain, sparse = snapshot_queries(metric, options.window, options.resolution)
    result = await client.query(plain, at)
    samples = result.samples
    if not samples:
        # Nothing within the lookback: every sample in (at - lookback, at] is absent, so the
        # subquery's steps (aligned, at most `at`) miss nothing that a plain query would see.
        samples = (await client.query(sparse, at)).samples
    return latest_snapshot(samples, options.tolerance)


async def fetch_edges(client: QueryClient, at: float, options: QueryOptions) -> tuple[list[Edge], str | None]:
    """Workload -> workload traffic from Istio and Linkerd (Istio wins where both see a pair)."""
    for window in (options.rate_window, options.wide_rate_window):
        queries = traffic_queries(window)
        istio, linkerd = await gather_all(
            client.query(queries["istio_total"], at), client.query(queries["linkerd_total"], at)
        )
        if not istio.samples and not linkerd.samples:
            continue
        edges: dict[tuple[str, str], Edge] = {}
        meshes: list[str] = []
        if linkerd.samples:
            errors = await client.query(queries["linkerd_errors"], at)
            edges.update((e.key, e) for e in linkerd_edges(linkerd.samples, errors.samples))
            meshes.append("linkerd")
        if istio.samples:
            errors = await client.query(queries["istio_errors"], at)
            edges.update((e.key, e) for e in istio_edges(istio.samples, errors.samples))
            meshes.insert(0, "istio")
        return sorted(edges.values(), key=lambda e: e.key), "+".join(meshes)
    return [], None


async def load_topology(client: QueryClient, at: float, options: QueryOptions | None = None) -> Topology:
    """Query Prometheus for the map at `at` (all queries at once) and build it."""
    opts = options or QueryOptions()
    snapshots, (edges, mesh) = await gather_all(
        gather_all(*(fetch_snapshot(client, metric, at, opts) for metric in KSM_METRICS)),
        fetch_edges(client, at, opts),
    )
    (pods, pods_at), (owners, _), (nodes, _), *parents = snapshots
    parent_samples = [sample for samples, _ in parents for sample in samples]
    topo = build_topology(at, pods, owners, parent_samples, nodes, edges=edges, mesh=mesh, snapshot_at=pods_at)
    if pods_at is None:
        topo.warnings.append(f"no kube_pod_info within {opts.window} before this moment")
    elif at - pods_at > 330:
        minutes = (at - pods_at) / 60
        topo.warnings.append(f"sparse history: the newest kube-state-metrics snapshot is {minutes:.0f} min older")
    return topo
