"""What the console knows right now, per source and detector: fed by messages, read by screens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from promsoc.alerts import AlertsBoard
from promsoc.detectors.results import DetectorResult, Status
from promsoc.tui.backend import DetectorInfo, History

STALE_AFTER_CYCLES = 3


@dataclass
class SourceHealth:
    """One source's poll record: last success and its latency, and the last failure's reason."""

    last_ok: float | None = None
    latency: float | None = None
    error: str | None = None
    evaluated_at: float | None = None

    def stale(self, now: float, interval: float) -> bool:
        """Late (no success for several cycles) or failing: the tiles' colours are old news."""
        if self.error is not None:
            return True
        return self.last_ok is not None and now - self.last_ok > STALE_AFTER_CYCLES * interval


@dataclass(frozen=True)
class AlertsSnapshot:
    """One Alertmanager's board as last fetched (live: None `at`), or why it could not be."""

    board: AlertsBoard | None
    error: str | None
    at: float | None
    fetched_at: float


@dataclass(frozen=True)
class TileKey:
    source: str
    detector: str


class ConsoleState:
    """Holds the latest result and sparkline per (source, detector); replaced, never appended."""

    def __init__(self, sources: Sequence[str], detectors: Iterable[DetectorInfo]) -> None:
        self.sources = list(sources)
        self.detectors = {d.id: d for d in detectors}
        self.results: dict[TileKey, DetectorResult] = {}
        self.histories: dict[TileKey, History] = {}
        self.health = {s: SourceHealth() for s in self.sources}
        self.alerts: dict[str, AlertsSnapshot] = {}
        """Per alerts section (the first source of each distinct Alertmanager)."""

    def apply_results(
        self,
        source: str,
        results: Sequence[DetectorResult],
        latency: float,
        polled_at: float,
        at: float,
    ) -> list[TileKey]:
        health = self.health.setdefault(source, SourceHealth())
        failed = [r for r in results if r.status is Status.ERROR]
        if results and len(failed) == len(results):  # every query failed: the source is down
            health.error = failed[0].error or "every query failed"
        else:
            health.last_ok, health.latency, health.error = polled_at, latency, None
        health.evaluated_at = at
        keys = []
        for result in results:
            key = TileKey(source, result.detector)
            self.results[key] = result
            keys.append(key)
        return keys

    def apply_failure(self, source: str, reason: str) -> None:
        self.health.setdefault(source, SourceHealth()).error = reason

    def apply_histories(self, source: str, histories: dict[str, History]) -> list[TileKey]:
        keys = []
        for detector, history in histories.items():
            key = TileKey(source, detector)
            self.histories[key] = history
            keys.append(key)
        return keys

    def paging(self) -> tuple[int, int]:
        """(alerts paging now, Alertmanagers that could not be read) over every alerts section."""
        active = sum(snap.board.active for snap in self.alerts.values() if snap.board is not None)
        return active, sum(snap.error is not None for snap in self.alerts.values())

    def category_of(self, key: TileKey) -> str:
        result = self.results.get(key)
        if result is not None:
            return result.category
        info = self.detectors.get(key.detector)
        return info.category if info else "other"

    def keys(self) -> list[TileKey]:
        """Every tile: known detectors for every source, plus any the results named."""
        seen = {TileKey(s, d) for s in self.sources for d in self.detectors}
        seen.update(self.results)
        order = {d: i for i, d in enumerate(self.detectors)}
        return sorted(
            seen,
            key=lambda k: (
                self.sources.index(k.source) if k.source in self.sources else len(self.sources),
                order.get(k.detector, 1 << 30),
                k.detector,
            ),
        )

    def groups(self) -> list[tuple[str, str, list[TileKey]]]:
        """(source, category, tiles) sections: by source, then category in first-seen order."""
        out: dict[tuple[str, str], list[TileKey]] = {}
        for key in self.keys():
            out.setdefault((key.source, self.category_of(key)), []).append(key)
        return [(s, c, tiles) for (s, c), tiles in out.items()]
