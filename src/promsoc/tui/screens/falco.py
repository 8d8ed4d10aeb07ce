"""The Falco view: matches per rule and priority, top rules then and now, deliveries, health."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from promsoc import units
from promsoc.text import one_line
from promsoc.tui.backend import FalcoSummary, Points
from promsoc.tui.messages import FalcoLoaded
from promsoc.tui.safe_text import clean, inert
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.series_math import plottable
from promsoc.tui.state import TileKey

WINDOW = 3600.0
MAX_LINES = 5
MARKERS = ("braille", "dot", "+", "x", "o")


def plot_lines(plot: PlotextPlot, title: str, lines: dict[str, Points], at: float) -> None:
    """Up to MAX_LINES series (largest last value first), x in minutes before the cursor.

    Counts never go below 0, and the y axis leaves the top rows to the legend, so that it sits
    above the lines instead of over them (as many series as half the plot's rows hold).
    """
    plt = plot.plt
    plt.clear_figure()
    plt.title(title)
    plt.xlabel("minutes before the time cursor")
    drawable = {name: plottable(points) for name, points in lines.items()}
    ranked = sorted(drawable.items(), key=lambda kv: kv[1][-1][1] if kv[1] else 0.0, reverse=True)
    rows = max(4, plot.size.height - 5)
    shown = ranked[: max(1, min(MAX_LINES, rows // 2))]
    highest = 0.0
    for index, (name, points) in enumerate(shown):
        xs = [(t - at) / 60.0 for t, _ in points]
        ys = [v for _, v in points]
        highest = max([highest, *ys])
        plt.plot(xs, ys, marker=MARKERS[index % len(MARKERS)], label=clean(name, 28))
    if shown and any(points for _, points in shown):
        legend_share = (len(shown) + 0.5) / rows
        plt.ylim(0, (highest or 1.0) / max(0.3, 1 - legend_share))
    if not any(points for _, points in ranked):
        plt.text("no matches", 0.5, 0.5)
        plt.xlim(0, 1)
        plt.ylim(0, 1)
    plot.refresh()


class FalcoScreen(ConsoleScreen):
    """Loads its summary at the cursor when shown, when the cursor moves, and every interval."""

    BINDINGS = [
        Binding("n", "next_source", "Next source"),
        Binding("escape", "app.show('overview')", "Overview"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.source_index = 0
        self.summary: FalcoSummary | None = None
        self._loaded_at = 0.0

    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(id="falco-title", classes="screen-title")
        with Horizontal(id="falco-charts"):
            yield PlotextPlot(id="by-rule")
            yield PlotextPlot(id="by-priority")
        with Horizontal(id="falco-tables"):
            yield DataTable(id="top-rules", cursor_type="row")
            yield DataTable(id="deliveries", cursor_type="row")
        yield Static(id="falco-health")
        yield Footer()

    @property
    def source(self) -> str:
        sources = self.console.state.sources
        return sources[self.source_index % len(sources)] if sources else ""

    def on_mount(self) -> None:
        top = self.query_one("#top-rules", DataTable)
        top.add_columns("rule", "matches in 1 h: now", "1 h ago", "1 d ago")
        deliveries = self.query_one("#deliveries", DataTable)
        deliveries.add_columns("destination", "delivered in 1 h", "failed")
        self.set_interval(self.console.interval, self._due)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    def cursor_moved(self) -> None:
        super().cursor_moved()
        self.load()

    def action_next_source(self) -> None:
        self.source_index += 1
        self.load()

    def _due(self) -> None:
        if self.console.shown_screen() is self:
            self.load()

    def load(self) -> None:
        """Fetch in a worker; the screen keeps answering keys while the query runs."""
        source = self.source
        at = self.console.cursor.eval_time(self.console.clock())
        title = Text(f"Falco · {clean(source, 30)} · ", no_wrap=True)
        title.append("loading…" if self.summary is None else "refreshing…", style="dim")
        self.query_one("#falco-title", Static).update(title)

        self._fetch(source, at)

    @work(exclusive=True, group="falco")
    async def _fetch(self, source: str, at: float) -> None:
        try:
            summary = await self.console.backend.falco(source, at, WINDOW)
        except Exception as exc:  # shown in the view, the console keeps running
            self.post_message(FalcoLoaded(source, None, at, one_line(exc)))
            return
        self.post_message(FalcoLoaded(source, summary, at))

    def on_falco_loaded(self, message: FalcoLoaded) -> None:
        title = Text(f"Falco · {clean(message.source, 30)}", no_wrap=True)
        if message.error:
            title.append("  ✗ " + clean(message.error, 100))
        self.query_one("#falco-title", Static).update(title)
        summary = message.summary or FalcoSummary()
        self.summary = summary
        plot_lines(self.query_one("#by-rule", PlotextPlot), "matches per rule, per 5 min", summary.by_rule, message.at)
        plot_lines(
            self.query_one("#by-priority", PlotextPlot),
            "matches per priority, per 5 min",
            summary.by_priority,
            message.at,
        )
        top = self.query_one("#top-rules", DataTable)
        top.clear()
        for row in summary.top_rules:
            top.add_row(
                inert(row.rule, limit=48),
                units.human(row.now, "count"),
                units.human(row.hour_ago, "count"),
                units.human(row.day_ago, "count"),
            )
        deliveries = self.query_one("#deliveries", DataTable)
        deliveries.clear()
        for item in summary.deliveries:
            mark = "✗ " if item.error > 0 else "✓ "
            deliveries.add_row(
                Text(mark) + inert(item.destination, limit=40),
                units.human(item.ok, "count"),
                units.human(item.error, "count"),
            )
        health = Text()
        health.append("Falco health  ", style="bold")
        dropped = summary.dropped_events
        health.append("dropped events in 1 h: " + ("—" if dropped is None else units.human(dropped, "count")))
        if dropped:
            health.append("  ▲ Falco is missing events", style="bold")
        health.append("   instances reporting: " + ("—" if summary.instances is None else str(summary.instances)))
        for note in summary.notes:
            health.append("\n" + clean(note, 200))
        self.query_one("#falco-health", Static).update(health)

    def state_changed(self, keys: list[TileKey]) -> None:
        super().state_changed(keys)
