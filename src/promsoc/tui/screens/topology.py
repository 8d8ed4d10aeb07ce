"""The topology time machine in the console: three views, offsets back in time, diffs, filters.

Maps come from the console's `backend.topology(source, at)`, findings from its state, and every
offset counts back from the console's time cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Static
from textual.worker import Worker

from promsoc.detectors.results import DetectorResult
from promsoc.text import one_line, safe
from promsoc.topology.model import Topology
from promsoc.topology.views import VIEWS, Shown, render_view
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.time_cursor import format_utc
from promsoc.tui.widgets.filter_box import FilterBox
from promsoc.tui.widgets.topology_details import details
from promsoc.tui.widgets.topology_view import TopologyView

OFFSETS: tuple[tuple[str, float], ...] = (
    ("now", 0.0), ("−5m", 300.0), ("−1h", 3600.0), ("−1d", 86400.0),
    ("−2d", 172800.0), ("−1w", 604800.0), ("−4w", 2419200.0),
)  # fmt: skip
DIFF_AGAINST: tuple[tuple[str, float], ...] = (
    ("5m", 300.0), ("1h", 3600.0), ("1d", 86400.0), ("2d", 172800.0),
    ("1w", 604800.0), ("4w", 2419200.0),
)  # fmt: skip
CACHE_SIZE = 8
REFRESH_EVERY = 30.0


NARROW = 110  # below this many columns the details pane opens on demand instead of beside the map


class TopologyScreen(ConsoleScreen):
    """Loads maps in workers and draws them in a thread; the view scrolls only what is visible."""

    AUTO_FOCUS = "#topology-view"  # on every showing, not the first focusable (the details pane)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "view('nodes')", "Nodes"),
        Binding("2", "view('workloads')", "Workloads"),
        Binding("3", "view('traffic')", "Traffic"),
        Binding("4", "view('changes')", "Changes", show=False),
        Binding("comma", "offset(1)", "Older"),
        Binding("full_stop", "offset(-1)", "Newer"),
        Binding("0", "offset_now", "Now", show=False),
        Binding("d", "toggle_diff", "Diff"),
        Binding("D", "diff_against", "Diff vs…"),
        Binding("slash", "filter", "Filter"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.view = "nodes"
        self.offset_index = 0
        self.diff_on = False
        self.diff_index = 2
        self.filter_text = ""
        self.shown: Shown | None = None
        self.error: str | None = None
        self.loading = False
        self._maps: tuple[Topology, Topology | None] | None = None
        self._cache: dict[int, Topology] = {}
        self._pending: tuple[str, str] | None = None

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(id="topology-title")
        yield Static(
            Text("+ added  - removed  ~ moved here  ! lost mTLS  [hostNet] host network"),
            id="topology-legend",
        )
        with Horizontal(id="topology-body"):
            yield TopologyView(id="topology-view")
            with VerticalScroll(id="topology-side"):
                yield Static(Text("Select a line and press Enter.", style="dim"), id="topology-details")
        yield FilterBox(placeholder="filter: ns:NAME node:NAME name:TEXT or any text", id="topology-filter")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REFRESH_EVERY, self._refresh_live)

    def on_screen_resume(self) -> None:
        """Fit the width (a mode's screen gets no Resize when first shown in a sized app), then load
        after the first refresh: a map drawn before it stayed unpainted until some later event."""
        self.set_class(self.app.size.width < NARROW, "-narrow")
        super().on_screen_resume()
        self.call_after_refresh(self.load)

    def cursor_moved(self) -> None:
        super().cursor_moved()
        self.load()

    # -- time -------------------------------------------------------------------------------------
    def base_time(self) -> float:
        """The console's time cursor (now when live): offsets count back from it."""
        return self.console.cursor.eval_time(self.console.clock())

    @property
    def at(self) -> float:
        return self.base_time() - OFFSETS[self.offset_index][1]

    @property
    def against(self) -> float | None:
        return self.at - DIFF_AGAINST[self.diff_index][1] if self.diff_on else None

    # -- loading ----------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The map comes from the console's first source."""
        return self.console.state.sources[0]

    def results(self) -> list[DetectorResult]:
        return list(self.console.state.results.values())

    def load(self) -> None:
        """Fetch the maps for the current moment (and the diff's) in a worker."""
        at, against = self.at, self.against
        self.loading = True
        self._update_title()
        self._start(partial(self._fetch, self.source, at, against), "topology-load")

    def _start(self, work: Callable[[], Coroutine[Any, Any, None]], group: str) -> None:
        """A callable, not a coroutine: a worker cancelled early leaves nothing unawaited."""
        worker: Worker[None] = self.run_worker(work, group=group, exclusive=True)
        del worker

    async def _get(self, source: str, at: float) -> Topology:
        key = int(at)
        if key not in self._cache:
            self._cache[key] = await self.console.backend.topology(source, at)
            while len(self._cache) > CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[key]

    async def _fetch(self, source: str, at: float, against: float | None) -> None:
        try:
            if against is None:
                topo, before = await self._get(source, at), None
            else:
                topo, before = await asyncio.gather(self._get(source, at), self._get(source, against))
        except Exception as exc:  # shown in the title; the console keeps running
            self.loading = False
            self.error = one_line(exc, 200)
            self._update_title()
            return
        self.error = None
        self._maps = (topo, before)
        await self._draw()

    def rerender(self) -> None:
        if self._maps is not None:
            self._start(self._draw, "topology-draw")

    async def _draw(self) -> None:
        if self._maps is None:
            return
        topo, before = self._maps
        width = max(60, min(self.query_one(TopologyView).size.width - 1, 160))
        wanted = (self.view, self.filter_text)
        shown = await asyncio.to_thread(render_view, topo, before, *wanted, width)
        self.loading = False
        self.shown = shown
        view = self.query_one(TopologyView)
        view.set_lines(shown.lines)
        self._update_title()
        if self._pending is not None and wanted == (self.view, self.filter_text):
            self._apply_pending()

    def _refresh_live(self) -> None:
        """Live and at "now": refresh like the other views; past moments do not change."""
        if self.console.shown_screen() is self and self.console.cursor.live and self.offset_index == 0:
            self._cache.clear()
            self.load()

    # -- title ------------------------------------------------------------------------------------
    def _update_title(self) -> None:
        title = Text(no_wrap=False)
        title.append("Topology", style="bold")
        title.append(f" · {self.view.upper()} · {OFFSETS[self.offset_index][0]} · ")
        title.append(format_utc(self.at))
        if self.diff_on and self.against is not None:
            title.append(f" · diff vs −{DIFF_AGAINST[self.diff_index][0]} ({format_utc(self.against)})")
        if self.filter_text:
            title.append(" · filter ")
            title.append(safe(self.filter_text, 40, ascii_only=False), style="bold")
        if self.shown is not None:
            topo = self.shown.topo
            title.append(
                f"\n{len(topo.nodes)} nodes · {len(topo.workloads)} workloads"
                f" · {len(topo.pods)} pods · {len(topo.edges)} edges"
                f" ({topo.mesh or 'no mesh metrics'})"
            )
            for warning in topo.warnings:
                title.append("\n⚠ " + safe(warning, 120, ascii_only=False))
        if self.loading:
            title.append("  loading…", style="dim")
        if self.error:
            title.append("\n✗ " + self.error, style="bold")
        self.query_one("#topology-title", Static).update(title)

    # -- actions ----------------------------------------------------------------------------------
    def action_view(self, view: str) -> None:
        if view in VIEWS and view != self.view:
            self.view = view
            self._update_title()
            self.rerender()

    def action_offset(self, step: int) -> None:
        index = max(0, min(len(OFFSETS) - 1, self.offset_index + step))
        if index != self.offset_index:
            self.offset_index = index
            self.load()

    def action_offset_now(self) -> None:
        if self.offset_index:
            self.offset_index = 0
            self.load()

    def action_toggle_diff(self) -> None:
        self.diff_on = not self.diff_on
        self.load()

    def action_diff_against(self) -> None:
        """Cycle the earlier moment the diff compares with (and turn the diff on)."""
        self.diff_index = (self.diff_index + 1) % len(DIFF_AGAINST) if self.diff_on else self.diff_index
        self.diff_on = True
        self.load()

    def action_reload(self) -> None:
        self._cache.clear()
        self.load()

    def action_filter(self) -> None:
        self.query_one(FilterBox).open(self.filter_text)

    async def action_back(self) -> None:
        box = self.query_one(FilterBox)
        if self.has_class("-narrow") and self.has_class("-details"):
            self.remove_class("-details")
            self.query_one(TopologyView).focus()
        elif box.shown:
            box.close()
            self.query_one(TopologyView).focus()
        else:
            await self.console.action_show("overview")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBox):
            event.stop()
            self.filter_text = event.value.strip()
            event.input.close()
            self.query_one(TopologyView).focus()
            self._update_title()
            self.rerender()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.rerender()

    # -- selection and jumps ----------------------------------------------------------------------
    def on_topology_view_selected(self, message: TopologyView.Selected) -> None:
        if self.shown is None:
            return
        panel = self.query_one("#topology-details", Static)
        panel.update(details(self.shown.topo, message.line, self.shown.diff, self.results()))
        self.add_class("-details")

    def show_pod(self, namespace: str, pod: str) -> None:
        """Jump to a pod's place on the map (from a finding): workload view, cursor on the pod."""
        self._pending = (namespace, pod)
        if self.filter_text:
            self.filter_text = ""
        if self.view != "workloads":
            self.view = "workloads"
        if self._maps is not None:
            self.rerender()

    def _apply_pending(self) -> None:
        assert self._pending is not None
        namespace, pod = self._pending
        view = self.query_one(TopologyView)
        index = view.find("pod", f"{namespace}/{pod}")
        if index is None:
            self.error = f"pod {safe(namespace)}/{safe(pod)} is not on the map at this moment"
            self._update_title()
        else:
            view.cursor = index
            view.action_select()
        self._pending = None
