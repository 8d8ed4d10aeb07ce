"""The timeline view: when each detector fired over the last 1h / 6h / 24h / 7d, and the cursor.

Lanes come from `backend.timeline` (one range query per detector and source, in the domain);
Enter on an interval moves the time cursor to its start and opens that detector.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static

from promsoc.detectors.results import Status
from promsoc.detectors.timeline import TimelineResult, default_step
from promsoc.text import one_line
from promsoc.tui.safe_text import clean
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.state import TileKey
from promsoc.tui.time_cursor import format_utc
from promsoc.tui.timeline_lanes import SEVERITY_GLYPH, WINDOWS, window_for
from promsoc.tui.widgets.timeline_view import Lane, TimelineLanes

REFRESH_EVERY = 60.0  # live lanes move on; a week of range queries is not worth every poll


@dataclass
class TimelineLoaded(Message):
    """Lanes for [start, end] arrived; `errors` holds one line per source that failed."""

    start: float
    end: float
    results: dict[str, list[TimelineResult]]
    errors: dict[str, str]


class TimelineScreen(ConsoleScreen):
    """Loads when shown, when its window or the cursor leaves it, and every minute while live."""

    BINDINGS = [
        Binding("1", "window(0)", "1h", show=False),
        Binding("2", "window(1)", "6h", show=False),
        Binding("3", "window(2)", "24h"),
        Binding("4", "window(3)", "7d", show=False),
        Binding("escape", "app.show('overview')", "Overview"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.window_index = 1
        self.start = 0.0
        self.end = 0.0
        self.results: dict[str, list[TimelineResult]] = {}
        self.errors: dict[str, str] = {}
        self._loading = False
        self._loaded_at = -REFRESH_EVERY

    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(id="timeline-title", classes="screen-title")
        with VerticalScroll(id="timeline-lanes"):
            yield TimelineLanes(id="lanes")
        yield Static(id="timeline-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TimelineLanes).focus()
        self.set_interval(10.0, self._due)

    @property
    def window(self) -> tuple[str, float]:
        return WINDOWS[self.window_index]

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    def cursor_moved(self) -> None:
        super().cursor_moved()
        lanes = self.query_one(TimelineLanes)
        lanes.move_cursor(self._cursor_mark())
        _start, end = self._range()
        if not (self.start <= self._moment() <= self.end) or (self.console.cursor.live and end - self.end > 30):
            self.load()
        self._title()

    def action_window(self, index: int) -> None:
        self.window_index = index
        self.load()

    def _due(self) -> None:
        live = self.console.cursor.live
        if self.console.shown_screen() is self and live and self.console.clock() - self._loaded_at >= REFRESH_EVERY:
            self.load()

    def _moment(self) -> float:
        return self.console.cursor.eval_time(self.console.clock())

    def _cursor_mark(self) -> float | None:
        return None if self.console.cursor.live else self.console.cursor.at

    def _range(self) -> tuple[float, float]:
        return window_for(self._moment(), self.console.clock(), self.window[1])

    def load(self) -> None:
        """Fetch every source's lanes in a worker; the screen keeps answering keys meanwhile."""
        self.start, self.end = self._range()
        self._loading = True
        self._loaded_at = self.console.clock()
        self._title()
        self._fetch(self.start, self.end)

    @work(exclusive=True, group="timeline")
    async def _fetch(self, start: float, end: float) -> None:
        backend = self.console.backend
        sources = list(self.console.state.sources)

        async def one(source: str) -> list[TimelineResult] | str:
            try:
                return await backend.timeline(source, start, end)
            except Exception as exc:  # shown in the view, the console keeps running
                return one_line(exc)

        answers = await asyncio.gather(*(one(s) for s in sources))
        results = {s: a for s, a in zip(sources, answers, strict=True) if not isinstance(a, str)}
        errors = {s: a for s, a in zip(sources, answers, strict=True) if isinstance(a, str)}
        self.post_message(TimelineLoaded(start, end, results, errors))

    def on_timeline_loaded(self, message: TimelineLoaded) -> None:
        if (message.start, message.end) != (self.start, self.end):
            return  # an older window's answer
        self._loading = False
        self.results, self.errors = message.results, message.errors
        self._show()

    def _lanes(self) -> list[Lane]:
        state = self.console.state
        out: list[Lane] = []
        for source in state.sources:
            by_id = {r.detector: r for r in self.results.get(source, [])}
            failed = self.errors.get(source)
            for detector, info in state.detectors.items():
                result = by_id.get(detector)
                if result is None and failed is not None:
                    result = TimelineResult(source, detector, info.title, info.category, info.severity,
                                            info.unit, Status.ERROR, error=failed)
                severity = result.severity if result else info.severity
                out.append(Lane(TileKey(source, detector), severity, result))
        # fired lanes first, then the rest in pack order, within each source
        order = {key: i for i, key in enumerate(lane.key for lane in out)}
        return sorted(out, key=lambda lane: (state.sources.index(lane.key.source),
                                              not (lane.result and lane.result.intervals),
                                              order[lane.key]))

    def _show(self) -> None:
        lanes = self.query_one(TimelineLanes)
        step = default_step(self.start, self.end)
        several = len(self.console.state.sources) > 1
        lanes.show(self._lanes(), self.start, self.end, step, several)
        lanes.move_cursor(self._cursor_mark())
        self._title()

    def _title(self) -> None:
        name, _span = self.window
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"Timeline · last {name}" if self.console.cursor.live else f"Timeline · {name}")
        if self.end:
            title.append(f" to {format_utc(self.end)[5:]}")
        fired = sum(1 for rs in self.results.values() for r in rs if r.intervals)
        title.append(f" · {fired} fired" if not self._loading else " · loading…", style="bold")
        title.append("  keys 1 2 3 4: 1h 6h 24h 7d  ", style="dim")
        title.append(" ".join(f"{glyph} {sev}" for sev, glyph in SEVERITY_GLYPH.items() if sev != "info"),
                     style="dim")
        for source, error in self.errors.items():
            title.append(f"  ✗ {clean(source, 20)}: {clean(error, 80)}")
        self.query_one("#timeline-title", Static).update(title)

    @on(TimelineLanes.Selected)
    def _selected(self) -> None:
        units_of = {d: info.unit for d, info in self.console.state.detectors.items()}
        self.query_one("#timeline-detail", Static).update(self.query_one(TimelineLanes).describe_selection(units_of))

    @on(TimelineLanes.Chosen)
    def _chosen(self, event: TimelineLanes.Chosen) -> None:
        app = self.console
        app.cursor = app.cursor.jump(event.interval.start, app.clock())
        app.open_detector(event.key)
