"""One detector's tile: status glyph and word, findings, the top finding, and a banded sparkline."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widget import Widget

from promsoc.detectors.results import DetectorResult, Status
from promsoc.tui.backend import History
from promsoc.tui.safe_text import clean, identifying, inert, labels_line
from promsoc.tui.state import TileKey
from promsoc.tui.widgets import sparkline_text, status

_STATUS_CLASSES = ("-firing", "-ok", "-no_data", "-error", "-pending")


def top_finding(result: DetectorResult) -> Text:
    """The highest-valued finding's identifying labels (pod, host and path, rule), as inert text."""
    if not result.findings:
        return Text("")
    finding = max(result.findings, key=lambda f: f.value if f.value == f.value else float("-inf"))
    return labels_line(finding.labels, identifying(finding.labels), limit=40)


def _looks(result: DetectorResult | None, history: History | None, stale: str | None) -> object:
    """What a tile draws, without the evaluation time that changes on every poll."""
    drawn = None
    if result is not None:
        top = top_finding(result).plain if result.findings else ""
        drawn = (result.status, len(result.findings), top, result.error, result.severity)
    band = history.band.name if history and history.band else None
    spark = (tuple(history.points), tuple(history.firing or ()), band) if history else None
    return drawn, spark, stale


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

    def __init__(self, key: TileKey, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-pending")
        self.key = key
        self.result: DetectorResult | None = None
        self.history: History | None = None
        self.stale_reason: str | None = None
        self._shown: object = None
        self.border_title = inert(key.detector, limit=60)
        self.tooltip = inert(title, limit=200)

    def show(self, result: DetectorResult | None, history: History | None, stale_reason: str | None) -> None:
        """Update in place (tiles live for the whole session; nothing is remounted per poll)."""
        shown = _looks(result, history, stale_reason)
        self.result, self.history, self.stale_reason = result, history, stale_reason
        if shown == self._shown:
            return  # a new poll that looks the same writes nothing to the terminal
        self._shown = shown
        wanted = status.css_class(result.status if result else None)
        for name in _STATUS_CLASSES:
            self.set_class(name == wanted, name)
        self.set_class(stale_reason is not None, "-stale")
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
        if result.status is Status.FIRING:
            count = len(result.findings)
            line.append(f"  {count} finding{'s' if count != 1 else ''}")
        line.append(f"  {clean(result.severity, 12)}", style=self.get_component_rich_style("tile--dim"))
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
        if result.status is Status.NO_DATA:
            return Text("blind spot: metrics absent", style=dim)
        if result.status is Status.OK:
            band = self.history.band if self.history else None
            return inert("quiet" + (f" · band: {band.name}" if band else ""), style=dim)
        return top_finding(result)

    def render(self) -> Text:
        width = max(self.content_size.width, 1)
        spark = sparkline_text.render(
            self.history,
            width,
            self.get_component_rich_style("tile--spark"),
            self.get_component_rich_style("tile--above"),
        )
        lines = [self._status_line(), self._detail_line(), spark]
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        joined = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
        joined.no_wrap = True
        return joined
