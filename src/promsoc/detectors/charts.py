"""What a detector's chart draws, decided once: the signal, where it fired, and named bands.

The console's backend runs these queries over a window and draws what comes back; it never
picks a band or builds a query. Every band comes from the same `promql.bands` builder the
detector's own query uses, so the chart's line is where the detector fires.
"""

from __future__ import annotations

from dataclasses import dataclass

from promsoc.detectors.spec import Detector
from promsoc.promql import bands


@dataclass(frozen=True)
class PlannedBand:
    """One band to draw: its legend name and its upper (and maybe lower) bound as PromQL."""

    name: str
    kind: str
    upper: str
    lower: str | None = None


@dataclass(frozen=True)
class ChartPlan:
    """The queries of one detector's chart, narrowed to one finding's series when labels are given."""

    signal: str
    """The series drawn (the detector's signal, else its query)."""
    fired: str
    """The detector's own query: the moments it has a value are the moments it fired."""
    own: PlannedBand | None = None
    """The band the detector judges against (a threshold is a constant line)."""
    extra: tuple[PlannedBand, ...] = ()
    """The signal's time and seasonal bands, for context (the detector's own kind left out)."""

    @property
    def threshold(self) -> str | None:
        """The constant line's query, when the detector compares with a fixed threshold."""
        return self.own.upper if self.own is not None and self.own.kind == "threshold" else None


def chart_plan(det: Detector, labels: dict[str, str] | None = None, *, context: bool = True) -> ChartPlan:
    """The chart of `det` (one finding's series if `labels`); `context` adds the time and seasonal bands."""
    labels = labels or {}
    signal = bands.select(det.signal or det.query, labels)
    fired = bands.select(det.query, labels)
    band = det.band
    own = None
    if band is not None:
        if band.kind == "threshold":
            band_labels: dict[str, str] = {}
        elif band.by is not None:
            band_labels = {k: v for k, v in labels.items() if k in band.by}  # the group's band
        else:
            band_labels = labels
        lower = bands.select(band.lower, band_labels) if band.lower else None
        own = PlannedBand(band.description or "band", band.kind, bands.select(band.upper, band_labels), lower)
    extra: list[PlannedBand] = []
    if context:
        for name, built in (("time band", bands.time_band(signal)), ("seasonal band", bands.seasonal_band(signal))):
            if own is None or built.kind != own.kind:
                extra.append(PlannedBand(name, built.kind, built.upper, built.lower))
    return ChartPlan(signal, fired, own, tuple(extra))
