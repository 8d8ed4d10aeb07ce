"""Detector results: the contract's statuses and findings, shared by scan, check and the console."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

SLOW_AFTER = 5.0
"""Seconds a detector's query may take before the console marks it `slow` (with the time it took)."""


class Status(enum.StrEnum):
    """Exactly the statuses of the CLI contract."""

    FIRING = "firing"
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


LOOK: dict[Status, tuple[str, str]] = {
    Status.FIRING: ("▲", "FIRING"),
    Status.OK: ("✓", "OK"),
    Status.NO_DATA: ("○", "NO DATA"),
    Status.ERROR: ("✗", "ERROR"),
}
"""Every status as a glyph and a word, never colour alone (NO_COLOR, 16-colour jump hosts,
colour blindness): the one vocabulary of `scan`, `timeline` and the console."""


def status_text(status: Status) -> str:
    """`▲ FIRING`, `✓ OK`, `○ NO DATA`, `✗ ERROR`."""
    glyph, word = LOOK[status]
    return f"{glyph} {word}"


CONSOLE_FINDINGS = 1000
"""Findings the console keeps per detector, the worst (issue 15: 5,000 firing pods per detector
held its keys); the tile, the detector view and the hand-off say how many more there were."""


@dataclass(frozen=True)
class Finding:
    """One series a detector's query returned: all its labels and the value at evaluation time."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class DetectorResult:
    """One (source, detector) evaluation."""

    source: str
    detector: str
    title: str
    category: str
    severity: str
    status: Status
    evaluated_at: float
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    latency: float = 0.0
    missing: tuple[str, ...] = ()
    """For no_data: the required metric families (or 'a|b' alternatives) that were absent."""
    note: str | None = None
    """Why a no_data is blind (label values absent), or what an ok saw nothing of."""
    recorded: bool = False
    """Its query read the recording rules' series (`promsoc rules export --recording`), not the raw query."""
    warnings: tuple[str, ...] = ()
    """The server's warnings with the answer: a Thanos or Mimir partial response (a store that did
    not answer) says so here, and the result may be missing series."""
    omitted: int = 0
    """Findings past the cap of whoever evaluated (the console keeps the worst `CONSOLE_FINDINGS`),
    counted, not kept; `scan` keeps every finding (0)."""

    @property
    def found(self) -> int:
        """How many series the query returned (NaN values aside): kept findings and omitted ones."""
        return len(self.findings) + self.omitted
    every: float = 0.0
    """Seconds between a live console's evaluations of it when more than one refresh
    (`detectors.cadence`: a detector that scales with the pods, read raw); 0: every refresh."""

    @property
    def slow(self) -> bool:
        """Its query ran past the budget (`SLOW_AFTER` seconds): the console says so with the time."""
        return self.latency > SLOW_AFTER

    @property
    def partial(self) -> bool:
        """The answer came with warnings (a partial response): findings may be missing."""
        return bool(self.warnings)
