"""`?`: every key of the console, generated from the bindings themselves so it cannot drift."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_table() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what)]) for the app and each screen, from their BINDINGS."""
    from promsoc.tui.app import ConsoleApp
    from promsoc.tui.screens.alerts import AlertsScreen
    from promsoc.tui.screens.detector import DetectorScreen
    from promsoc.tui.screens.falco import FalcoScreen
    from promsoc.tui.screens.overview import OverviewScreen
    from promsoc.tui.screens.timeline import TimelineScreen
    from promsoc.tui.screens.topology import TopologyScreen
    from promsoc.tui.widgets.timeline_view import TimelineLanes

    def rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
        out = []
        for binding in bindings:
            if isinstance(binding, Binding):
                keys = ", ".join(display(k) for k in binding.key.split(","))
                out.append((keys, binding.description or binding.action))
        return out

    table = [
        ("Everywhere", [*rows(ConsoleApp.BINDINGS), ("ctrl+p", "Command palette (every action)")]),
        ("Overview", rows(OverviewScreen.BINDINGS)),
        ("Detector view", rows(DetectorScreen.BINDINGS)),
        ("Falco view", rows(FalcoScreen.BINDINGS)),
        ("Topology", rows(TopologyScreen.BINDINGS)),
        ("Alerts view", rows(AlertsScreen.BINDINGS)),
        ("Timeline view", [*rows(TimelineScreen.BINDINGS), *rows(TimelineLanes.BINDINGS)]),
    ]
    return table


_NAMES = {
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "question_mark": "?",
    "slash": "/",
}


def display(key: str) -> str:
    return _NAMES.get(key.strip(), key.strip())


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "dismiss_help", "Close help")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for section, rows in key_table():
            table.add_row(Text(section, style="underline"), "")
            for keys, what in rows:
                table.add_row(Text(keys), Text(what))
            table.add_row("", "")
        with VerticalScroll(id="help-box"):
            yield Static(table)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
