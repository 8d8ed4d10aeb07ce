"""A one-line sparkline drawn against its anomaly band: points above the band use another glyph."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from promsoc.tui.backend import History, Points
from promsoc.tui.series_math import plottable, plottable_value

BLOCKS = "▁▂▃▄▅▆▇█"
ABOVE = "▲"
NO_POINT = " "


def _buckets(points: Points, width: int, start: float, end: float, lowest: bool = False) -> list[float | None]:
    """Resample points into `width` equal time buckets, keeping each bucket's maximum (minimum)."""
    out: list[float | None] = [None] * width
    span = max(end - start, 1e-9)
    for stamp, value in plottable(points):  # NaN, ±Inf and absurd magnitudes are not drawn
        index = min(width - 1, max(0, int((stamp - start) / span * width)))
        current = out[index]
        out[index] = value if current is None else (min if lowest else max)(current, value)
    return out


def _edge_at(points: Points, stamp: float) -> float | None:
    """The band edge in force at a moment: the last edge point at or before it."""
    best: float | None = None
    for when, value in points:
        if when <= stamp:
            best = value
        else:
            break
    return best if plottable_value(best) else None


def closeness(value: float, threshold: float) -> float:
    """0 far from a lower threshold, 1 at or below it: threshold / value, clamped."""
    if value <= threshold or value <= 0:
        return 1.0
    return max(0.0, min(1.0, threshold / value))


def _closeness(history: History, width: int, start: float, end: float, normal: Style, above: Style) -> Text:
    """A sparkline of how near each moment came to a lower threshold (expiry, age): it grows as
    the certificate nears expiry, instead of a flat block of '20 days left'."""
    assert history.threshold is not None
    text = Text(no_wrap=True)
    values = _buckets(history.points, width, start, end, lowest=True)
    fired = _buckets([(t, 1.0) for t in history.firing], width, start, end) if history.firing else []
    for index, value in enumerate(values):
        if value is None:
            text.append(NO_POINT)
        elif (fired and fired[index] is not None) or value < history.threshold:
            text.append(ABOVE, style=above)
        else:
            level = round(closeness(value, history.threshold) * (len(BLOCKS) - 1))
            text.append(BLOCKS[level], style=normal)
    return text


def render(history: History | None, width: int, normal: Style, above: Style) -> Text:
    """Sparkline text of `width` cells: moments the detector fired (or, failing that, points
    above the band) get the ABOVE glyph; an empty history renders as a dim placeholder."""
    text = Text(no_wrap=True)
    if history is None or not history.points or width <= 0:
        text.append("·" * max(width, 0), style=normal)
        return text
    points = plottable(history.points)
    if not points:
        text.append("·" * width, style=normal)
        return text
    start, end = points[0][0], points[-1][0]
    if history.lower_is_worse and plottable_value(history.threshold):
        return _closeness(history, width, start, end, normal, above)
    values = _buckets(points, width, start, end)
    upper = plottable(history.band.upper) if history.band else []
    limits = [v for v in values if v is not None] + [v for _, v in upper]
    threshold = history.threshold if plottable_value(history.threshold) else None
    if threshold is not None:
        limits.append(threshold)
    low, high = min(limits), max(limits)
    scale = (high - low) or 1.0
    span = max(end - start, 1e-9)
    firing = _buckets([(t, 1.0) for t in history.firing], width, start, end) if history.firing else []
    for index, value in enumerate(values):
        if value is None:
            text.append(NO_POINT)
            continue
        if history.firing is not None:
            beyond = bool(firing) and firing[index] is not None
        else:
            stamp = start + (index + 0.5) * span / width
            edge = _edge_at(upper, stamp) if upper else None
            limit = edge if edge is not None else threshold
            beyond = limit is not None and value > limit
        if beyond:
            text.append(ABOVE, style=above)
        else:
            level = int((value - low) / scale * (len(BLOCKS) - 1))
            text.append(BLOCKS[max(0, min(level, len(BLOCKS) - 1))], style=normal)
    return text
