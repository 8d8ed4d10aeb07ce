"""`t`: type an absolute (or relative) time for the cursor; Escape cancels."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from promsoc.text import one_line
from promsoc.times import TimeError, parse_moment


class TimePrompt(ModalScreen[float | None]):
    """Returns Unix seconds, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="time-box"):
            yield Static(Text("Evaluate as of: 2026-11-28 03:12 (UTC), RFC 3339, Unix seconds or -2h"))
            yield Input(placeholder="2026-11-28 03:12", id="time-input")
            yield Static("", id="time-error")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        try:
            at = parse_moment(event.value, self.clock())
        except TimeError as exc:
            self.query_one("#time-error", Static).update(Text(one_line(exc)))
            return
        self.dismiss(at)

    def action_cancel(self) -> None:
        self.dismiss(None)
