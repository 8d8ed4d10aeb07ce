"""The console's top line: sources and their health, the time cursor, last poll and latency."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from promsoc.detectors.results import Status
from promsoc.tui.safe_text import clean
from promsoc.tui.state import ConsoleState
from promsoc.tui.time_cursor import Cursor, describe
from promsoc.tui.widgets import status


class ConsoleHeader(Widget):
    """Reads the app's state and cursor on each refresh; the app refreshes when either changes."""

    COMPONENT_CLASSES = {
        "header--firing",
        "header--warn",
        "header--live",
        "header--past",
        "header--stale",
        "header--ok",
        "header--dim",
    }

    def __init__(
        self,
        state: ConsoleState,
        cursor: Callable[[], Cursor],
        clock: Callable[[], float],
        interval: Callable[[str], float],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.state = state
        self.cursor = cursor
        self.clock = clock
        self.interval = interval
        self._last = ""

    def counts(self) -> dict[Status, int]:
        """Results per status across every source: firing below the fold is still counted here."""
        out: dict[Status, int] = {}
        for result in self.state.results.values():
            out[result.status] = out.get(result.status, 0) + 1
        return out

    def update_view(self) -> None:
        """Repaint only when the words changed: the 2 s tick must not rewrite an equal line."""
        plain = self._line().plain
        if plain != self._last:
            self._last = plain
            self.refresh()

    def render(self) -> Text:
        line = self._line()
        self._last = line.plain
        return line

    def _line(self) -> Text:
        now = self.clock()
        cursor = self.cursor()
        dim = self.get_component_rich_style("header--dim")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" promsoc ", style=self.get_component_rich_style("header--ok"))
        live_style = "header--live" if cursor.live else "header--past"
        line.append(f" {describe(cursor, now)} ", style=self.get_component_rich_style(live_style))
        line.append(f" step {cursor.step_name}", style=dim)
        counts = self.counts()
        wide = self.size.width >= 110  # narrower: words only for firing, so the sources still fit
        for status_, style in ((Status.FIRING, "header--firing"), (Status.NO_DATA, "header--warn"),
                               (Status.ERROR, "header--warn")):
            if counts.get(status_):
                word = status.WORD[status_].lower()
                shown = f"{status.GLYPH[status_]} {counts[status_]} {word}" if wide or status_ is Status.FIRING \
                    else f"{status.GLYPH[status_]}{counts[status_]}"
                line.append("  " if wide else " ")
                line.append(shown, style=self.get_component_rich_style(style))
        if not counts.get(Status.FIRING) and self.state.results:
            line.append("  ✓ nothing firing", style=self.get_component_rich_style("header--ok"))
        for source in self.state.sources:
            health = self.state.health[source]
            line.append("  │ ", style=dim)
            line.append(clean(source, 24))
            if health.last_ok is None and health.error is None:
                line.append(" … polling", style=dim)
                continue
            if health.last_ok is not None:
                stamp = time.strftime("%H:%M:%S", time.gmtime(health.last_ok))
                latency = f"{(health.latency or 0) * 1000:.0f} ms"
                line.append(f" {stamp} UTC {latency}", style=dim)
            if health.stale(now, self.interval(source)):
                reason = f": {clean(health.error, 40)}" if health.error else ""
                line.append(f" ⌛ STALE{reason}", style=self.get_component_rich_style("header--stale"))
        if self.state.alerts:
            active, unreadable = self.state.paging()
            line.append("  │ ", style=dim)
            if unreadable:
                line.append("✗ alerts unreadable", style=self.get_component_rich_style("header--stale"))
            else:
                word = "alert" if active == 1 else "alerts"
                line.append(f"▲ {active} {word}" if active else "✓ 0 alerts")
        return line
