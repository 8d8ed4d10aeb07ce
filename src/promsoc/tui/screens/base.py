"""What every console screen shares: the header, a footer, and a hook for fresh state."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from promsoc.tui.state import TileKey
from promsoc.tui.widgets.console_header import ConsoleHeader

if TYPE_CHECKING:
    from promsoc.tui.app import ConsoleApp


class ConsoleScreen(Screen[None]):
    """A screen that renders the app's state; only the active screen gets `state_changed`."""

    @property
    def console(self) -> ConsoleApp:
        return cast("ConsoleApp", self.app)

    def make_header(self) -> ConsoleHeader:
        app = self.console
        return ConsoleHeader(app.state, lambda: app.cursor, app.clock, app.interval_of, id="header")

    def state_changed(self, keys: list[TileKey]) -> None:
        """New results or sparklines arrived for these tiles (all tiles when the list is empty)."""
        for header in self.query(ConsoleHeader):
            header.update_view()

    def cursor_moved(self) -> None:
        """The time cursor moved: screens that load their own data reload it here."""
        for header in self.query(ConsoleHeader):
            header.refresh()

    def on_screen_resume(self) -> None:
        self.state_changed([])
