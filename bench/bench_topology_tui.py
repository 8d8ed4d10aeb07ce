"""Topology at scale, the slow halves: the console screen under Pilot, and a real scaled lab."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence

from promsoc.alerts import AlertsBoard
from promsoc.detectors.results import DetectorResult
from promsoc.detectors.timeline import TimelineResult
from promsoc.topology.model import Topology
from promsoc.tui.app import ConsoleApp
from promsoc.tui.backend import Chart, DetectorInfo, FalcoSummary, History
from promsoc.tui.screens.topology import TopologyScreen
from promsoc.tui.widgets.topology_view import TopologyView


class _MapOnly:
    """A console backend with one map and no detectors: only the topology screen is timed."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo

    @property
    def sources(self) -> Sequence[str]:
        return ["bench"]

    def detectors(self) -> list[DetectorInfo]:
        return []

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        return []

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        return History([])

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        return Chart([])

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        return FalcoSummary()

    async def topology(self, source: str, at: float) -> Topology:
        return self.topo

    def alertmanager(self, source: str) -> None:
        return None  # no alerts view: alerts() is never asked

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        raise NotImplementedError("the bench has no Alertmanager")

    def silencer(self, source: str) -> None:
        return None

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        return []

    async def aclose(self) -> None:
        return None


def _time_screen(topo: Topology, keys: int) -> tuple[float, int, list[float], float]:
    """(ms to first workload view, its lines, per-key ms while paging, ms to apply a filter)."""

    async def run() -> tuple[float, int, list[float], float]:
        app = ConsoleApp(_MapOnly(topo), poll=False)
        async with app.run_test(size=(160, 50)) as pilot:
            start = time.perf_counter()
            await pilot.press("m")
            await pilot.pause()
            await app.workers.wait_for_complete()
            screen = app.screen
            assert isinstance(screen, TopologyScreen)
            await pilot.press("2")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = (time.perf_counter() - start) * 1000
            lines = len(screen.query_one(TopologyView).lines)
            latencies = []
            for index in range(keys):
                began = time.perf_counter()
                await pilot.press("pagedown" if index % 4 else "down")
                latencies.append((time.perf_counter() - began) * 1000)
            await pilot.press("1", "slash", *"ns:ns-01", "enter")
            began = time.perf_counter()
            await pilot.pause()
            await app.workers.wait_for_complete()
            return shown, lines, latencies, (time.perf_counter() - began) * 1000

    return asyncio.run(run())


def bench_screen(topo: Topology, keys: int = 200) -> None:
    """Page through the big map, and through a tiny one as the baseline of Pilot's own overhead."""
    from promsoc.topology.synthetic import churn_pair

    for label, subject in (("big", topo), ("tiny", churn_pair()[1])):
        shown, lines, latencies, filtered = _time_screen(subject, keys)
        p95 = sorted(latencies)[int(len(latencies) * 0.95)]
        print(
            f"  screen ({label}, {lines} lines): first view {shown:6.1f} ms, key while paging "
            f"median {statistics.median(latencies):5.1f} ms p95 {p95:5.1f} ms, filter {filtered:5.1f} ms"
        )


def bench_lab(pods: int, nodes: int) -> None:
    """End to end against Prometheus: the lab scaled up, topology families only, 1 day of history."""
    from promsoc.lab import Lab, LabOptions
    from promsoc.prom.client import PromClient
    from promsoc.topology.queries import load_topology

    options = LabOptions(
        pods=pods,
        nodes=nodes,
        history_days=1.0,
        traffic_days=1.0,
        traffic=False,
        live_incidents=False,
        certmanager=False,
    )
    began = time.perf_counter()
    with Lab(options) as lab:
        started = time.perf_counter() - began

        async def run() -> list[tuple[str, float, int]]:
            out = []
            async with PromClient.from_url(lab.url) as client:
                for label, at in (("now", time.time()), ("-12h", lab.anchor - 12 * 3600)):
                    start = time.perf_counter()
                    topo = await load_topology(client, at)
                    out.append((label, (time.perf_counter() - start) * 1000, len(topo.pods)))
            return out

        for label, ms, count in asyncio.run(run()):
            print(
                f"  lab ({pods} pods, {nodes} nodes): load_topology at {label:>5} "
                f"{ms:7.1f} ms  ({count} pods; lab start {started:.0f} s, cache hit {lab.cache_hit})"
            )


def bench_console(url: str, keys: int = 100) -> None:
    """The whole console (domain backend, detectors, topology mode) on a Prometheus, e.g. the
    scaled demo (`promsoc demo --no-tui --pods 5000 --nodes 200 --topology-only`): load time, keys, RSS."""
    import resource

    from promsoc.config import load_settings
    from promsoc.tui.app import ConsoleApp
    from promsoc.tui.live_backend import LiveBackend

    async def run() -> None:
        app = ConsoleApp(LiveBackend(load_settings(None, url, "bench")), poll=False)
        async with app.run_test(size=(160, 50)) as pilot:
            began = time.perf_counter()
            app.poll_now()
            await app.workers.wait_for_complete()
            polled = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            await pilot.press("m")
            screen = app.screen
            while not isinstance(screen, TopologyScreen) or screen.shown is None:
                await pilot.pause(0.02)
                screen = app.screen
            first = (time.perf_counter() - began) * 1000
            await pilot.press("2")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            lines = len(screen.query_one(TopologyView).lines)
            latencies = []
            for index in range(keys):
                start = time.perf_counter()
                await pilot.press("pagedown" if index % 4 else "down")
                latencies.append((time.perf_counter() - start) * 1000)
            pods = len(screen.shown.topo.pods) if screen.shown else 0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  console on {url}: one detector cycle {polled:6.0f} ms; topology mode "
                f"{first:6.0f} ms to the first map ({pods} pods, {lines} workload-view lines); "
                f"key while paging median {statistics.median(latencies):5.1f} ms; "
                f"peak RSS {peak:5.1f} MB"
            )

    asyncio.run(run())
