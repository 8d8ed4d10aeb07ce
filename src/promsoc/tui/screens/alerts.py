"""`a`: what pages people: Alertmanager's alerts grouped by name with their state, and its silences.

At a past time cursor it shows what Prometheus's rules had firing then (`ALERTS`), and says that
Alertmanager's silenced/inhibited state is live-only. Silencing (`S`) and expiring (`E`) exist
only for an Alertmanager configured with `allow_silence: true`; each asks for confirmation.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from promsoc.alerts import STATE_GLYPH, AlertGroup, AlertRow, age, matchers_text
from promsoc.prom.alertmanager import Silence
from promsoc.text import one_line
from promsoc.tui.backend import AlertmanagerInfo, Silencer
from promsoc.tui.safe_text import clean, inert
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.state import AlertsSnapshot, TileKey
from promsoc.tui.time_cursor import format_utc

STATE_CLASS = {"active": "error", "firing": "error", "pending": "warning", "silenced": "dim", "inhibited": "dim"}


def labels_text(labels: dict[str, str], limit: int = 40) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for index, (key, value) in enumerate(labels.items()):
        if index:
            line.append(" ")
        line.append(clean(key, 30), style="dim")
        line.append("=", style="dim")
        line.append(clean(value, limit))
    return line


class AlertsScreen(ConsoleScreen):
    """Renders the app's alert snapshots; `n` steps through the distinct Alertmanagers (and the
    sources of different selectors sharing one: each cluster's board)."""

    BINDINGS = [
        Binding("enter", "open_detector", "Detector view"),
        Binding("S", "silence", "Silence…"),
        Binding("E", "expire", "Expire silence…"),
        Binding("n", "next_alertmanager", "Next board"),
        Binding("escape", "app.show('overview')", "Overview"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.section_index = 0
        self.rows: list[tuple[AlertGroup, AlertRow | None]] = []
        self.silences: list[Silence] = []
        self._signature: object = None

    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(id="alerts-title", classes="screen-title")
        # Columns from the start: alerts may land between compose and on_mount (seen in CI:
        # "More values provided than there are columns").
        rows: DataTable[object] = DataTable(id="alert-rows", cursor_type="row", zebra_stripes=True)
        # fixed widths: the rows are rebuilt on every refresh, and "◇ inhibited" must never be cut
        for label, width in (("state", 12), ("severity", 9), ("since", 5)):
            rows.add_column(label, width=width)
        rows.add_column("alert · labels")
        yield rows
        yield Static(id="alert-detail")
        yield Static("Silences", id="silences-title", classes="group-title")
        silences: DataTable[object] = DataTable(id="silence-rows", cursor_type="row")
        silences.add_columns("ends", "by", "matchers", "comment")
        yield silences
        yield Footer()

    def on_mount(self) -> None:
        self.render_alerts()

    # -- what is shown ------------------------------------------------------------------------
    @property
    def section(self) -> str | None:
        sections = self.console.alert_sections()
        return sections[self.section_index % len(sections)] if sections else None

    @property
    def info(self) -> AlertmanagerInfo | None:
        section = self.section
        return self.console.backend.alertmanager(section) if section else None

    @property
    def silencer(self) -> Silencer | None:
        """The write path: only for `allow_silence: true`, and only while the cursor is live."""
        section = self.section
        if section is None or not self.console.cursor.live:
            return None
        return self.console.backend.silencer(section)

    @property
    def snapshot(self) -> AlertsSnapshot | None:
        section = self.section
        return self.console.state.alerts.get(section) if section else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("silence", "expire"):
            return self.silencer is not None
        if action == "next_alertmanager":
            return len(self.console.alert_sections()) > 1
        return True

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.console.refresh_alerts()

    def cursor_moved(self) -> None:
        super().cursor_moved()
        self._signature = None
        self.render_alerts()

    def state_changed(self, keys: list[TileKey]) -> None:
        super().state_changed(keys)
        self.render_alerts()

    def action_next_alertmanager(self) -> None:
        self.section_index += 1
        self._signature = None
        self.render_alerts()
        self.refresh_bindings()

    def render_alerts(self) -> None:
        if not self.query("#alert-rows"):  # alerts landed before the screen composed: on_mount draws
            return
        snapshot = self.snapshot
        signature = (self.section, snapshot, self.console.cursor.live)
        self.query_one("#alerts-title", Static).update(self._title(snapshot))
        if signature == self._signature:
            return
        self._signature = signature
        self.refresh_bindings()
        board = snapshot.board if snapshot else None
        table = self.query_one("#alert-rows", DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = []
        now = self.console.clock()
        for group in board.groups if board else ():
            self.rows.append((group, None))
            title = Text(f"▸ {clean(group.name, 60)} ({len(group.rows)})", style="bold", no_wrap=True)
            if len(group.rows) > 1 and group.common:
                title.append("  ")
                title.append_text(labels_text(group.common, 30))
            table.add_row(Text(""), inert(group.severity, limit=10), Text(""), title)
            for row in group.rows:
                self.rows.append((group, row))
                state = Text(f"{STATE_GLYPH.get(row.state, '?')} {row.state}", no_wrap=True)
                if STATE_CLASS.get(row.state) in ("error",):
                    state.stylize("bold")
                since = age(now - row.starts_at) if row.starts_at else "?"
                table.add_row(state, inert(row.severity, limit=10), since, labels_text(group.varying(row)))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        self._show_detail()
        self._render_silences(board.silences if board else ())

    def _title(self, snapshot: AlertsSnapshot | None) -> Text:
        """State first (it must survive 80 columns), then where it comes from."""
        info = self.info
        line = Text("Alerts · ", no_wrap=True, overflow="ellipsis")
        if info is None:
            line.append("no Alertmanager configured: set alertmanager: in the config, or --alertmanager URL")
            return line
        board = snapshot.board if snapshot else None
        if snapshot is None:
            line.append("loading… ", style="dim")
        elif snapshot.error:
            line.append(f"✗ {clean(snapshot.error, 120)} · ")
        elif board is not None and board.live:
            counts = {s: sum(r.state == s for r in board.rows) for s in ("active", "silenced", "inhibited")}
            line.append(f"▲ {counts['active']} active · ◌ {counts['silenced']} silenced · "
                        f"◇ {counts['inhibited']} inhibited · ")  # fmt: skip
        elif board is not None:
            firing = sum(r.state == "firing" for r in board.rows)
            at = format_utc(board.at) if board.at is not None else "?"
            line.append(f"at {at}: ▲ {firing} firing")
            if board.unanswered:  # the board may lack that server's alerts: said before the rest
                names = ", ".join(entry.split(":", 1)[0] for entry in board.unanswered)
                line.append(f" · ✗ no answer from {clean(names, 40)}")
            line.append(" (Prometheus's ALERTS; silences are live-only) · ")
        several = len(self.console.alert_sections()) > 1
        if several:  # whose board this is, before the URL (which 80 columns may cut)
            line.append(f"{clean(', '.join(info.sources), 40)} · ")
        line.append(clean(info.url, 50), style="dim")
        if len(info.sources) > 1 and not several:
            line.append(f" ({clean(', '.join(info.sources), 40)})", style="dim")
        if not info.allow_silence:
            line.append(" · read-only", style="dim")
        return line

    @property
    def selected(self) -> tuple[AlertGroup, AlertRow | None] | None:
        table = self.query_one("#alert-rows", DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowHighlighted, "#alert-rows")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#alert-rows")
    def _selected(self) -> None:
        self.action_open_detector()

    def _show_detail(self) -> None:
        detail = Text(no_wrap=False)
        chosen = self.selected
        if chosen is None:
            snapshot = self.snapshot
            quiet = snapshot is not None and snapshot.board is not None and not snapshot.error
            detail.append("Nothing is paging." if quiet else "")
        else:
            group, row = chosen
            rows = [row] if row is not None else list(group.rows)
            first = rows[0]
            detail.append(f"{clean(group.name, 60)}", style="bold")
            if first.summary:
                detail.append(" · " + clean(first.summary, 160))
            if row is not None:
                detail.append("\n")
                detail.append_text(labels_text(row.shown_labels(), 60))
                for note in row.silences:
                    detail.append(f"\n◌ silenced by {clean(note.created_by, 30)} until {format_utc(note.ends_at)}: "
                                  f"{clean(note.comment, 120)}")  # fmt: skip
                if row.inhibited_by:
                    detail.append(f"\n◇ inhibited by {len(row.inhibited_by)} other alert(s)")
            if first.detector:
                detail.append(f"\nEnter: detector view of {first.detector} at the alert's start", style="dim")
        board = self.snapshot.board if self.snapshot is not None else None
        for entry in board.unanswered if board is not None else ():
            detail.append(("\n" if detail.plain else "") + f"✗ {clean(entry, 160)}")
        self.query_one("#alert-detail", Static).update(detail)

    def _render_silences(self, silences: tuple[Silence, ...] | list[Silence]) -> None:
        table = self.query_one("#silence-rows", DataTable)
        table.clear()
        self.silences = list(silences)
        for silence in self.silences:
            ends = format_utc(silence.ends_at) + (" (pending)" if silence.state == "pending" else "")
            table.add_row(ends, inert(silence.created_by, limit=20), inert(matchers_text(silence.matchers), limit=60),
                          inert(silence.comment, limit=60))  # fmt: skip
        live = self.snapshot is not None and self.snapshot.board is not None and self.snapshot.board.live
        title = f"Silences ({len(self.silences)})" if live else "Silences: Alertmanager's live state only"
        self.query_one("#silences-title", Static).update(title)

    # -- actions --------------------------------------------------------------------------------
    def action_open_detector(self) -> None:
        chosen = self.selected
        section = self.section
        if chosen is None or section is None:
            return
        group, row = chosen
        first = row or group.rows[0]
        detector = first.detector
        if detector is None:
            self.notify("This alert did not come from a promsoc detector.", severity="information")
            return
        key = TileKey(section, detector)
        if key not in self.console.state.results and detector not in self.console.state.detectors:
            self.notify(f"Detector {detector} is not loaded in this console.", severity="warning")
            return
        if first.starts_at is not None:
            self.console.cursor = self.console.cursor.jump(first.starts_at, self.console.clock())
        self.console.open_detector(key)

    def _silence_target(self) -> Silence | None:
        silences = self.query_one("#silence-rows", DataTable)
        if silences.has_focus and self.silences:
            return self.silences[min(silences.cursor_row, len(self.silences) - 1)]
        chosen = self.selected
        if chosen is not None and chosen[1] is not None and chosen[1].silences:
            wanted = chosen[1].silences[0].id
            return next((s for s in self.silences if s.id == wanted), None)
        return None

    def action_silence(self) -> None:
        from promsoc.tui.screens.silence_form import SilenceForm

        silencer, chosen = self.silencer, self.selected
        if silencer is None:
            return
        if chosen is None or chosen[1] is None:
            self.notify("Choose an alert (not a group line) to silence.", severity="information")
            return
        row = chosen[1]

        def submitted(request: tuple[list[str], float, str] | None) -> None:
            if request is not None:
                names, duration, comment = request
                self._create(silencer, row, names, duration, comment)

        self.app.push_screen(SilenceForm(row, silencer.author, silencer.url), submitted)

    def action_expire(self) -> None:
        from promsoc.tui.screens.silence_form import Confirm

        silencer, target = self.silencer, self._silence_target()
        if silencer is None:
            return
        if target is None:
            self.notify("Highlight a silence (Tab to the silences) or a silenced alert.", severity="information")
            return
        question = Text(f"Expire silence {clean(target.id, 40)}\n")
        question.append(clean(matchers_text(target.matchers), 200))
        question.append(f"\nby {clean(target.created_by, 30)}: {clean(target.comment, 120)}")

        def answered(yes: bool | None) -> None:
            if yes:
                self._expire(silencer, target)

        self.app.push_screen(Confirm(question), answered)

    @work(group="silence-write")
    async def _create(self, silencer: Silencer, row: AlertRow, names: list[str], duration: float, comment: str) -> None:
        try:
            silence_id = await silencer.silence(row, comment=comment, duration=duration, names=names)
        except Exception as exc:  # shown to the user; the console keeps running
            self.notify(f"Silence not created: {clean(one_line(exc), 200)}", severity="error")
            return
        self.notify(f"Silence {clean(silence_id, 40)} created by {clean(silencer.author, 30)}")
        self.console.refresh_alerts()

    @work(group="silence-write")
    async def _expire(self, silencer: Silencer, silence: Silence) -> None:
        try:
            await silencer.expire(silence)
        except Exception as exc:  # shown to the user; the console keeps running
            self.notify(f"Silence not expired: {clean(one_line(exc), 200)}", severity="error")
            return
        self.notify(f"Silence {clean(silence.id, 40)} expired")
        self.console.refresh_alerts()
