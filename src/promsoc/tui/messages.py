"""Messages the pollers and loaders post to the console (attributes down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from promsoc.detectors.results import DetectorResult
from promsoc.tui.backend import Chart, FalcoSummary, History
from promsoc.tui.state import AlertsSnapshot


@dataclass
class ResultsUpdated(Message):
    """One source's poll cycle finished: every detector's result at `at`."""

    source: str
    results: list[DetectorResult]
    at: float
    latency: float
    polled_at: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ResultsUpdated) and message.source == self.source


@dataclass
class PollFailed(Message):
    """One source's poll cycle failed as a whole; `reason` is one readable line."""

    source: str
    reason: str
    at: float
    polled_at: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PollFailed) and message.source == self.source


@dataclass
class HistoriesUpdated(Message):
    """Sparkline histories for one source, keyed by detector id."""

    source: str
    histories: dict[str, History]
    at: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HistoriesUpdated) and message.source == self.source


@dataclass
class ChartLoaded(Message):
    """A finding's chart arrived (or failed with `error`)."""

    key: tuple[str, str, str]
    chart: Chart | None
    error: str | None = None


@dataclass
class FalcoLoaded(Message):
    """The Falco view's data arrived (or failed with `error`)."""

    source: str
    summary: FalcoSummary | None
    at: float
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FalcoLoaded) and message.source == self.source


@dataclass
class AlertsUpdated(Message):
    """One Alertmanager's alerts arrived (or could not be read: `snapshot.error`)."""

    source: str
    snapshot: AlertsSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AlertsUpdated) and message.source == self.source
