"""The console's Backend bound to the real domain: settings -> clients, detectors, bands, Falco."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promsoc.detectors.model import DetectorResult
from promsoc.tui.backend import Chart, DetectorInfo, FalcoSummary, History


@dataclass(frozen=True)
class ConsoleOptions:
    """The settings the console itself reads (the rest belongs to the client and detectors)."""

    theme: str | None
    kiosk: bool
    interval: float
    rotate_every: float
    handoff_dir: str | None
    intervals: dict[str, float]


def console_options(settings: Any) -> ConsoleOptions:
    sources = list(getattr(settings, "sources", ()))
    intervals = {s.name: float(s.refresh) for s in sources}
    kiosk = getattr(settings, "kiosk", None)
    handoff = getattr(settings, "handoff_dir", None)
    return ConsoleOptions(
        theme=getattr(settings, "theme", None),
        kiosk=False,
        interval=min(intervals.values(), default=30.0),
        rotate_every=float(getattr(kiosk, "rotate_seconds", 30.0)),
        handoff_dir=str(handoff) if handoff else None,
        intervals=intervals,
    )


class DomainBackend:
    """Placeholder until the detector engine lands: every call says what is missing."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._sources = [s.name for s in getattr(settings, "sources", ())]

    @property
    def sources(self) -> Sequence[str]:
        return self._sources

    def detectors(self) -> list[DetectorInfo]:
        return []

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        raise RuntimeError("the detector engine is not available in this build")

    async def history(self, source: str, detector: str, at: float, window: float) -> History:
        raise RuntimeError("the detector engine is not available in this build")

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart:
        raise RuntimeError("the detector engine is not available in this build")

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary:
        raise RuntimeError("the detector engine is not available in this build")

    async def aclose(self) -> None:
        return None
