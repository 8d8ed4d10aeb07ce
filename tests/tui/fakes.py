"""A deterministic Backend for Pilot, snapshot and benchmark runs (no network, fixed clock)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from promsoc.alerts import AlertsBoard, board
from promsoc.detectors.results import DetectorResult, Finding, Status
from promsoc.detectors.timeline import Interval, TimelineResult
from promsoc.prom.alertmanager import Alert, Matcher, Silence
from promsoc.topology.model import Topology
from promsoc.topology.synthetic import churn_pair
from promsoc.tui.backend import (
    AlertmanagerInfo,
    BandPoints,
    Chart,
    Delivery,
    DetectorInfo,
    FalcoSummary,
    History,
    RuleCount,
    Silencer,
)

NOW = 1_795_835_520.0  # 2026-11-28 03:12:00 UTC: the fixed clock of every snapshot

HOSTILE = {
    "markup": "[@click=app.quit]click me[/] [b]bold[/b]",
    "ansi": "\x1b[31mred\x1b[0m\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",
    "rtl": "\u202eevil\u202c.exe",
    "long": "A" * 10_000,
}

DETECTORS = [
    DetectorInfo(
        "ingress-bruteforce",
        "Brute force: high share of 403 on an ingress path",
        "ingress",
        "high",
        'sum by (host, path) (rate(nginx_ingress_controller_requests{status="403"}[5m]))',
        "A high share of refused requests on one path is a password spray.",
        ("T1110",),
        "Check the source IPs in the ingress logs; rate-limit or block.",
        unit="ratio",
    ),
    DetectorInfo(
        "ingress-fingerprinting",
        "Fingerprinting: high share of 404",
        "ingress",
        "medium",
        "share_404 > 0.3",
        "Scanners probe for paths that do not exist.",
        ("T1595",),
        "Look.",
        unit="ratio",
    ),
    DetectorInfo(
        "container-cpu-outlier",
        "A pod using far more CPU than its siblings",
        "workload",
        "high",
        "cpu_ratio > 3",
        "Crypto-mining shows as one pod burning CPU.",
        ("T1496",),
        "Exec into the pod; compare the image digest.",
        unit="cores",
    ),
    DetectorInfo(
        "cert-expiry-certmanager",
        "cert-manager certificates expiring within 7 days",
        "certificates",
        "medium",
        "expiry < 7d",
        "Expiring certificates break TLS.",
        (),
        "Renew.",
        unit="seconds_until_expiry",
    ),
    DetectorInfo(
        "falco-blind",
        "Falco dropping events or gone",
        "falco",
        "critical",
        "drops > 0",
        "Dropped events blind Falco.",
        ("T1562",),
        "Check the Falco pods.",
        unit="count",
    ),
    DetectorInfo(
        "rbac-cluster-change",
        "Writes to ClusterRoles / ClusterRoleBindings",
        "apiserver",
        "high",
        "writes > 0",
        "Possible insider.",
        ("T1098",),
        "Review the audit log.",
        unit="requests",
    ),
]

STATUSES = {
    "ingress-bruteforce": Status.FIRING,
    "ingress-fingerprinting": Status.OK,
    "container-cpu-outlier": Status.FIRING,
    "cert-expiry-certmanager": Status.NO_DATA,
    "falco-blind": Status.ERROR,
    "rbac-cluster-change": Status.OK,
}


def findings_for(detector: str, hostile: bool) -> list[Finding]:
    if detector == "ingress-bruteforce":
        found = [
            Finding({"host": "shop.example.com", "path": "/login", "namespace": "shop"}, 0.62),
            Finding({"host": "api.example.com", "path": "/auth", "namespace": "api"}, 0.41),
        ]
        if hostile:
            found.append(
                Finding(
                    {
                        "host": HOSTILE["markup"],
                        "path": HOSTILE["ansi"],
                        "namespace": HOSTILE["rtl"],
                        "pod": HOSTILE["long"],
                    },
                    0.99,
                )
            )
        return found
    if detector == "container-cpu-outlier":
        return [Finding({"namespace": "batch", "pod": "miner-5d9f-x2x9q", "workload": "batch"}, 4.2)]
    return []


def alert_board() -> AlertsBoard:
    """A fixed Alertmanager board: promsoc's own alerts, a silenced one, an inhibited one."""
    sqli = {"alertname": "PromsocIngressSqli", "severity": "high", "detector": "ingress-sqli",
            "category": "ingress", "host": "shop.example.com"}  # fmt: skip
    alerts = [
        Alert({**sqli, "path": "/search"}, {"summary": "High share of 500 on an ingress path"}, "active", NOW - 720),
        Alert({**sqli, "path": "/cart"}, {"summary": "High share of 500 on an ingress path"}, "active", NOW - 300),
        Alert({"alertname": "PromsocContainerCpuOutlier", "severity": "high", "detector": "container-cpu-outlier",
               "namespace": "batch", "pod": "miner-5d9f-x2x9q"}, {}, "active", NOW - 1500),
        Alert({"alertname": "KubeNodeNotReady", "severity": "warning", "node": "worker-3"},
              {"summary": "worker-3 has been unready for more than 15 minutes"}, "suppressed", NOW - 5400,
              silenced_by=("6b1f3c2a-0d4e-4f7a-9c1b-2e8d5a7f9e01",)),
        Alert({"alertname": "TargetDown", "severity": "info", "job": "node-exporter"}, {}, "suppressed",
              NOW - 600, inhibited_by=("a1b2c3d4",)),
    ]  # fmt: skip
    silences = [
        Silence("6b1f3c2a-0d4e-4f7a-9c1b-2e8d5a7f9e01", (Matcher("alertname", "KubeNodeNotReady"),
                Matcher("node", "worker-3")), "oncall-alice", "node drain for kernel update, ticket OPS-88",
                NOW - 5000, NOW + 7200, "active"),
    ]  # fmt: skip
    return board(alerts, silences)


class FakeBackend:
    """Statuses can be changed per test; `delay` makes every query slow; `down` makes it fail.

    The topology is `maps` = (before, after): `after` for moments within the hour before NOW,
    `before` for older ones (the synthetic churn pair unless given); `findings` overrides a
    firing detector's findings.
    """

    def __init__(
        self,
        sources: Sequence[str] = ("demo",),
        *,
        hostile: bool = False,
        delay: float = 0.0,
        maps: tuple[Topology, Topology] | None = None,
    ) -> None:
        self._sources = list(sources)
        self.maps = maps or churn_pair()
        self.topology_calls: list[tuple[str, float]] = []
        self.findings: dict[str, list[Finding]] = {}
        self.hostile = hostile
        self.delay = delay
        self.down: str | None = None
        self.down_for: set[str] = set()  # sources that refuse, while the others answer
        self.statuses = dict(STATUSES)
        self.evaluated_at: list[float] = []
        self.timelines: list[tuple[str, float, float]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.alert_board: AlertsBoard | None = None  # set: the sources share one Alertmanager
        self.past_board: AlertsBoard | None = None
        self.alerts_down: str | None = None

    @property
    def sources(self) -> Sequence[str]:
        return self._sources

    def detectors(self) -> list[DetectorInfo]:
        return list(DETECTORS)

    async def _wait(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.down:
            raise ConnectionError(self.down)

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        await self._wait()
        if source in self.down_for:
            raise ConnectionError(f"unreachable: {source} refused the connection")
        self.evaluated_at.append(at)
        out = []
        for info in DETECTORS:
            status = self.statuses[info.id]
            out.append(
                DetectorResult(
                    source=source,
                    detector=info.id,
                    title=info.title,
                    category=info.category,
                    severity=info.severity,
                    status=status,
                    evaluated_at=at,
                    findings=self.findings.get(info.id, findings_for(info.id, self.hostile))
                    if status is Status.FIRING
                    else [],
                    error="query failed: 503 Service Unavailable" if status is Status.ERROR else None,
                )
            )
        return out

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        await self._wait()
        points = [(at - window + i * 60, 0.2 + 0.1 * math.sin(i / 5) + (0.5 if i > 52 else 0)) for i in range(61)]
        upper = [(t, 0.45) for t, _ in points]
        return History(points, BandPoints("time band", [], upper), 0.3)

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        await self._wait()
        step = window / 120
        points = [(at - window + i * step, 0.2 + 0.1 * math.sin(i / 8) + (0.4 if i > 100 else 0)) for i in range(121)]
        band = BandPoints("time band", [(t, 0.05) for t, _ in points], [(t, 0.45) for t, _ in points])
        seasonal = BandPoints(
            "seasonal band",
            [],
            [(t, 0.5 + 0.05 * math.cos(i / 10)) for i, (t, _) in enumerate(points)],
        )
        return Chart(points, [band, seasonal], 0.3, points[101][0])

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        await self._wait()
        xs = [at - window + i * 300 for i in range(13)]
        return FalcoSummary(
            by_rule={
                "Terminal shell in container": [(t, float(i % 4)) for i, t in enumerate(xs)],
                "Read sensitive file untrusted": [(t, float(i // 3)) for i, t in enumerate(xs)],
            },
            by_priority={
                "Critical": [(t, float(i // 3)) for i, t in enumerate(xs)],
                "Warning": [(t, float(i % 4)) for i, t in enumerate(xs)],
            },
            top_rules=[
                RuleCount("Read sensitive file untrusted", 12, 1, 0),
                RuleCount(HOSTILE["markup"] if self.hostile else "Terminal shell in container", 4, 3, 5),
            ],
            deliveries=[Delivery("slack", 40, 0), Delivery("loki", 12, 3)],
            dropped_events=0,
            instances=6,
        )

    async def topology(self, source: str, at: float) -> Topology:
        self.topology_calls.append((source, at))
        await self._wait()
        before, after = self.maps
        return after if at > NOW - 3600 else before

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        if self.alert_board is None:
            return None
        return AlertmanagerInfo("http://alertmanager.example:9093", tuple(self._sources), False, "oncall")

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        if self.alerts_down:
            raise ConnectionError(self.alerts_down)
        board = self.alert_board if at is None else self.past_board
        if board is None:
            raise LookupError("no Alertmanager")
        return board

    def silencer(self, source: str) -> Silencer | None:
        return None

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        """Each firing detector fired twice before NOW (the latest still running), the rest not."""
        await self._wait()
        self.timelines.append((source, start, end))
        out = []
        for info in DETECTORS:
            status = self.statuses[info.id]
            found: list[Interval] = []
            if status is Status.FIRING:
                labels = [f.labels for f in findings_for(info.id, self.hostile)]
                values = [f.value for f in findings_for(info.id, self.hostile)]
                for began, ended in ((NOW - 5400, NOW - 4200), (NOW - 1500, NOW - 60)):
                    if ended >= start and began <= end:
                        found.append(Interval(max(began, start), min(ended, end), max(values), min(values), labels))
            shown = Status.FIRING if found else (Status.OK if status is Status.FIRING else status)
            out.append(TimelineResult(source, info.id, info.title, info.category, info.severity, info.unit,
                                      shown, found, "query failed: 503" if status is Status.ERROR else None))
        return out

    async def aclose(self) -> None:
        return None
