"""The timeline view's arithmetic: which columns of a lane fire, where the ticks go, short names.

Pure (no Textual), so the lanes are tested without a terminal. A lane is `width` columns over
[start, end); an interval [first step, last step] covers its steps' whole width (+ one step).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from promsoc.detectors.timeline import Interval

# Taller block, more severe: the severity reads without colour (NO_COLOR, 16 colours).
SEVERITY_GLYPH = {"critical": "█", "high": "▆", "medium": "▄", "low": "▂", "info": "▁"}
QUIET = "·"
WINDOWS: tuple[tuple[str, float], ...] = (("1h", 3600.0), ("6h", 21600.0), ("24h", 86400.0), ("7d", 604800.0))
_TICKS = (300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)


def lane(intervals: Sequence[Interval], start: float, end: float, width: int, step: float) -> list[int | None]:
    """Per column, the index of the interval drawn there (the latest overlapping one), or None."""
    cells: list[int | None] = [None] * max(0, width)
    if width <= 0 or end <= start:
        return cells
    per = (end - start) / width
    for index, interval in enumerate(intervals):
        first = max(start, interval.start)
        last = min(end, interval.end + step)
        if last <= first and not (start <= interval.start < end):
            continue
        lo = int((first - start) // per)
        hi = max(lo, int(-(-(last - start) // per)) - 1)
        for column in range(max(0, lo), min(width - 1, hi) + 1):
            cells[column] = index
    return cells


def column_of(moment: float, start: float, end: float, width: int) -> int | None:
    """The column a moment falls in, or None outside the lane."""
    if width <= 0 or not start <= moment <= end:
        return None
    return min(width - 1, int((moment - start) / (end - start) * width))


def ruler(start: float, end: float, width: int) -> str:
    """Time labels (UTC) along the lane: HH:MM, or the day for week-long lanes; never overlapping."""
    span = end - start
    text = [" "] * max(0, width)
    if width <= 0 or span <= 0:
        return ""
    tick = next((t for t in _TICKS if span / t <= max(2, width // 9)), _TICKS[-1])
    fmt = "%a %d" if tick >= 86400 else "%H:%M"
    moment = (start // tick + 1) * tick
    free_from = 0
    while moment < end:
        column = column_of(moment, start, end, width)
        label = "╵" + time.strftime(fmt, time.gmtime(moment))
        if column is not None and column >= free_from and column + len(label) <= width:
            text[column : column + len(label)] = list(label)
            free_from = column + len(label) + 1
        moment += tick
    return "".join(text)


def shorten(name: str, width: int) -> str:
    """A name in `width` columns: whole if it fits, else its start and end around one '…'."""
    if len(name) <= width:
        return name
    if width <= 1:
        return name[:width]
    head = (width - 1) // 2 + (width - 1) % 2
    tail = width - 1 - head
    return name[:head] + "…" + (name[-tail:] if tail else "")


def window_for(moment: float, now: float, window: float) -> tuple[float, float]:
    """The lane's [start, end]: up to now while the moment is in the last window, else around it."""
    if moment >= now - window * 0.95:
        return now - window, now
    end = min(now, moment + window * 0.2)
    return end - window, end
