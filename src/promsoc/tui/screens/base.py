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

    _header: ConsoleHeader | None = None

    def make_header(self) -> ConsoleHeader:
        app = self.console
        self._header = ConsoleHeader(app.state, lambda: app.cursor, app.clock, app.interval_of, id="header")
        return self._header

    def shown_headers(self) -> list[ConsoleHeader]:
        """The header this screen made, once it is mounted. Kept rather than queried: a query walks
        every widget, and with twenty sources' 340 tiles that was 7 ms on every message and tick."""
        header = self._header
        return [header] if header is not None and header.is_attached else []

    def state_changed(self, keys: list[TileKey]) -> None:
        """New results or sparklines arrived for these tiles (all tiles when the list is empty)."""
        for header in self.shown_headers():
            header.update_view()

    def cursor_moved(self) -> None:
        """The time cursor moved: screens that load their own data reload it here."""
        for header in self.shown_headers():
            header.refresh()

    def on_screen_resume(self) -> None:
        self.state_changed([])
