"""`S` on an alert: which labels to match, for how long, and why; then a confirmation. And the
yes/no question every write to Alertmanager asks first."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from promsoc.alerts import SILENCE_SKIP, AlertRow, matchers_text
from promsoc.config.reader import parse_duration
from promsoc.prom.alertmanager import Matcher
from promsoc.tui.safe_text import clean

DEFAULT_DURATION = "2h"
MAX_DURATION = 90 * 86400.0
# Labels that identify one alert rather than the kind of alert: not matched unless chosen.
UNCHECKED = ("instance", "job", "endpoint", "container_id")

SilenceRequest = tuple[list[str], float, str]
"""(label names to match, duration in seconds, comment)."""


class Confirm(ModalScreen[bool]):
    """A yes/no question: `y` confirms; `n` or Escape cancels."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question)
            yield Static(Text("y: yes, write it to Alertmanager    n / Esc: no", style="bold"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SilenceForm(ModalScreen[SilenceRequest | None]):
    """Matchers prefilled from the alert's labels (Space toggles), a duration, a comment; Enter
    on the comment asks for confirmation; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, row: AlertRow, author: str, url: str) -> None:
        super().__init__()
        self.row = row
        self.author = author
        self.url = url

    def compose(self) -> ComposeResult:
        names = [k for k in self.row.labels if k not in SILENCE_SKIP]
        choices = [
            Selection(Content(f"{clean(k, 30)}={clean(self.row.labels[k], 60)}"), k, k not in UNCHECKED) for k in names
        ]
        with Vertical(id="silence-box"):
            yield Static(Text(f"Silence on {clean(self.url, 50)} as {clean(self.author, 30)}", style="bold"))
            yield Static("Match these labels (Space toggles, Tab moves on):")
            yield SelectionList[str](*choices, id="silence-labels")
            yield Static("For how long (30m, 2h, 1d), and why (required; Enter to review):")
            yield Input(DEFAULT_DURATION, placeholder="duration: 30m, 2h, 1d", id="silence-duration", compact=True)
            yield Input(placeholder="why: e.g. pentest window, ticket SEC-123", id="silence-comment", compact=True)
            yield Static("", id="silence-error")

    def on_mount(self) -> None:
        self.query_one("#silence-comment", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#silence-error", Static).update(Text("✗ " + text, style="bold"))

    @on(Input.Submitted)
    def submitted(self) -> None:
        names = list(self.query_one("#silence-labels", SelectionList).selected)
        duration = parse_duration(self.query_one("#silence-duration", Input).value.strip())
        comment = self.query_one("#silence-comment", Input).value.strip()
        if not names:
            self._error("choose at least one label to match")
            return
        if duration is None or not 0 < duration <= MAX_DURATION:
            self._error("the duration must be like 30m, 2h or 1d (at most 90d)")
            return
        if not comment:
            self._error("say why: the comment is what the next on-call reads")
            return
        matchers = matchers_text(Matcher(k, self.row.labels[k]) for k in names if k in self.row.labels)
        question = Text(f"Create a silence on {clean(self.url, 50)} for {clean(self._duration_text(), 10)}\n")
        question.append(clean(matchers, 300))
        question.append(f"\nby {clean(self.author, 30)}: {clean(comment, 160)}")

        seconds: float = duration

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss((names, seconds, comment))

        self.app.push_screen(Confirm(question), answered)

    def _duration_text(self) -> str:
        return self.query_one("#silence-duration", Input).value.strip()

    def action_cancel(self) -> None:
        self.dismiss(None)
