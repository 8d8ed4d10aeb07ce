"""Lanes of the timeline view: one line per (source, detector), firing intervals drawn by severity.

Renders what it is given (`show`); up/down pick a lane, left/right an interval in it, Enter posts
`Chosen` (the screen moves the time cursor and opens the detector). Names are shortened around
an ellipsis, never cut mid-glyph, so 17 lanes read at 80 columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget

from promsoc import units
from promsoc.detectors.results import Status
from promsoc.detectors.timeline import Interval, TimelineResult
from promsoc.tui.safe_text import clean
from promsoc.tui.state import TileKey
from promsoc.tui.timeline_lanes import QUIET, SEVERITY_GLYPH, column_of, lane, ruler, shorten
from promsoc.tui.widgets import status

NAME_MIN, NAME_MAX = 16, 32


@dataclass(frozen=True)
class Lane:
    """One row: which detector of which source, and what the timeline said (None: loading)."""

    key: TileKey
    severity: str
    result: TimelineResult | None


def name_width(total: int) -> int:
    """The name column: 30 % of the width, within NAME_MIN..NAME_MAX."""
    return max(NAME_MIN, min(NAME_MAX, total * 3 // 10))


class TimelineLanes(Widget, can_focus=True):
    """Lanes over [start, end] with the time cursor as a mark; a selection of lane and interval."""

    COMPONENT_CLASSES = {
        "lanes--critical",
        "lanes--high",
        "lanes--medium",
        "lanes--low",
        "lanes--quiet",
        "lanes--cursor",
        "lanes--selected",
        "lanes--chosen",
        "lanes--dim",
        "lanes--source",
    }
    BINDINGS = [
        Binding("down,j", "move_lane(1)", "Next lane", show=False),
        Binding("up,k", "move_lane(-1)", "Previous lane", show=False),
        Binding("right", "move_interval(1)", "Next interval", show=False),
        Binding("left", "move_interval(-1)", "Previous interval", show=False),
        Binding("enter", "choose", "Open at interval start"),
    ]

    class Chosen(Message):
        """Enter on an interval: open this detector with the cursor at the interval's start."""

        def __init__(self, key: TileKey, interval: Interval) -> None:
            super().__init__()
            self.key = key
            self.interval = interval

    class Selected(Message):
        """The selection moved: the screen describes the selected interval."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lanes: list[Lane] = []
        self.start = 0.0
        self.end = 1.0
        self.step = 60.0
        self.cursor_at: float | None = None
        self.several_sources = False
        self.lane_index = 0
        self.interval_index: int | None = None

    # -- data -------------------------------------------------------------------------------
    def show(self, lanes: list[Lane], start: float, end: float, step: float, several_sources: bool) -> None:
        """New lanes; the selection stays on the same detector, on its latest interval."""
        selected = self.selected_lane
        self.lanes, self.start, self.end, self.step = lanes, start, end, step
        self.several_sources = several_sources
        keys = [item.key for item in lanes]
        self.lane_index = keys.index(selected.key) if selected and selected.key in keys else 0
        self.interval_index = None
        self._latest_interval()
        self.styles.height = self._row_count()
        self.refresh(layout=True)
        self.post_message(self.Selected())

    def move_cursor(self, at: float | None) -> None:
        self.cursor_at = at
        self.refresh()

    @property
    def selected_lane(self) -> Lane | None:
        return self.lanes[self.lane_index] if 0 <= self.lane_index < len(self.lanes) else None

    @property
    def selected_interval(self) -> Interval | None:
        lane_ = self.selected_lane
        if lane_ is None or lane_.result is None or self.interval_index is None:
            return None
        intervals = lane_.result.intervals
        return intervals[self.interval_index] if 0 <= self.interval_index < len(intervals) else None

    def _latest_interval(self) -> None:
        lane_ = self.selected_lane
        found = lane_.result.intervals if lane_ and lane_.result else []
        self.interval_index = len(found) - 1 if found else None

    # -- keys -------------------------------------------------------------------------------
    def action_move_lane(self, delta: int) -> None:
        if not self.lanes:
            return
        self.lane_index = max(0, min(len(self.lanes) - 1, self.lane_index + delta))
        self._latest_interval()
        self.refresh()
        self.scroll_to_region_of_lane()
        self.post_message(self.Selected())

    def action_move_interval(self, delta: int) -> None:
        lane_ = self.selected_lane
        found = lane_.result.intervals if lane_ and lane_.result else []
        if not found:
            return
        current = self.interval_index if self.interval_index is not None else len(found) - 1
        self.interval_index = max(0, min(len(found) - 1, current + delta))
        self.refresh()
        self.post_message(self.Selected())

    def action_choose(self) -> None:
        lane_, interval = self.selected_lane, self.selected_interval
        if lane_ is not None and interval is not None:
            self.post_message(self.Chosen(lane_.key, interval))

    def scroll_to_region_of_lane(self) -> None:
        """Keep the selected lane (and the ruler above the first) in view."""
        parent = self.parent
        if isinstance(parent, Widget):
            row = self._row_of(self.lane_index)
            parent.scroll_to_region(Region(0, max(0, row - 1), 1, 2), animate=False)

    # -- drawing ----------------------------------------------------------------------------
    def _row_count(self) -> int:
        sources = len({item.key.source for item in self.lanes}) if self.several_sources else 0
        return 1 + len(self.lanes) + sources

    def _row_of(self, index: int) -> int:
        row, last_source = 1, None
        for i, item in enumerate(self.lanes):
            if self.several_sources and item.key.source != last_source:
                row += 1
                last_source = item.key.source
            if i == index:
                return row
            row += 1
        return row

    def render(self) -> Text:
        width = max(self.content_size.width, 20)
        names = name_width(width)
        cells = max(1, width - names - 1)
        dim = self.get_component_rich_style("lanes--dim")
        lines = [Text(" " * (names + 1) + ruler(self.start, self.end, cells), style=dim, no_wrap=True)]
        cursor_column = column_of(self.cursor_at, self.start, self.end, cells) if self.cursor_at is not None else None
        last_source = None
        for index, item in enumerate(self.lanes):
            if self.several_sources and item.key.source != last_source:
                last_source = item.key.source
                lines.append(Text(clean(item.key.source, width), style=self.get_component_rich_style("lanes--source")))
            lines.append(self._lane_line(index, item, names, cells, cursor_column))
        text = Text("\n", no_wrap=True).join(lines)
        text.no_wrap = True
        return text

    def _lane_line(self, index: int, item: Lane, names: int, cells: int, cursor: int | None) -> Text:
        result = item.result
        line = Text(no_wrap=True, overflow="crop")
        if result is None:
            glyph = status.PENDING[0]
        elif result.status is Status.FIRING:
            glyph = status.GLYPH[Status.FIRING]
        elif result.status is Status.OK:
            glyph = " "
        else:
            glyph = status.GLYPH[result.status]
        label = f"{glyph} {shorten(clean(item.key.detector, 80), names - 2)}"
        selected = index == self.lane_index
        line.append(f"{label:<{names}}", style=self.get_component_rich_style("lanes--selected") if selected else "")
        line.append(" ")
        severity = item.severity if item.severity in SEVERITY_GLYPH else "medium"
        fire_style = self.get_component_rich_style(f"lanes--{severity if severity != 'info' else 'low'}")
        quiet = self.get_component_rich_style("lanes--quiet")
        chosen = self.get_component_rich_style("lanes--chosen")
        mark = self.get_component_rich_style("lanes--cursor")
        if result is None or result.status in (Status.ERROR, Status.NO_DATA):
            word = "loading…" if result is None else status.WORD[result.status].lower()
            if result is not None and result.status is Status.ERROR and result.error:
                word += ": " + clean(result.error, cells)
            line.append(word[:cells], style=quiet)
            return line
        drawn = lane(result.intervals, self.start, self.end, cells, self.step)
        for column, owner in enumerate(drawn):
            if owner is None:
                char, style = ("│", mark) if column == cursor else (QUIET, quiet)
            else:
                char, style = SEVERITY_GLYPH[severity], fire_style
                if selected and owner == self.interval_index:  # the interval Enter opens: full height
                    char, style = "█", chosen
                if column == cursor:
                    style = style + mark
            line.append(char, style=style)
        return line

    def describe_selection(self, unit_of: dict[str, str]) -> Text:
        """One line about the selected lane's selected interval, values with their unit."""
        lane_ = self.selected_lane
        if lane_ is None:
            return Text("")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(clean(lane_.key.detector, 40), style="bold")
        result, interval = lane_.result, self.selected_interval
        if result is None:
            return text.append("  loading…")
        if interval is None:
            return text.append(f"  {status.WORD[result.status].lower()}: no interval in this window")
        start = time.strftime("%m-%d %H:%M", time.gmtime(interval.start))
        end = time.strftime("%H:%M", time.gmtime(interval.end))
        unit = unit_of.get(lane_.key.detector, units.DEFAULT)
        worst = interval.low if units.lower_is_worse(unit) else interval.peak
        length = units.duration(interval.end - interval.start + self.step)
        text.append(f"  {lane_.severity}  {start}–{end} UTC ({length})  ")
        text.append(("worst " if units.lower_is_worse(unit) else "peak ") + units.human(worst, unit))
        count = len(interval.findings)
        text.append(f"  {count} finding{'s' if count != 1 else ''}")
        return text
