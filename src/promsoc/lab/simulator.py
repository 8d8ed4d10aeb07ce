"""The simulated cluster's exporters: backfill history as OpenMetrics, then serve live values."""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from promsoc.lab import families_control, families_falco, families_k8s, families_traffic
from promsoc.lab.cluster import DAY, HOUR, Cluster, build_cluster
from promsoc.lab.scenario import Scenario, build_scenario
from promsoc.lab.series import LIVE, TOPOLOGY, TRAFFIC, Family, Series, constant, render_series, stable_seed

FINE_STEP = 30  # the last `fine_hours` of history (the default lab's incident window) keep 30 s samples
TOPOLOGY_STEP = 300  # within the 5-minute lookback: instant queries always see a sample
SPARSE_STEP = 900  # topology older than the traffic window is sparse, as after downsampling
TRAFFIC_STEP = 120  # two samples in every 5-minute rate() window

FAMILIES: dict[str, Family] = {
    f.name: f for f in (*families_k8s.FAMILIES, *families_traffic.FAMILIES)
}


@dataclass(frozen=True)
class SimOptions:
    """What to simulate. The defaults are the demo's cluster."""

    pods: int = 120
    nodes: int = 6
    history_days: float = 29.0
    traffic_days: float = 8.0
    live_incidents: bool = True
    certmanager: bool = True
    falcosidekick_legacy: bool = False
    ingress_status_classes: bool = False  # ingress-nginx run with --report-status-classes
    traffic: bool = True  # False: only the topology families (for the scale benchmark)
    seed: int = 7
    fine_hours: float = 10.0  # the last hours of history at FINE_STEP (the 8 h of incidents and a margin)
    clusters: int = 1  # > 1: that many clusters behind one Prometheus, told apart by a `cluster` label


def cluster_name(index: int) -> str:
    """The `cluster` label of the lab's index-th cluster (0-based): cluster-1, cluster-2, ..."""
    return f"cluster-{index + 1}"


def family_of(name: str) -> str:
    """The metric family a sample name belongs to (histograms: strip the suffix)."""
    if name in FAMILIES:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in FAMILIES:
            return name[: -len(suffix)]
    return name


class Simulator:
    """All series of the simulated cluster, their backfill, and their live state."""

    def __init__(
        self,
        anchor: float,
        options: SimOptions,
        live_start: float | None = None,
        opening: float | None = None,
    ) -> None:
        self.anchor = anchor
        self.options = options
        live = options.live_incidents
        self.scenarios: dict[str, Scenario] = {}
        """Each cluster's scenario by its `cluster` label (one cluster: the key is cluster-1)."""
        self.series: list[Series] = []
        for index in range(max(1, options.clusters)):
            cluster = build_cluster(
                anchor, history=options.history_days * DAY, pods=options.pods, nodes=options.nodes,
                seed=options.seed + index,
            )
            # every cluster runs the scripted incidents, rotated so that each has its own at any
            # moment; the demo's opening attack is the first cluster's
            scenario = build_scenario(cluster, anchor, live_start if live else None,
                                      opening if live and index == 0 else None, rotation=index)
            self.scenarios[cluster_name(index)] = scenario
            series = self._build_series(cluster, scenario)
            if options.clusters > 1:
                for one in series:
                    one.relabel({**one.labels, "cluster": cluster_name(index)})
            self.series += series
        self.scenario: Scenario = self.scenarios[cluster_name(0)]
        self.cluster: Cluster = self.scenario.cluster
        self.series.sort(key=lambda x: (family_of(x.name), x.name, x.text, x.start))
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def _build_series(self, c: Cluster, s: Scenario) -> list[Series]:
        o = self.options
        series = families_k8s.kube_state_metrics(c, s)
        if o.traffic:
            series += families_control.apiserver(c, s)
            if o.certmanager:
                series += families_control.cert_manager(c, s)
            series += families_k8s.kubelet_volumes(c, s)
            series += families_k8s.cadvisor(c, s)
            series += families_traffic.ingress_nginx(c, s, status_classes=o.ingress_status_classes)
            series += families_traffic.istio(c, s)
            series += families_traffic.linkerd(c, s)
            series += families_falco.falco(c, s)
            series += families_falco.falcosidekick(c, s, legacy=o.falcosidekick_legacy)
        _missed_scrapes(series, s)
        return series

    # ---- backfill -------------------------------------------------------------------------
    def grid(self, schedule: str, t_from: float, t_to: float) -> list[int]:
        """Sample times of a schedule within [t_from, t_to], aligned to absolute multiples."""
        if schedule == LIVE:
            return []
        begin = self.anchor - (self.options.history_days if schedule == TOPOLOGY
                               else self.options.traffic_days) * DAY
        # the last fine_hours before the end of what is written: the history's, or the gap's that
        # a cached history is topped up with (a 6-hour gap of a scaled lab is coarse but its last hour)
        fine_from = max(self.anchor, t_to) - self.options.fine_hours * HOUR
        # (step, from, until): sparse old topology, then the coarse step, then the fine one
        phases: list[tuple[int, float, float]] = []
        if schedule == TOPOLOGY:
            sparse_until = self.anchor - self.options.traffic_days * DAY
            phases += [(SPARSE_STEP, begin, sparse_until), (TOPOLOGY_STEP, sparse_until, fine_from)]
        else:
            phases += [(TRAFFIC_STEP, begin, fine_from)]
        phases.append((FINE_STEP, fine_from, math.inf))
        out: list[int] = []
        for step, since, until in phases:
            t = math.ceil(max(t_from, since) / step) * step
            stop = min(until, t_to + 1)
            while t < stop:
                out.append(t)
                t += step
        return out

    def write_backfill(self, out: TextIO, t_from: float, t_to: float,
                       series: Iterable[Series] | None = None) -> int:
        """Write OpenMetrics samples for [t_from, t_to] (each series ascending); return the count.

        Counter state carries across calls, so a later call continues where this one stopped.
        """
        grids = {sched: self.grid(sched, t_from, t_to) for sched in (TOPOLOGY, TRAFFIC)}
        count = 0
        for s in self.series if series is None else series:
            if s.schedule == LIVE:
                continue
            grid = grids[s.schedule]
            lo = bisect.bisect_left(grid, s.start)
            hi = bisect.bisect_left(grid, s.end)
            if lo >= hi:
                continue
            times = grid[lo:hi]
            if s.hidden is not None:
                hidden = s.hidden
                if not s.counter:
                    times = [t for t in times if not hidden(t)]
            missed: set[int] = set()
            for gap_from, gap_until in s.gaps:
                missed.update(times[bisect.bisect_left(times, gap_from):bisect.bisect_left(times, gap_until)])
            if missed and not s.counter:
                times = [t for t in times if t not in missed]
            out.write(self._lines(s, times, missed))
            count += len(times)
        return count

    def _lines(self, s: Series, times: list[int], missed: set[int] | frozenset[int] = frozenset()) -> str:
        # Prometheus drops empty-valued labels on ingestion; leaving them out of the backfill
        # gives the same series and spares promtool, whose cost grows with the label bytes
        prefix = render_series(s.name, {k: v for k, v in s.labels.items() if v}) + " "
        fn = s.fn
        if not s.counter:
            if isinstance(fn, constant):
                value = f"{fn.value:.12g} "
                return "".join([f"{prefix}{value}{t}\n" for t in times])
            return "".join([f"{prefix}{fn(t):.12g} {t}\n" for t in times])
        if s.key in self._state:
            last_t, acc = self._state[s.key]
        else:
            acc = fn(times[0]) * 86400 * (1 + stable_seed(s.key) % 5) if s.start == -math.inf else s.initial
            last_t = times[0]
        parts = []
        hidden = s.hidden
        integer = s.integer
        for t in times:
            acc += fn((last_t + t) / 2) * (t - last_t)  # the rate in the middle of (last_t, t]
            last_t = t
            if (hidden is not None and hidden(t)) or t in missed:
                continue
            if integer:
                parts.append(f"{prefix}{int(acc)} {t}\n")
            else:
                parts.append(f"{prefix}{acc:.6f} {t}\n")
        self._state[s.key] = (float(last_t), acc)
        return "".join(parts)

    # ---- live -----------------------------------------------------------------------------
    def exposition(self, now: float) -> str:
        """The Prometheus text exposition of every series present at `now`."""
        with self._lock:
            lines: list[str] = []
            current_family = ""
            for s in self.series:
                if not s.present(now):
                    if s.counter and s.start <= now < s.end:
                        self._advance(s, now)
                    continue
                family = family_of(s.name)
                if family != current_family:
                    current_family = family
                    meta = FAMILIES.get(family)
                    if meta is not None:
                        lines.append(f"# HELP {family} {meta.help}")
                        lines.append(f"# TYPE {family} {meta.type}")
                value = self._advance(s, now) if s.counter else s.fn(now)
                if s.counter and s.integer:
                    lines.append(f"{s.text} {int(value)}")
                else:
                    lines.append(f"{s.text} {value:.12g}")
            return "\n".join(lines) + "\n"

    def _advance(self, s: Series, now: float) -> float:
        last_t, acc = self._state.get(s.key, (now, s.initial))
        if now > last_t:
            acc += s.fn((last_t + now) / 2) * (now - last_t)
            self._state[s.key] = (now, acc)
        else:
            self._state.setdefault(s.key, (last_t, acc))
        return acc

    def state(self) -> dict[str, tuple[float, float]]:
        return dict(self._state)

    def load_state(self, state: dict[str, tuple[float, float]]) -> None:
        self._state = dict(state)


def _missed_scrapes(series: list[Series], scenario: Scenario) -> None:
    """Exporters missing a few scrapes: kube-state-metrics 3, worker-1's kubelet 4, ingress-nginx 2."""
    at = scenario.incident("exporters-miss-scrapes").start
    for s in series:
        job = s.labels.get("job")
        if job == "kube-state-metrics":
            s.gaps = ((at + 30, at + 120),)
        elif job == "kubelet" and s.labels.get("node") == "worker-1":
            s.gaps = ((at + 60, at + 180),)
        elif job == "ingress-nginx":
            s.gaps = ((at + 90, at + 150),)


__all__ = ["FAMILIES", "SimOptions", "Simulator", "cluster_name", "family_of"]
