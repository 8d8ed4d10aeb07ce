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


def _band_index(upper: list[RangeSeries]) -> list[tuple[tuple[str, ...], dict[tuple[str | None, ...], list[int]]]]:
    """Band series grouped by their label names, then by their values: a lookup, not a scan.

    Bands usually have one label set for all series (their `by` labels), so a signal series
    finds its band edges with one dict lookup per label set: linear in the number of series.
    """
    groups: dict[tuple[str, ...], dict[tuple[str | None, ...], list[int]]] = {}
    for index, band in enumerate(upper):
        names = tuple(sorted(k for k in band.labels if k != "__name__"))
        key = tuple(band.labels[k] for k in names)
        groups.setdefault(names, {}).setdefault(key, []).append(index)
    return list(groups.items())


def envelope(
    signal: list[RangeSeries], upper: list[RangeSeries], lowest: bool = False
) -> tuple[Points, Points]:
    """Per moment, the strongest signal series (the lowest with `lowest`: expiry, age) and the
    band edge of that same series.

    A band series applies to a signal series when its labels (but `__name__`) are a subset of the
    signal's; among several, the first (in answer order) with a point at that moment is used.
    """
    edges = [dict(u.points) for u in upper]
    index = _band_index(upper)
    sign = -1.0 if lowest else 1.0
    best: dict[float, tuple[float, float | None]] = {}
    for series in signal:
        labels = series.labels
        mine = sorted(i for names, keys in index for i in keys.get(tuple(labels.get(k) for k in names), ()))
        own = [edges[i] for i in mine]
        for stamp, value in series.points:
            if value != value:
                continue
            if stamp in best and sign * best[stamp][0] >= sign * value:
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
