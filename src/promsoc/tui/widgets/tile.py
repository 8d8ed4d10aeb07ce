"""One detector's tile: status glyph and word, findings, the top finding, and a banded sparkline."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widget import Widget

from promsoc import units
from promsoc.detectors.results import DetectorResult, Finding, Status
from promsoc.tui.backend import History
from promsoc.tui.safe_text import clean, identifying, inert, labels_line
from promsoc.tui.state import TileKey
from promsoc.tui.timeline_lanes import shorten
from promsoc.tui.widgets import sparkline_text, status

_STATUS_CLASSES = ("-firing", "-ok", "-no_data", "-error", "-pending")


def worst_finding(result: DetectorResult, unit: str = units.DEFAULT) -> Finding | None:
    """The highest-valued finding, or the lowest for units that fire low (expiry, age)."""
    if not result.findings:
        return None
    if units.lower_is_worse(unit):
        return min(result.findings, key=lambda f: f.value if f.value == f.value else float("inf"))
    return max(result.findings, key=lambda f: f.value if f.value == f.value else float("-inf"))


def top_finding(result: DetectorResult, unit: str = units.DEFAULT, worst: Finding | None = None) -> Text:
    """The worst finding's identifying labels (pod, host and path, rule), as inert text
    (`worst`: that finding when the caller already knows it)."""
    finding = worst if worst is not None else worst_finding(result, unit)
    if finding is None:
        return Text("")
    return labels_line(finding.labels, identifying(finding.labels), limit=40)


def _looks(result: DetectorResult | None, history: History | None, stale: str | None, worst: Finding | None) -> object:
    """What a tile draws, without the evaluation time that changes on every poll."""
    drawn = None
    if result is not None:
        top = top_finding(result, worst=worst).plain if result.findings else ""
        drawn = (result.status, result.found, top, result.error, result.severity, _marks(result))
    band = history.band.name if history and history.band else None
    spark = (tuple(history.points), tuple(history.firing or ()), band) if history else None
    return drawn, spark, stale


def _marks(result: DetectorResult) -> str:
    """`⧗ slow 12.3 s` when the query ran past its budget, `◐ partial` when the answer had warnings,
    `◆ recorded` when it read the recording rules' series, `↻ every 2 min` when the console
    evaluates it less often than every refresh (detectors.cadence)."""
    marks = []
    if result.slow:
        marks.append(f"{status.SLOW[0]} {status.SLOW[1]} {result.latency:.1f} s")
    if result.partial:
        marks.append(" ".join(status.PARTIAL))
    if result.recorded:
        marks.append(" ".join(status.RECORDED))
    if result.every:
        marks.append(f"{status.EVERY[0]} {status.EVERY[1]} {units.duration(result.every)}")
    return "  ".join(marks)


class DetectorTile(Widget, can_focus=True):
    """Renders what it is given; Enter asks the app to open the detector view."""

    COMPONENT_CLASSES = {
        "tile--firing",
        "tile--ok",
        "tile--no_data",
        "tile--error",
        "tile--pending",
        "tile--dim",
        "tile--spark",
        "tile--above",
        "tile--stale",
    }
    BINDINGS = [("enter", "open", "Open detector")]

    class Opened(Message):
        """The user chose this tile."""

        def __init__(self, key: TileKey) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self, key: TileKey, title: str, *, unit: str = units.DEFAULT, severity: str = "", id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="-pending")
        self.key = key
        self.unit = unit
        # the severity sits in the bottom border: the status line keeps its width for the words
        self.border_subtitle = clean(severity, 12) if severity else None
        self.result: DetectorResult | None = None
        self.history: History | None = None
        self.stale_reason: str | None = None
        self._shown: object = None
        self._worst_of: DetectorResult | None = None
        self._worst: Finding | None = None
        self.border_title = inert(key.detector, limit=60)
        self.tooltip = inert(title, limit=200)

    def show(self, result: DetectorResult | None, history: History | None, stale_reason: str | None) -> bool:
        """Take new data in place (tiles live for the whole session; nothing is remounted per poll).
        Returns whether the tile looks different: the caller then calls `repaint` (OverviewScreen
        spreads many repaints over frames, so a key never waits behind all of them)."""
        if result is self.result and history is self.history and stale_reason == self.stale_reason:
            return False  # the 2 s tick, or another tile's news: nothing to compare
        self.result, self.history, self.stale_reason = result, history, stale_reason
        shown = _looks(result, history, stale_reason, self.worst())
        if shown == self._shown:
            return False  # a new poll that looks the same writes nothing to the terminal
        self._shown = shown
        return True

    def firing(self) -> bool:
        """Whether the result shown is firing (its group shows it first)."""
        return self.result is not None and self.result.status is Status.FIRING

    def repaint(self) -> None:
        """Draw what `show` took: the border's class for the status (one style update for all
        of them: each re-applies the stylesheet), then the content."""
        result = self.result
        wanted = status.css_class(result.status if result else None)
        classes = {name: name == wanted for name in _STATUS_CLASSES}
        self.update_classes({**classes, "-stale": self.stale_reason is not None})
        self.refresh()

    def worst(self) -> Finding | None:
        """The worst finding of the result shown, found once per result (it may hold 1,000)."""
        result = self.result
        if self._worst_of is not result:
            self._worst_of, self._worst = result, worst_finding(result, self.unit) if result else None
        return self._worst

    def on_resize(self) -> None:
        """A narrow tile shortens its name around an ellipsis, keeping both ends readable."""
        room = max(8, self.size.width - 2)  # the border title's room: the width minus its corners
        self.border_title = shorten(inert(self.key.detector, limit=60).plain, room)

    def set_compact(self, compact: bool) -> None:
        """One line (glyph, word, name, findings, value, sparkline) instead of a bordered tile."""
        self.set_class(compact, "-compact")
        self.refresh()

    def action_open(self) -> None:
        self.post_message(self.Opened(self.key))

    def on_click(self) -> None:
        self.post_message(self.Opened(self.key))

    def _status_line(self) -> Text:
        result = self.result
        line = Text(no_wrap=True, overflow="ellipsis")
        if result is None:
            glyph, word = status.PENDING
            line.append(f"{glyph} {word}", style=self.get_component_rich_style("tile--pending"))
            return line
        if self.stale_reason is not None:  # first, so a narrow tile never cuts it off
            glyph, word = status.STALE
            line.append(f"{glyph} {word}  ", style=self.get_component_rich_style("tile--stale"))
        klass = f"tile-{status.css_class(result.status)}"
        style = self.get_component_rich_style(klass)
        line.append(f"{status.GLYPH[result.status]} {status.WORD[result.status]}", style=style)
        if marks := _marks(result):  # before the count, so a narrow tile keeps them
            line.append(f"  {marks}", style=self.get_component_rich_style("tile--stale"))
        if result.status is Status.FIRING:
            count = result.found  # the console keeps the worst 1,000; the count is all of them
            line.append(f"  {count} finding{'s' if count != 1 else ''}")
        self.border_subtitle = clean(result.severity, 12)
        return line

    def _detail_line(self) -> Text:
        if self.stale_reason is not None:
            return inert(self.stale_reason, style=self.get_component_rich_style("tile--stale"))
        result = self.result
        if result is None:
            return Text("")
        if result.status is Status.ERROR:
            return inert(result.error or "query failed", style=self.get_component_rich_style("tile--error"))
        dim = self.get_component_rich_style("tile--dim")
        if result.status is Status.NO_DATA:  # the pack's reason when it has one (it names the cause)
            return inert(result.note or "blind spot: metrics absent", style=dim)
        if result.status is Status.OK:
            history = self.history
            if units.lower_is_worse(self.unit) and history and history.points:
                return Text("quiet · " + units.human(history.points[-1][1], self.unit), style=dim)
            if history and history.threshold is not None and history.threshold == history.threshold:
                return Text("quiet · threshold " + units.human(history.threshold, self.unit), style=dim)
            band = history.band if history else None
            return inert("quiet" + (f" · band: {band.name}" if band else ""), style=dim)
        return top_finding(result, self.unit, self.worst())

    def _value(self) -> Text:
        """The worst finding's value with its unit ('62%', '25MB/s'), at the sparkline's end."""
        result = self.result
        worst = self.worst() if result and result.status is Status.FIRING else None
        if worst is None or self.stale_reason is not None:
            return Text("")
        return Text(" " + units.short(worst.value, self.unit), style=self.get_component_rich_style("tile--firing"))

    def _compact_line(self, width: int) -> Text:
        result = self.result
        line = Text(no_wrap=True, overflow="ellipsis")
        if result is None:
            glyph, word = status.PENDING
            style = self.get_component_rich_style("tile--pending")
        else:
            glyph, word = status.GLYPH[result.status], status.WORD[result.status]
            style = self.get_component_rich_style(f"tile-{status.css_class(result.status)}")
        if self.stale_reason is not None:
            glyph, word = status.STALE
            style = self.get_component_rich_style("tile--stale")
        line.append(f"{glyph} {word:<8}", style=style)
        name_width = max(12, min(32, width - 40))
        line.append(f"{inert(self.key.detector, limit=name_width).plain:<{name_width}} ")
        dim = self.get_component_rich_style("tile--dim")
        if result is not None and result.status is Status.FIRING:
            worst = self.worst()
            line.append(f"{result.found:>3} ")
            line.append(f"{units.short(worst.value, self.unit) if worst else '':<9}",
                        style=self.get_component_rich_style("tile--firing"))
        else:
            line.append(f"{'':>3} {clean(result.severity, 9) if result else '':<9}", style=dim)
        spark_width = width - line.cell_len - 1
        if spark_width >= 4:
            line.append(" ")
            line.append(sparkline_text.render(self.history, spark_width, self.get_component_rich_style("tile--spark"),
                                              self.get_component_rich_style("tile--above")))
        line.truncate(width, overflow="ellipsis")
        return line

    def render(self) -> Text:
        width = max(self.content_size.width, 1)
        if self.has_class("-compact"):
            return self._compact_line(width)
        value = self._value()
        spark = sparkline_text.render(
            self.history,
            max(1, width - value.cell_len),
            self.get_component_rich_style("tile--spark"),
            self.get_component_rich_style("tile--above"),
        )
        lines = [self._status_line(), self._detail_line(), spark + value]
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        joined = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
        joined.no_wrap = True
        return joined
