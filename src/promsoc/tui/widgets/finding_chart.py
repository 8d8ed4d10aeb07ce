"""A finding's series against its band and threshold; each chart owns its own plotext figure.

The band is one shaded region, the value one line over it, the threshold and the crossing are
marked and labelled inside the plot, the y axis speaks the detector's unit, and the legend is
the title line (plotext's own legend box would cover the data). Layout: tui/chart_layout.py.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from promsoc import units
from promsoc.tui.backend import Chart, Points
from promsoc.tui.chart_layout import band_cells, ticks, y_limits
from promsoc.tui.series_math import plottable, plottable_value

# Markers, not only colours, tell the parts apart (colours follow the theme via textual-plotext).
VALUE_MARKER = "braille"
BAND_MARKER = "░"
BAND_COLOR = "gray"


def _hours(points: Points, at: float) -> tuple[list[float], list[float]]:
    """x as hours relative to the cursor (negative = before), so the axis reads without dates."""
    xs, ys = [], []
    for stamp, value in plottable(points):
        xs.append((stamp - at) / 3600.0)
        ys.append(value)
    return xs, ys


class FindingChart(PlotextPlot):
    """`show()` replaces the figure's data; nothing else draws on this plot object."""

    def show(self, chart: Chart | None, at: float, title: str, message: str | None = None,
             unit: str = units.DEFAULT) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("hours before the time cursor")
        if chart is not None and not plottable(chart.points):
            message = message or "no plottable values (only NaN, ±Inf or absurd magnitudes)"
            chart = None
        if chart is None or not chart.points:
            plt.title(title)
            plt.text(message or "no data for this finding", 0.5, 0.5)
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            self.refresh()
            return
        xs, ys = _hours(chart.points, at)
        threshold = chart.threshold if plottable_value(chart.threshold) else None
        band = chart.bands[0] if chart.bands else None
        edges = [band.upper, band.lower] if band else []
        limits = y_limits(ys, edges, threshold, units.non_negative(unit))
        legend = [f"⣿ value {units.human(ys[-1], unit)}"]
        start, end = chart.points[0][0], chart.points[-1][0]
        if band is not None:
            columns = max(20, self.size.width * 2)  # finer than the plot's columns: no gaps
            rows = max(4, self.size.height - 5)
            bx, by = band_cells(band.upper, band.lower, start, end, columns, limits, rows)
            if bx:
                plt.scatter([(x - at) / 3600.0 for x in bx], by, marker=BAND_MARKER, color=BAND_COLOR)
                legend.append(f"{BAND_MARKER} {band.name}")
        plt.plot(xs, ys, marker=VALUE_MARKER)
        plt.ylim(*limits)
        values, labels = ticks(limits, 5, unit)
        plt.yticks(values, labels)
        left, right = xs[0], xs[-1]
        if threshold is not None:  # drawn as a signal after the band, so the shading never hides it
            plt.plot([left, right], [threshold, threshold], marker="─")
            plt.text(f"threshold {units.human(threshold, unit)}", left, threshold, alignment="left")
            legend.append(f"─ threshold {units.human(threshold, unit)}")
        if chart.crossed_at is not None and math.isfinite(chart.crossed_at):
            x = (chart.crossed_at - at) / 3600.0
            plt.vertical_line(x)
            near_right = right - x < (right - left) * 0.35
            label = "crossed ✕" if near_right else "✕ crossed"
            plt.text(label, x, limits[1] - (limits[1] - limits[0]) * 0.04,
                     alignment="right" if near_right else "left")
            legend.append("│ crossed")
        words = "  ".join([title, *legend]).strip()
        if len(words) > self.size.width - 2:  # plotext drops a title wider than the plot
            words = "  ".join(part.split(" ")[0] + " " + part.split(" ")[1] for part in legend)
        plt.title(words[: max(0, self.size.width - 2)])
        self.refresh()
