"""The console app: owns the state, the time cursor and the pollers; screens only render."""

from __future__ import annotations

import asyncio
import functools
import gc
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from promsoc.text import one_line
from promsoc.tui import themes
from promsoc.tui.backend import Backend
from promsoc.tui.backend_loop import quiet_loop_errors
from promsoc.tui.messages import AlertsUpdated, HistoriesUpdated, PollFailed, ResultsUpdated
from promsoc.tui.poller import Poller, ticks
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.screens.lazy import alerts_screen, falco_screen, timeline_screen, topology_screen
from promsoc.tui.screens.overview import OverviewScreen
from promsoc.tui.state import AlertsSnapshot, ConsoleState, TileKey
from promsoc.tui.time_cursor import Cursor

if TYPE_CHECKING:
    from promsoc.config import Settings
    from promsoc.tui.live_backend import LiveBackend

ROTATION = ("overview", "falco", "topology")
"""Kiosk rotation by default; `kiosk.views` may also name "alerts"."""
VIEWS = (*ROTATION, "alerts")


class ConsoleApp(App[int]):
    """Keyboard-first console; every view evaluates at `cursor`, the one time reactive."""

    CSS_PATH = Path(__file__).with_name("console.tcss")  # absolute: subclasses elsewhere keep it
    TITLE = "promsoc"
    OWNS_LOOP: ClassVar[bool] = True
    """The app runs its own event loop (a local console); a served one shares the server's."""
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen, "falco": falco_screen, "topology": topology_screen, "alerts": alerts_screen,
        "timeline": timeline_screen,
    }  # fmt: skip
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("left_square_bracket", "cursor_back", "◀ Step"),
        Binding("right_square_bracket", "cursor_forward", "Step ▶"),
        Binding("left_curly_bracket", "step_finer", "Finer step", show=False),
        Binding("right_curly_bracket", "step_coarser", "Coarser step", show=False),
        Binding("t", "type_time", "Time…"),
        Binding("L", "live", "Live"),
        Binding("o", "show('overview')", "Overview", show=False),
        Binding("f", "show('falco')", "Falco", show=False),
        Binding("m", "show('topology')", "Topology", show=False),
        Binding("a", "show('alerts')", "Alerts", show=False),
        Binding("l", "show('timeline')", "Timeline"),
        Binding("H", "handoff", "Hand-off"),
    ]

    cursor: var[Cursor] = var(Cursor, init=False)
    """A var, not a reactive: a reactive repaints the whole screen on every `[`/`]` (Textual's
    App.refresh), while only the header and the views' own data depend on the cursor (issue 15)."""

    def __init__(
        self,
        backend: Backend,
        *,
        theme: str | None = None,
        kiosk: bool = False,
        at: float | None = None,
        interval: float = 5.0,
        rotate_every: float = 30.0,
        rotation: tuple[str, ...] = (),
        handoff_dir: str | None = None,
        intervals: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.time,
        poll: bool = True,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.clock = clock
        self.interval = interval
        self.kiosk = kiosk
        self.rotate_every = rotate_every
        self.rotation = tuple(v for v in rotation if v in VIEWS) or ROTATION
        self.handoff_dir = handoff_dir
        self.state = ConsoleState(backend.sources, backend.detectors())
        self.pollers: dict[str, Poller] = {}
        self._poll = poll
        self._themes = themes.load_themes()
        for loaded in self._themes:
            self.register_theme(loaded)
        self._theme_name = themes.resolve(theme, set(self.available_themes))
        self.intervals = dict(intervals or {})
        self._alerts_worker: Worker[None] | None = None
        self._alerts_at: float | None = None
        self.crashed: Exception | None = None  # the first unexpected exception (promsoc.tui.crash)
        self.set_reactive(ConsoleApp.cursor, Cursor(at=at))
        if kiosk:
            self.add_class("-kiosk")

    # -- lifecycle ---------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:  # Textual's (pinned) hook for a crash
        self.crashed = self.crashed or error
        super()._handle_exception(error)

    def on_load(self) -> None:
        """Start polling before the first screen is composed: the network overlaps the startup."""
        self.start_polling()

    def on_mount(self) -> None:
        if self.OWNS_LOOP:  # its stderr is the terminal Textual draws on (promsoc.tui.backend_loop)
            asyncio.get_running_loop().set_exception_handler(quiet_loop_errors)
            # What exists once the first frame is drawn (modules, Textual, the screens) lives as
            # long as the console: out of the collector's sight, a full collection walks only
            # what the polls made since (they waited on one of 60 ms, keys included).
            self.call_after_refresh(gc.freeze)
        self.theme = self._theme_name
        self.switch_mode("overview")
        if self.kiosk:
            self.call_after_refresh(self._drop_footers)
        self.set_interval(2.0, self._tick)
        if self.alert_sections():
            self.refresh_alerts()
            self.set_interval(self.interval, self._alerts_due)
        if self.kiosk:
            self.set_interval(self.rotate_every, self.rotate)

    def start_polling(self) -> None:
        """One long-lived worker per source; a cycle never overlaps the previous one."""
        shared = ticks(self.state.sources, getattr(self.backend, "together", None))
        first_scan = getattr(self.backend, "first_scan", None)  # begun before the console (LiveBackend.begin)
        for source in self.state.sources:
            poller = Poller(
                self.backend,
                source,
                interval=self.interval_of(source),
                cursor=lambda: self.cursor.at,
                post=self.post_message,
                clock=self.clock,
                seen=functools.partial(self.sparklines_seen, source),
                tick=shared[source],
                first=first_scan(source) if first_scan is not None else None,
                expect=getattr(self.backend, "expect", None),
            )
            self.pollers[source] = poller
            if self._poll:
                self.run_worker(poller.run(), name=f"poll {source}", group=f"poll-{source}", exclusive=True)

    def sparklines_seen(self, source: str) -> set[str]:
        """The detectors of `source` whose sparkline is on screen: the overview's tiles in view
        (others are refreshed rarely, see Poller), none while another view is open."""
        screen = self.shown_screen()
        return screen.tiles_in_view(source) if isinstance(screen, OverviewScreen) else set()

    def shown_screen(self) -> Screen[Any] | None:
        """The screen on top, or None while a view is being switched in (its stack is empty
        then, and `self.screen` raises): a poll, a timer or alerts may land at that moment."""
        try:
            return self.screen
        except ScreenStackError:
            return None

    def poll_now(self) -> None:
        """One cycle per source as a finite worker: tests await it with wait_for_complete()."""
        for source, poller in self.pollers.items():
            self.run_worker(poller.cycle(), name=f"poll once {source}", group=f"once-{source}")

    def interval_of(self, source: str) -> float:
        return self.intervals.get(source, self.interval)

    async def on_unmount(self) -> None:
        await self.backend.aclose()

    def _tick(self) -> None:
        """Ages in the header and stale markers move with the clock even when no poll lands."""
        screen = self.shown_screen()
        if isinstance(screen, ConsoleScreen):
            screen.state_changed([])

    # -- messages from the pollers -----------------------------------------------------------
    def on_results_updated(self, message: ResultsUpdated) -> None:
        keys = self.state.apply_results(message.source, message.results, message.latency, message.polled_at, message.at)
        self._state_changed(keys)

    def on_poll_failed(self, message: PollFailed) -> None:
        self.state.apply_failure(message.source, message.reason)
        self._state_changed([])

    def on_histories_updated(self, message: HistoriesUpdated) -> None:
        self._state_changed(self.state.apply_histories(message.source, message.histories))

    # -- alerts (Alertmanager live; Prometheus's ALERTS at a past cursor) ------------------------
    def alert_sections(self) -> list[str]:
        """The first source of each board: one alerts section per distinct Alertmanager, and per
        source selector on it (clusters sharing one see their own alerts, `n` goes to the next)."""
        sections: list[str] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for source in self.state.sources:
            info = self.backend.alertmanager(source)
            if info is not None and (info.url, info.sources) not in seen:
                seen.add((info.url, info.sources))
                sections.append(source)
        return sections

    def _alerts_due(self) -> None:
        if self._poll:
            self.refresh_alerts()

    def refresh_alerts(self) -> None:
        """Fetch every section's board at the cursor in a worker. A fetch already running for the
        same moment is left to finish; one for another moment is replaced."""
        sections = self.alert_sections()
        if not sections:
            return
        at = None if self.cursor.live else self.cursor.at
        running = self._alerts_worker
        if running is not None and running.is_running and self._alerts_at == at:
            return
        self._alerts_at = at
        self._alerts_worker = self.run_worker(
            self._fetch_alerts(sections, at), name="alerts", group="alerts", exclusive=True
        )

    async def _fetch_alerts(self, sections: list[str], at: float | None) -> None:
        for source in sections:
            try:
                board = await self.backend.alerts(source, at)
            except Exception as exc:  # shown in the view and the header; the console keeps running
                snapshot = AlertsSnapshot(None, one_line(exc), at, self.clock())
            else:
                snapshot = AlertsSnapshot(board, None, at, self.clock())
            self.post_message(AlertsUpdated(source, snapshot))

    def on_alerts_updated(self, message: AlertsUpdated) -> None:
        self.state.alerts[message.source] = message.snapshot
        self._state_changed([])

    def _state_changed(self, keys: list[TileKey]) -> None:
        screen = self.shown_screen()  # None mid-switch: the view draws the state when it resumes
        if isinstance(screen, ConsoleScreen):
            screen.state_changed(keys)

    # -- time cursor --------------------------------------------------------------------------
    def watch_cursor(self, old: Cursor, new: Cursor) -> None:
        if old.at != new.at:
            for poller in self.pollers.values():
                poller.moved()
            self.refresh_alerts()
        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                screen.cursor_moved()

    def action_cursor_back(self) -> None:
        self.cursor = self.cursor.back(self.clock())

    def action_cursor_forward(self) -> None:
        self.cursor = self.cursor.forward(self.clock())

    def action_step_finer(self) -> None:
        self.cursor = self.cursor.finer()

    def action_step_coarser(self) -> None:
        self.cursor = self.cursor.coarser()

    def action_live(self) -> None:
        self.cursor = self.cursor.to_live()

    def action_type_time(self) -> None:
        from promsoc.tui.screens.time_prompt import TimePrompt

        def chosen(at: float | None) -> None:
            if at is not None:
                self.cursor = self.cursor.jump(at, self.clock())

        self.push_screen(TimePrompt(self.clock), chosen)

    # -- navigation ---------------------------------------------------------------------------
    def open_detector(self, key: TileKey) -> None:
        from promsoc.tui.screens.detector import DetectorScreen

        self.push_screen(DetectorScreen(key))

    async def action_show(self, mode: str) -> None:
        if self.current_mode != mode:
            await self._switch(mode)

    async def show_pod(self, namespace: str, pod: str) -> None:
        """From a finding to its place on the topology map: the one way to jump to a pod."""
        from promsoc.tui.screens.topology import TopologyScreen

        await self._switch("topology")
        for screen in reversed(self.screen_stack):
            if isinstance(screen, TopologyScreen):
                screen.show_pod(namespace, pod)
                return

    async def _switch(self, mode: str) -> None:
        await self.switch_mode(mode)
        if self.kiosk:
            self._drop_footers()

    async def rotate(self) -> None:
        """Kiosk: next view; any prompt left open is dismissed first so the wall never freezes."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        views = self.rotation
        current = views.index(self.current_mode) if self.current_mode in views else -1
        await self._switch(views[(current + 1) % len(views)])

    def _drop_footers(self) -> None:
        """Kiosk shows no key hints, so the Footer goes entirely: Textual 8.2.8's Footer leaves a
        watcher behind on every recompose (each screen switch), which would grow for days."""
        for footer in self.screen.query(Footer):
            footer.remove()

    def action_help(self) -> None:
        from promsoc.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_handoff(self) -> None:
        from promsoc.tui.handoff import save_handoff

        save_handoff(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key's action is also in the command palette."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for owner, bindings in ((screen, screen.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if not isinstance(binding, Binding) or binding.action in seen:
                    continue
                seen.add(binding.action)
                title = binding.description or binding.action
                yield SystemCommand(title, f"key: {binding.key}", partial(self.run_action, binding.action, owner))


def run_console(
    settings: Settings,
    *,
    theme: str | None = None,
    kiosk: bool = False,
    at: float | None = None,
    backend: LiveBackend | None = None,
) -> int:
    """Entry point for `promsoc tui` and `promsoc demo`: bind the domain, run the app. `backend`:
    one made for these settings that may have begun its first scan (`LiveBackend.begin`).

    Raises NotATerminal when stdout is not a terminal (after the theme and options were checked).
    The exit status: the app's own, 128 + signal after SIGTERM/SIGHUP, and 70 after a crash,
    never 0 (a kiosk supervisor must see it).
    """
    from promsoc.tui import crash
    from promsoc.tui.live_backend import LiveBackend, console_options
    from promsoc.tui.terminal import exit_status, require_terminal, restore_on_signals

    options = console_options(settings)
    backend = backend or LiveBackend(settings)
    try:
        app = ConsoleApp(
            backend,
            theme=theme or options.theme,
            kiosk=kiosk,
            at=at,
            interval=options.interval,
            rotate_every=options.rotate_every,
            rotation=options.views,
            handoff_dir=options.handoff_dir,
            intervals=options.intervals,
        )
        require_terminal()
    except BaseException:
        backend.close()  # the console never runs: a scan begun early ends here
        raise
    if not crash.debugging():  # a crash is one line and a report file, not Textual's traceback
        app.error_console = crash.quiet_console()
    with restore_on_signals(app):
        result = app.run()
    if app.crashed is not None:
        crash.report_crash(app.crashed)
    return exit_status(app, result)
