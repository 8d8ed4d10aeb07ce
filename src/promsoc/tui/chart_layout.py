"""What a finding's chart draws, decided without plotext: axis limits, the band as one shaded
region, tick labels with units. Pure, so the chart is tested on band data without a terminal.

- The band is one region between its lower and upper edge (a band with no lower edge reaches
  down to the axis), sampled once per column and shaded row by row, not four thin lines.
- The y axis follows the value, the threshold and the band's settled part: a band still warming
  up (its first points far outside what follows) is left out instead of drawn as a wall.
- Non-negative signals (rates, shares, bytes) never get an axis below 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from promsoc import units
from promsoc.prom.types import Points
from promsoc.tui.series_math import plottable

WARMUP_FACTOR = 3.0
"""A band point more than this many times its settled median's distance from it is warm-up."""


def settled(points: Points) -> Points:
    """The band edge without its warm-up: leading points far from the edge's median are dropped."""
    clean = plottable(points)
    if len(clean) < 4:
        return clean
    values = sorted(v for _, v in clean)
    median = values[len(values) // 2]
    spread = (values[(3 * len(values)) // 4] - values[len(values) // 4]) or abs(median) * 0.1 or 1.0
    start = 0
    while start < len(clean) and abs(clean[start][1] - median) > WARMUP_FACTOR * spread + abs(median):
        start += 1
    return clean[start:]


def y_limits(values: Sequence[float], edges: Sequence[Points], threshold: float | None,
             non_negative: bool) -> tuple[float, float]:
    """The y range: the value, the threshold and the settled band edges, with a little headroom;
    never below 0 for a non-negative signal."""
    seen = [v for v in values if math.isfinite(v)]
    seen += [v for edge in edges for _, v in settled(edge)]
    if threshold is not None and math.isfinite(threshold):
        seen.append(threshold)
    if not seen:
        return 0.0, 1.0
    low, high = min(seen), max(seen)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    if non_negative:  # a band's lower edge (mean - k·stddev) may dip below 0; the signal cannot
        low = max(low, 0.0)
        high = max(high, low + pad)
    return low, high


def _at(points: Points, stamp: float) -> float | None:
    """The edge value in force at a moment (the last point at or before it)."""
    found = None
    for when, value in points:
        if when > stamp:
            break
        found = value
    return found


def band_cells(upper: Points, lower: Points, start: float, end: float, columns: int,
               limits: tuple[float, float], rows: int) -> tuple[list[float], list[float]]:
    """Points (x = moment, y = value) that shade the band: per column, one per row between the
    edges, clipped to the y limits. A missing lower edge means the band reaches the axis."""
    top_edge, bottom_edge = settled(upper), settled(lower)
    if not top_edge or columns <= 0 or rows <= 0 or end <= start:
        return [], []
    low, high = limits
    row = (high - low) / rows
    xs: list[float] = []
    ys: list[float] = []
    first = top_edge[0][0]
    for column in range(columns):
        stamp = start + (column + 0.5) * (end - start) / columns
        if stamp < first:
            continue
        top = _at(top_edge, stamp)
        bottom = _at(bottom_edge, stamp) if bottom_edge else None
        if top is None:
            continue
        bottom = low if bottom is None else max(low, bottom)
        top = min(high, top)
        if top < bottom:
            continue
        level = bottom + row / 2
        if level > top:  # thinner than a row: one cell, so a narrow band still shows
            level = (bottom + top) / 2
        while level <= top or not (xs and xs[-1] == stamp):
            xs.append(stamp)
            ys.append(level)
            level += row
    return xs, ys


def ticks(limits: tuple[float, float], count: int, unit: str) -> tuple[list[float], list[str]]:
    """`count` evenly spaced y ticks labelled with the unit ('30%', '4.9MB/s', '3d')."""
    low, high = limits
    count = max(2, count)
    values = [low + (high - low) * i / (count - 1) for i in range(count)]
    return values, [units.axis(v, unit) for v in values]
