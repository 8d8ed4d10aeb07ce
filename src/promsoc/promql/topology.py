"""The topology's PromQL: kube-state-metrics snapshots at a moment, and mesh traffic per workload pair."""

from __future__ import annotations

_ISTIO_SRC_DST = "source_workload_namespace, source_workload, destination_workload_namespace, destination_workload"
_LINKERD_SRC_DST = (
    "namespace, deployment, statefulset, daemonset, "
    "dst_namespace, dst_deployment, dst_statefulset, dst_daemonset, dst_service"
)


def snapshot_queries(metric: str, window: str, resolution: str) -> tuple[str, str]:
    """The plain and the sparse-history query for one kube-state-metrics metric.

    `window` is how far back the sparse one reaches, `resolution` its subquery step. Both return
    each series' last-seen sample time as its value, so that the pure side can keep only
    the newest snapshot: `last_over_time(m[W])` alone would let a pod that vanished inside W linger.
    """
    return (
        f"timestamp({metric})",
        f"max_over_time(timestamp({metric})[{window}:{resolution}])",
    )


def traffic_queries(window: str) -> dict[str, str]:
    """Edge queries per mesh: total rate (split by mTLS) and failed rate per workload pair."""
    return {
        "istio_total": (
            f"sum by ({_ISTIO_SRC_DST}, connection_security_policy) "
            f'(rate(istio_requests_total{{reporter="destination"}}[{window}]))'
        ),
        "istio_errors": (
            f"sum by ({_ISTIO_SRC_DST}) "
            '(rate(istio_requests_total{reporter="destination", response_code=~"5.."}'
            f"[{window}]))"
        ),
        "linkerd_total": (f'sum by ({_LINKERD_SRC_DST}, tls) (rate(request_total{{direction="outbound"}}[{window}]))'),
        "linkerd_errors": (
            f"sum by ({_LINKERD_SRC_DST}) "
            f'(rate(response_total{{direction="outbound", classification="failure"}}[{window}]))'
        ),
    }
