"""The live backend: the console's Backend bound to Prometheus (one client per source) and the domain."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from promsoc import anomaly
from promsoc.config import Settings
from promsoc.detectors import falco_panels
from promsoc.detectors.engine import chart_queries, evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult
from promsoc.detectors.spec import Detector
from promsoc.prom.client import PromClient
from promsoc.prom.sources import Sources
from promsoc.prom.types import RangeSeries
from promsoc.topology.model import Topology
from promsoc.topology.queries import load_topology
from promsoc.tui.backend import BandPoints, Chart, DetectorInfo, FalcoSummary, History
from promsoc.tui.falco_summary import summarise
from promsoc.tui.series_math import envelope, latest_run_start, moments, steps_for


@dataclass(frozen=True)
class ConsoleOptions:
    """The settings the console itself reads (the rest belongs to the client and detectors)."""

    theme: str | None
    interval: float
    rotate_every: float
    views: tuple[str, ...]
    handoff_dir: str | None
    intervals: dict[str, float]


def console_options(settings: Settings) -> ConsoleOptions:
    intervals = {s.name: float(s.refresh) for s in settings.sources}
    return ConsoleOptions(
        theme=settings.theme,
        interval=min(intervals.values(), default=30.0),
        rotate_every=float(settings.kiosk.rotate_seconds),
        views=tuple(settings.kiosk.views),
        handoff_dir=str(settings.handoff_dir) if settings.handoff_dir else None,
        intervals=intervals,
    )


def info_of(det: Detector) -> DetectorInfo:
    return DetectorInfo(
        id=det.id, title=det.title, category=det.category, severity=det.severity,
        query=det.query, description=det.description, mitre=tuple(det.mitre),
        next_steps=det.runbook,
    )  # fmt: skip


class LiveBackend:
    """One long-lived client per source; every PromQL string comes from the domain modules."""

    def __init__(self, settings: Settings, detectors: list[Detector] | None = None) -> None:
        self.settings = settings
        self.pool = Sources(settings.sources)
        self._detectors = detectors if detectors is not None else load_detectors(settings.packs_dir, settings.detectors)
        self._by_id = {d.id: d for d in self._detectors}

    @property
    def sources(self) -> Sequence[str]:
        return self.pool.names

    def detectors(self) -> list[DetectorInfo]:
        return [info_of(d) for d in self._detectors]

    def _client(self, source: str) -> PromClient:
        return self.pool[source]

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        return await evaluate(self._detectors, self._client(source), source, at)

    async def _range(self, source: str, promql: str | None, start: float, end: float, step: float) -> list[RangeSeries]:
        if not promql:
            return []
        return (await self._client(source).query_range(promql, start, end, step)).series

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        """The detector's strongest series over the window against that series' own band."""
        det = self._by_id[detector]
        queries = chart_queries(det)
        start, step = at - window, steps_for(window)
        signal, upper, fired = await asyncio.gather(
            *(self._range(source, q, start, at, step) for q in (queries.signal, queries.upper, det.query))
        )
        points, edge = envelope(signal, upper)
        threshold = edge[0][1] if queries.band_kind == "threshold" and edge else None
        band = BandPoints(queries.band_description or "band", [], edge) if edge else None
        return History(points, band, threshold, moments(fired))

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        """One finding: its series, the detector's band, plus the time and seasonal bands."""
        queries = chart_queries(self._by_id[detector], labels)
        extra = [("time band", anomaly.time_band(queries.signal)),
                 ("seasonal band", anomaly.seasonal_band(queries.signal))]  # fmt: skip
        extra = [(n, b) for n, b in extra if not n.startswith(queries.band_kind or "-")]
        fired_query = anomaly.select(self._by_id[detector].query, labels)
        wanted = [fired_query, queries.signal, queries.upper, queries.lower]
        wanted += [q for _, band in extra for q in (band.upper, band.lower)]
        start, step = at - window, steps_for(window)
        answers = await asyncio.gather(*(self._range(source, q, start, at, step) for q in wanted))
        fired = moments(answers[0])
        first = [a[0].points if a else [] for a in answers[1:]]
        points, upper, lower = first[0], first[1], first[2]
        threshold = upper[0][1] if queries.band_kind == "threshold" and upper else None
        bands: list[BandPoints] = []
        if upper and threshold is None:
            bands.append(BandPoints(queries.band_description or "band", lower, upper))
        for index, (name, _) in enumerate(extra):
            band_upper, band_lower = first[3 + 2 * index], first[4 + 2 * index]
            if band_upper:
                bands.append(BandPoints(name, band_lower, band_upper))
        return Chart(points, bands, threshold, latest_run_start(fired, step))

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        client = self._client(source)
        over_time = await client.query_range(falco_panels.matches("5m"), at - window, at, steps_for(window))
        instant = [
            (falco_panels.matches("1h"), at),
            (falco_panels.matches("1h"), at - 3600),
            (falco_panels.matches("1h"), at - 86400),
            (falco_panels.deliveries("ok", "1h"), at),
            (falco_panels.deliveries("error", "1h"), at),
            (falco_panels.dropped("1h"), at),
            (falco_panels.instances(), at),
        ]
        answers = await asyncio.gather(*(client.query(q, when) for q, when in instant))
        now, hour, day, ok, error, dropped, instances = (a.samples for a in answers)
        return summarise(over_time.series, now, hour, day, ok, error, dropped, instances)

    async def topology(self, source: str, at: float) -> Topology:
        """For the topology screen: the map at `at` from this source."""
        return await load_topology(self._client(source), at)

    async def aclose(self) -> None:
        await self.pool.aclose()
