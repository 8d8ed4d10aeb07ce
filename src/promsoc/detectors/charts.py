"""What a detector's chart draws, decided once: the signal, where it fired, and named bands.

The console's backend runs these queries over a window and draws what comes back; it never
picks a band or builds a query. Every band comes from the same `promql.bands` builder the
detector's own query uses, so the chart's line is where the detector fires.

Every band is built on the detector's whole signal and narrowed to the finding's series after
(the same series either way: a band is computed per series or per group), so that its terms are
spelled exactly as the recording rules record them: `reading_recorded` then reads the recorded
signal, band mean and stddev wherever the source has had them over the chart's window (and, for
a context band over the signal's past, over its reach before that), as a sparkline does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from promsoc.detectors.spec import Detector
from promsoc.promql import bands, recording


@dataclass(frozen=True)
class PlannedBand:
    """One band to draw: its legend name and its upper (and maybe lower) bound as PromQL."""

    name: str
    kind: str
    upper: str
    lower: str | None = None
    reach: float = 0.0
    """How far before each moment a context band reads the signal (its window, or its longest
    season): a recorded signal it reads must have been there that much before the chart's window."""


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
    def reaches(self) -> tuple[float, ...]:
        """How far before the chart's window its queries read the signal (0: only over the window)."""
        return tuple(sorted({0.0, *(band.reach for band in self.extra)}))

    @property
    def threshold(self) -> str | None:
        """The constant line's query, when the detector compares with a fixed threshold."""
        return self.own.upper if self.own is not None and self.own.kind == "threshold" else None


def chart_plan(det: Detector, labels: dict[str, str] | None = None, *, context: bool = True) -> ChartPlan:
    """The chart of `det` (one finding's series if `labels`); `context` adds the time and seasonal bands."""
    labels = labels or {}
    whole = det.signal or det.query
    signal = bands.select(whole, labels)
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
        for name, built in (("time band", bands.time_band(whole)), ("seasonal band", bands.seasonal_band(whole))):
            if own is None or built.kind != own.kind:
                lower = bands.select(built.lower, labels) if built.lower else None
                extra.append(PlannedBand(name, built.kind, bands.select(built.upper, labels), lower, built.reach))
    return ChartPlan(signal, fired, own, tuple(extra))


def reading_recorded(plan: ChartPlan, readable: Mapping[float, Sequence[recording.Recorded]]) -> ChartPlan:
    """`plan` reading the recording rules' series: `readable[reach]` are the blocks the source has
    had (old enough) since `reach` seconds before the chart's window (see `ChartPlan.reaches`).
    A query reads the blocks of its own reach; one a source lacks keeps its raw form."""

    def read(promql: str, reach: float = 0.0) -> str:
        blocks = readable.get(reach, ())
        return recording.rewrite(promql, blocks) if blocks else promql

    def band(planned: PlannedBand, reach: float) -> PlannedBand:
        lower = read(planned.lower, reach) if planned.lower else None
        return replace(planned, upper=read(planned.upper, reach), lower=lower)

    own = band(plan.own, 0.0) if plan.own is not None and plan.own.kind != "threshold" else plan.own
    extra = tuple(band(planned, planned.reach) for planned in plan.extra)
    return ChartPlan(read(plan.signal), read(plan.fired), own, extra)
