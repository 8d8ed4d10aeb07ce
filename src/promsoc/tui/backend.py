"""What the console asks of the domain, as typed shapes: screens never see PromQL or API JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from promsoc.alerts import AlertRow, AlertsBoard
from promsoc.detectors.falco_view import Delivery, FalcoSummary, RuleCount
from promsoc.detectors.results import DetectorResult
from promsoc.detectors.timeline import TimelineResult
from promsoc.prom.alertmanager import Silence
from promsoc.prom.types import Points
from promsoc.topology.model import Topology


@dataclass(frozen=True)
class BandPoints:
    """A band as drawn: its name and the lower and upper edge as point lists (either may be empty)."""

    name: str
    lower: Points = field(default_factory=list)
    upper: Points = field(default_factory=list)


@dataclass(frozen=True)
class History:
    """A detector's value over a window with the band it is judged against (a tile's sparkline)."""

    points: Points
    band: BandPoints | None = None
    threshold: float | None = None
    firing: list[float] | None = None  # moments the detector's own query fired, when known
    lower_is_worse: bool = False
    """The detector fires below its threshold (time to expiry, age): the sparkline shows how
    close to the threshold each moment was, not the raw value."""


@dataclass(frozen=True)
class Chart:
    """One finding's series over a window, its bands and threshold, and when it crossed."""

    points: Points
    bands: list[BandPoints] = field(default_factory=list)
    threshold: float | None = None
    crossed_at: float | None = None


@dataclass(frozen=True)
class DetectorInfo:
    """The words behind a detector: what it means, where it maps in ATT&CK, what to do next."""

    id: str
    title: str
    category: str
    severity: str
    query: str
    description: str = ""
    mitre: tuple[str, ...] = ()
    next_steps: str = ""
    unit: str = "none"
    """What the detector's value measures (promsoc.units): how values are printed."""


@dataclass(frozen=True)
class AlertmanagerInfo:
    """What the alerts view says about an Alertmanager: where it is and whether it may be written."""

    url: str
    sources: tuple[str, ...]
    allow_silence: bool
    author: str


class Silencer(Protocol):
    """The one write path to an Alertmanager; it exists only where `allow_silence: true`."""

    author: str
    url: str

    async def silence(self, row: AlertRow, *, comment: str, duration: float, names: Sequence[str]) -> str: ...

    async def expire(self, silence: Silence) -> None: ...


class Backend(Protocol):
    """The domain as the console sees it; every call may raise, and the console shows the reason."""

    @property
    def sources(self) -> Sequence[str]: ...

    def detectors(self) -> list[DetectorInfo]: ...

    async def evaluate(self, source: str, at: float) -> list[DetectorResult]: ...

    async def history(self, source: str, detector: str, at: float, window: float) -> History: ...

    async def chart(self, source: str, detector: str, labels: dict[str, str], at: float, window: float) -> Chart: ...

    async def falco(self, source: str, at: float, window: float) -> FalcoSummary: ...

    async def topology(self, source: str, at: float) -> Topology: ...

    def alertmanager(self, source: str) -> AlertmanagerInfo | None: ...

    async def alerts(self, source: str, at: float | None) -> AlertsBoard: ...

    def silencer(self, source: str) -> Silencer | None: ...

    async def timeline(self, source: str, start: float, end: float) -> list[TimelineResult]:
        """When each detector fired between start and end (the domain picks the step)."""
        ...

    async def aclose(self) -> None: ...


__all__ = [
    "AlertmanagerInfo", "Backend", "BandPoints", "Chart", "Delivery", "DetectorInfo", "FalcoSummary", "History",
    "Points", "RuleCount", "Silencer",
]  # fmt: skip
