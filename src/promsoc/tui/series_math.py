"""Small arithmetic on typed range results for the console: envelopes, crossings, steps."""

from __future__ import annotations

import math

from promsoc.prom.types import RangeSeries
from promsoc.tui.backend import Points

POINTS_PER_CHART = 240
MAX_PLOTTED = 1e300
"""Larger magnitudes (and +Inf, NaN) are not drawn: a chart's range of ±1e308 overflows to inf."""


def plottable_value(value: float | None) -> bool:
    """A value a chart can scale: finite and within ±MAX_PLOTTED."""
    return value is not None and math.isfinite(value) and abs(value) <= MAX_PLOTTED


def plottable(points: Points) -> Points:
    """The points a chart can draw: NaN, ±Inf and absurd magnitudes left out (a server may send them)."""
    return [(t, v) for t, v in points if plottable_value(v) and math.isfinite(t)]


def steps_for(window: float) -> float:
    """A query step giving about POINTS_PER_CHART points, never under 15 s."""
    return max(15.0, round(window / POINTS_PER_CHART))


def _matches(band: dict[str, str], series: dict[str, str]) -> bool:
    """A band series applies to a signal series when its labels are a subset of the signal's."""
    return all(series.get(k) == v for k, v in band.items() if k != "__name__")


def envelope(signal: list[RangeSeries], upper: list[RangeSeries]) -> tuple[Points, Points]:
    """Per moment, the strongest signal series and the band edge of that same series."""
    edges = [(u.labels, dict(u.points)) for u in upper]
    best: dict[float, tuple[float, float | None]] = {}
    for series in signal:
        own = [points for labels, points in edges if _matches(labels, series.labels)]
        for stamp, value in series.points:
            if value != value:
                continue
            if stamp in best and best[stamp][0] >= value:
                continue
            edge = next((p[stamp] for p in own if stamp in p), None)
            best[stamp] = (value, edge)
    stamps = sorted(best)
    points = [(t, best[t][0]) for t in stamps]
    edge_points = [(t, e) for t in stamps if (e := best[t][1]) is not None]
    return points, edge_points


def moments(series: list[RangeSeries]) -> list[float]:
    """Every timestamp at which any of the series has a value (a range query's firing moments)."""
    return sorted({stamp for item in series for stamp, value in item.points if value == value})


def latest_run_start(stamps: list[float], step: float) -> float | None:
    """Where the last unbroken run of firing moments began: the moment it crossed."""
    if not stamps:
        return None
    start = stamps[-1]
    for earlier in reversed(stamps[:-1]):
        if start - earlier > step * 1.5:
            break
        start = earlier
    return start
