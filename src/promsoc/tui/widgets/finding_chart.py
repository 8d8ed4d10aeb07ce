"""A finding's series against its bands and threshold; each chart owns its own plotext figure."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from promsoc.tui.backend import Chart, Points
from promsoc.tui.series_math import plottable, plottable_value

# Markers, not only colours, tell the lines apart (colours follow the theme via textual-plotext).
VALUE_MARKER = "braille"
BAND_MARKERS = (".", ":", "·", "'")


def _hours(points: Points, at: float) -> tuple[list[float], list[float]]:
    """x as hours relative to the cursor (negative = before), so the axis reads without dates."""
    xs, ys = [], []
    for stamp, value in plottable(points):
        xs.append((stamp - at) / 3600.0)
        ys.append(value)
    return xs, ys


class FindingChart(PlotextPlot):
    """`show()` replaces the figure's data; nothing else draws on this plot object."""

    def show(self, chart: Chart | None, at: float, title: str, message: str | None = None) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("hours before the time cursor")
        if chart is not None and not plottable(chart.points):
            message = message or "no plottable values (only NaN, ±Inf or absurd magnitudes)"
            chart = None
        if chart is None or not chart.points:
            plt.text(message or "no data for this finding", 0.5, 0.5)
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            self.refresh()
            return
        xs, ys = _hours(chart.points, at)
        for index, band in enumerate(chart.bands):
            marker = BAND_MARKERS[index % len(BAND_MARKERS)]
            for edge, name in ((band.upper, "upper"), (band.lower, "lower")):
                bx, by = _hours(edge, at)
                if bx:
                    plt.plot(bx, by, marker=marker, label=f"{band.name} {name}")
        plt.plot(xs, ys, marker=VALUE_MARKER, label="value")
        if chart.threshold is not None and plottable_value(chart.threshold):
            plt.horizontal_line(chart.threshold)
        if chart.crossed_at is not None and math.isfinite(chart.crossed_at):
            x = (chart.crossed_at - at) / 3600.0
            plt.vertical_line(x)
            top = max(ys) if ys else 0.0
            plt.text("✕ crossed", x, top)
        self.refresh()
