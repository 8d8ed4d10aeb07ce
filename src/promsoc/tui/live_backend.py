"""The live backend: the console's Backend bound to Prometheus (one client per source) and the domain."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass

from promsoc import units
from promsoc.alerts import AlertsBoard
from promsoc.config import Settings, locations
from promsoc.detectors import cadence
from promsoc.detectors.charts import chart_plan, reading_recorded
from promsoc.detectors.engine import RecordedBlocks, can_read_recorded, evaluate, present_blocks, recorded_blocks
from promsoc.detectors.falco_view import falco_summary
from promsoc.detectors.local_band import Oversized
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import CONSOLE_FINDINGS, DetectorResult, Status
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.detectors.spec import Detector
from promsoc.detectors.timeline import TimelineResult, make_range, timeline
from promsoc.prom.client import PromClient
from promsoc.prom.fanin import asking_together
from promsoc.prom.fanin_plans import Part, asking_as
from promsoc.prom.range_cache import RangeCache
from promsoc.prom.settings import Source
from promsoc.prom.sources import Sources, client_for
from promsoc.prom.types import RangeSeries
from promsoc.topology.model import Topology
from promsoc.topology.queries import load_topology
from promsoc.tui.alerts_link import AlertsLink, LinkSilencer
from promsoc.tui.backend import AlertmanagerInfo, BandPoints, Chart, DetectorInfo, FalcoSummary, History
from promsoc.tui.backend_loop import BackendLoop, collection_paused
from promsoc.tui.series_math import envelope, latest_run_start, moments, steps_for

SparkPoints = tuple[list[tuple[float, float]], list[tuple[float, float]], list[float]]
"""A sparkline as fetched: its points, its band edge and the moments it fired."""


SCALED = Part("scaled")  # the detectors a source evaluates at its own cadence (detectors.cadence)


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
        next_steps=det.runbook, unit=det.unit,
    )  # fmt: skip


class LiveBackend:
    """One long-lived client per source; every PromQL string comes from the domain modules."""

    def __init__(
        self,
        settings: Settings,
        detectors: list[Detector] | None = None,
        clients: Callable[[Source], PromClient] = client_for,
    ) -> None:
        self.settings = settings
        self.pool = Sources(settings.sources, clients)
        self._detectors = detectors if detectors is not None else load_detectors(settings.packs_dir, settings.detectors)
        self._by_id = {d.id: d for d in self._detectors}
        self._ranges_of: dict[str, RangeCache] = {}
        self._scans: dict[str, tuple[float, dict[str, DetectorResult]]] = {}  # the last scan per source
        self._cadences = {  # which detectors are due, per source; each its phase (spread by position)
            name: cadence.Cadence(lambda: self.clock(), cadence.phase_of(index, len(self.pool.names)))
            for index, name in enumerate(self.pool.names)
        }
        self._oversized: dict[str, Oversized] = {}  # sibling signals over a source's response cap
        self._sparks: dict[tuple[str, str, float], tuple[float, SparkPoints | None]] = {}  # heavy ones kept
        self._spark_at: dict[tuple[str, str, float], float] = {}  # (source, detector, window) -> fetched at
        self._recorded_memo: dict[tuple[str, float], RecordedBlocks] = {}
        self._recorded_locks: dict[str, asyncio.Lock] = {}  # per source: grouped sources ask at once
        self._first: dict[str, tuple[float, float, concurrent.futures.Future[list[DetectorResult]]]] = {}
        self.clock = time.time
        self._worker = BackendLoop()
        self.alerts_link = AlertsLink(settings, self._client, log_path=locations.silence_log())

    @property
    def sources(self) -> Sequence[str]:
        return self.pool.names

    def detectors(self) -> list[DetectorInfo]:
        return [info_of(d) for d in self._detectors]

    def _client(self, source: str) -> PromClient:
        return self.pool[source]

    def ranges(self, source: str) -> RangeCache:
        """The source's incremental range fetcher: a refresh asks only for the steps since the last."""
        cache = self._ranges_of.get(source)
        if cache is None:
            cache = self._ranges_of[source] = RangeCache(self._client(source))
        return cache

    async def _evaluate(self, source: str, at: float) -> list[DetectorResult]:
        """Every enabled detector at `at`; live, a costly one may answer with its last result
        (`detectors.cadence`: it says so, and how often it is evaluated)."""
        pace, client = self._cadences[source], self._client(source)
        enabled = [det for det in self._detectors if det.enabled]
        due, kept = pace.split(enabled, at)
        oversized = self._oversized.setdefault(source, Oversized(clock=lambda: self.clock()))
        # Apart only where sources are asked together: alone, one evaluation asks the presence and
        # recorded checks once for every due detector (a part would ask them a second time).
        every_cycle, own_cadence = pace.apart(due) if client.fanin is not None else (due, [])
        if client.fanin is not None:  # those at their own cadence: a `Part` of the scan (prom.fanin_plans)
            client.fanin.parts(source, at, [SCALED] if own_cadence else [])

        async def part(detectors: list[Detector], kind: Part | None) -> list[DetectorResult]:
            with self._asking(source, at, kind) if kind else contextlib.nullcontext():
                found = await evaluate(detectors, client, source, at, keep=CONSOLE_FINDINGS, oversized=oversized,
                                       local=client.source.sibling_bands == "local") if detectors else []  # fmt: skip
            if kind is None and own_cadence and client.fanin is not None:  # the rest waits for the part only
                client.fanin.done(source, at, None)
            return found

        with collection_paused():
            parts = await asyncio.gather(part(every_cycle, None), part(own_cadence, SCALED))
        results = pace.merge(enabled, [r for got in parts for r in got], kept)
        self._scans[source] = (at, {r.detector: r for r in results})
        return results

    def _scanned(self, source: str, det: Detector, at: float) -> DetectorResult | None:
        """The scan's answer for `det` at `at` when its query is the sparkline's: one evaluation, two uses."""
        scan = self._scans.get(source)
        if det.signal is not None or scan is None or scan[0] != at:
            return None
        result = scan[1].get(det.id)
        if result is None or result.evaluated_at != at:  # kept from an earlier cycle (cadence)
            return None
        return result if result.status in (Status.FIRING, Status.OK) else None

    async def _ranges(self, source: str, queries: dict[str, str | None], at: float, window: float, *,
                      tip: bool = False, step: float | None = None, one_per_step: bool = False,
                      chunk: int | None = None) -> dict[str, list[RangeSeries]]:  # fmt: skip
        """Every named query over the window, at once; a missing query answers nothing.

        The ranges are on the step grid (`steps_for(window)` unless `step` is given) and cached
        (`RangeCache`); `tip` adds the moment `at` itself, which a chart needs and a sparkline
        does without. `one_per_step`: the queries hold at most one series per step (`topk(1, …)`,
        `count(…)`), so only that many series of an answer are kept; a server that ignores topk
        would send 5,000 (issue 15). `chunk`: at most that many steps a request (`RangeCache`).
        """
        cache, step = self.ranges(source), step or steps_for(window)
        cap = int(window // step) + 2 if one_per_step else None

        async def one(promql: str | None) -> list[RangeSeries]:
            if not promql:
                return []
            return (await cache.query_range(promql, at - window, at, step, tip=tip, max_series=cap, chunk=chunk)).series

        answers = await asyncio.gather(*(one(q) for q in queries.values()))
        return dict(zip(queries, answers, strict=True))

    async def _recorded_since(self, source: str, since: float) -> RecordedBlocks:
        """The recorded blocks the source has had since `since` (asked once per moment, for every
        sparkline and chart reading from it; the last few moments of every source are kept)."""
        async with self._recorded_locks.setdefault(source, asyncio.Lock()):
            found = self._recorded_memo.get((source, since))
            if found is None:
                found = await present_blocks(self._client(source), since, recorded_blocks(self._detectors))
                while len(self._recorded_memo) >= 16 * max(1, len(self.sources)):
                    del self._recorded_memo[next(iter(self._recorded_memo))]  # the oldest asked
                self._recorded_memo[(source, since)] = found
            return found

    async def _spark_points(self, source: str, det: Detector, at: float, window: float) -> SparkPoints:
        """A sparkline's points, band edge and firing moments over the window. A heavy one
        (detectors.cadence) is asked at coarser steps, a few at a time, without its band edge."""
        plan = sparkline_plan(det)
        heavy = cadence.heavy_sparkline(plan)
        step = cadence.sparkline_step(plan, steps_for(window))  # as the raw queries need
        if can_read_recorded(det):  # the recording rules' series, if the source has had them all along
            with self._asking(source, at, ("recorded", at - window)):
                plan = sparkline_plan(det, await self._recorded_since(source, at - window))
        queries = {"signal": plan.signal, "edge": None if heavy else plan.edge, "fired": plan.fired}
        chunk = cadence.HEAVY_CHUNK if heavy else None
        got = await self._ranges(source, queries, at, window, step=step, one_per_step=True, chunk=chunk)
        self._spark_at[(source, det.id, window)] = at
        # Linear in the series, and in a thread: a server that ignores topk still cannot hold
        # the loop (its answers are capped by the client's max_response_bytes).
        lowest = units.lower_is_worse(det.unit)
        (points, edge), firing = await asyncio.to_thread(
            lambda: (envelope(got["signal"], got["edge"], lowest), moments(got["fired"]))
        )
        return points, edge, firing

    async def _history(self, source: str, detector: str, at: float, window: float) -> History:
        """The detector's strongest series over the window against that series' own band."""
        det = self._by_id[detector]
        lowest = units.lower_is_worse(det.unit)
        plan = sparkline_plan(det)  # topk(1, ...) per step: one series, not one per pod
        every, key = cadence.sparkline_every(plan), (source, detector, window)
        kept = self._sparks.get(key)
        if kept is not None and cadence.reusable(kept[0], at, every, self.clock()):
            if kept[1] is None:  # a heavy sparkline that failed: not asked again before `every`
                raise RuntimeError("the sparkline failed; asked again in a few minutes")
            points, edge, firing = kept[1]  # a heavy sparkline: refreshed every few minutes only
        else:
            try:
                points, edge, firing = await self._spark_points(source, det, at, window)
            except Exception:
                if every:
                    self._sparks[key] = (at, kept[1] if kept is not None else None)
                raise
            if every:
                self._sparks[key] = (at, (points, edge, firing))
        threshold = edge[0][1] if plan.threshold and edge else None
        scanned = self._scanned(source, self._by_id[detector], at)
        if scanned is not None and scanned.findings and (not points or points[-1][0] < at):
            # the range ends on the step grid; the scan's own answer at `at` is the newest point
            worst = min if lowest else max
            points = [*points, (at, worst(f.value for f in scanned.findings))]
            firing = [*firing, at]
            edge = [*edge, (at, threshold)] if threshold is not None else edge
        named = plan.band_name is not None and (edge or cadence.heavy_sparkline(plan))  # heavy: no edge asked
        band = BandPoints(plan.band_name or "band", [], edge) if named else None
        return History(points, band, threshold, firing, lowest)

    async def _chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        """One finding: its series, the detector's band (or threshold), and the context bands,
        from the recording rules' series where the source has had them over what each reads."""
        det = self._by_id[detector]
        plan = chart_plan(det, labels)
        if can_read_recorded(det):
            since = [at - window - reach for reach in plan.reaches]
            found = await asyncio.gather(*(self._recorded_since(source, moment) for moment in since))
            plan = reading_recorded(plan, dict(zip(plan.reaches, found, strict=True)))
        drawn = [band for band in (plan.own, *plan.extra) if band is not None and band.kind != "threshold"]
        queries: dict[str, str | None] = {"signal": plan.signal, "fired": plan.fired, "threshold": plan.threshold}
        for index, band in enumerate(drawn):
            queries[f"upper {index}"], queries[f"lower {index}"] = band.upper, band.lower
        got = await self._ranges(source, queries, at, window, tip=True)

        def first(name: str) -> list[tuple[float, float]]:
            return got[name][0].points if got[name] else []

        line = first("threshold")
        bands = [
            BandPoints(band.name, first(f"lower {index}"), first(f"upper {index}"))
            for index, band in enumerate(drawn)
            if first(f"upper {index}")
        ]
        crossed = latest_run_start(moments(got["fired"]), steps_for(window))
        return Chart(first("signal"), bands, line[0][1] if line else None, crossed)

    async def _falco(self, source: str, at: float, window: float) -> FalcoSummary:
        return await falco_summary(self.ranges(source), at, window, steps_for(window))

    async def _timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        """The timeline view's lanes: one range query per detector (promsoc.detectors.timeline)."""
        return await timeline(self._detectors, self._client(source), source, make_range(start, end))

    async def _topology(self, source: str, at: float) -> Topology:
        """For the topology screen: the map at `at` from this source."""
        return await load_topology(self._client(source), at)

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        return self.alerts_link.info(source)

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        if at is None:  # Alertmanager's own clients live on the UI's loop (the silencer writes there)
            return await self.alerts_link.board(source, at)
        return await self._worker.run(self.alerts_link.board(source, at))  # Prometheus's ALERTS: its loop

    def silencer(self, source: str) -> LinkSilencer | None:
        return self.alerts_link.silencer(source)

    def together(self, source: str) -> list[str]:
        """The sources whose poll cycles are answered by the same requests as `source`'s
        (`prom.fanin`): their pollers should ask at the same moments."""
        return self.pool.together(source)

    @contextlib.contextmanager
    def _asking(self, source: str, at: float, kind: Hashable = None) -> Iterator[None]:
        """A poll cycle's questions of `kind` (None: its scan): grouped sources' are merged, and
        wait only for the sources whose cycle will ask that kind (`prom.fanin_plans`)."""
        fanin = self._client(source).fanin
        with asking_together(), asking_as(at, kind):
            try:
                yield
            finally:
                if fanin is not None and kind is not None:
                    fanin.done(source, at, kind)

    def _spark_kind(self, source: str, detector: str, window: float) -> Hashable:
        """A sparkline's questions as a kind: sources whose last fetch of it was at the same
        moment ask the same ranges (`RangeCache`: the steps since then), the others other ones."""
        return "sparkline", detector, window, self._spark_at.get((source, detector, window))

    def expect(self, source: str, at: float, sparklines: Collection[str] | None, window: float) -> None:
        """What `source`'s poll cycle at `at` will ask: None when it begins (its scan), then the
        sparklines over `window` it will fetch (none: nothing more). Sources asked together
        (`prom.fanin`) wait only for those that will ask the same (`FanIn.expect`)."""
        if self._client(source).fanin is not None:
            due = None if sparklines is None else tuple(sparklines)
            self._worker.call(self._expect, source, at, due, window)

    def _expect(self, source: str, at: float, sparklines: tuple[str, ...] | None, window: float) -> None:
        fanin = self._client(source).fanin
        if fanin is None:
            return
        if sparklines is None:
            fanin.expect(source, at, None)
            return
        kinds = {self._spark_kind(source, d, window) for d in sparklines}
        if any(can_read_recorded(self._by_id[d]) for d in sparklines if d in self._by_id):
            kinds.add(("recorded", at - window))
        fanin.expect(source, at, kinds)

    async def _polled(self, source: str, at: float) -> list[DetectorResult]:
        with self._asking(source, at):  # a poll cycle: grouped sources' questions are merged
            return await self._evaluate(source, at)

    async def _polled_history(self, source: str, detector: str, at: float, window: float) -> History:
        with self._asking(source, at, self._spark_kind(source, detector, window)):
            return await self._history(source, detector, at, window)

    # -- what the console calls: Prometheus work runs on the backend's own loop, off the UI's ----
    def begin(self, at: float | None = None) -> None:
        """Start every source's first scan now, at `at` (None: live, the clock's now), before the
        console exists: its queries run while Python imports Textual and draws the first frame
        (the console's start and the first scan overlap instead of adding up). The first poll
        at that moment takes its answers (`first_scan`, `evaluate`)."""
        began = self.clock()
        moment = began if at is None else at
        for source in self.sources:
            self._first[source] = (moment, began, self._worker.submit(self._polled(source, moment)))

    def first_scan(self, source: str) -> tuple[float, float] | None:
        """The moment a scan begun by `begin` evaluates, and when it began (None: none was)."""
        first = self._first.get(source)
        return None if first is None else first[:2]

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        first = self._first.pop(source, None)
        if first is not None:
            moment, _began, scan = first
            if moment == at:  # the scan `begin` started for this very moment: its answers
                return await asyncio.wrap_future(scan)
            scan.cancel()  # the console asked for another moment: that scan is nobody's
        return await self._worker.run(self._polled(source, at))

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        return await self._worker.run(self._polled_history(source, detector, at, window))

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        return await self._worker.run(self._chart(source, detector, labels, at, window))

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        return await self._worker.run(self._falco(source, at, window))

    async def topology(self, source: str, at: float) -> Topology:
        return await self._worker.run(self._topology(source, at))

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        return await self._worker.run(self._timeline(source, start, end))

    def close(self) -> None:
        """For a console that never ran (a bad theme, no terminal): a scan begun early ends."""
        self._worker.close()

    async def aclose(self) -> None:
        self._ranges_of.clear()
        try:
            await self._worker.cancel_pending()  # queries in flight end before their clients close
            await self._worker.run(self.pool.aclose())
            await self.alerts_link.aclose()
        finally:
            await self._worker.aclose()
