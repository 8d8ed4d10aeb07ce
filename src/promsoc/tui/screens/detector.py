"""Enter on a tile: findings (sortable, filterable), the why and what-next, a zoomable chart."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from promsoc import units
from promsoc.detectors.results import DetectorResult, Finding, Status
from promsoc.text import one_line
from promsoc.tui.messages import ChartLoaded
from promsoc.tui.safe_text import clean, identifying, inert, labels_line
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.state import TileKey
from promsoc.tui.time_cursor import format_utc
from promsoc.tui.widgets import status
from promsoc.tui.widgets.filter_box import FilterBox
from promsoc.tui.widgets.finding_chart import FindingChart

WINDOWS = (("1h", 3600.0), ("6h", 21600.0), ("24h", 86400.0), ("7d", 604800.0))


def columns_for(findings: list[Finding]) -> list[str]:
    """The identifying labels across all findings, at most five, in the house order."""
    keys: list[str] = []
    for finding in findings:
        for key in identifying(finding.labels):
            if key not in keys:
                keys.append(key)
    return keys[:5]


class DetectorScreen(ConsoleScreen):
    """Renders one (source, detector); the chart follows the highlighted finding and the cursor."""

    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("z", "zoom", "Zoom"),
        Binding("g", "map", "Pod on map"),
        Binding("1", "window(0)", "Chart 1h", show=False),
        Binding("2", "window(1)", "Chart 6h", show=False),
        Binding("3", "window(2)", "Chart 24h", show=False),
        Binding("4", "window(3)", "Chart 7d", show=False),
    ]

    @property
    def unit(self) -> str:
        """The detector's unit (promsoc.units): how its values are printed."""
        info = self.console.state.detectors.get(self.key.detector)
        return info.unit if info else units.DEFAULT

    def __init__(self, key: TileKey) -> None:
        super().__init__()
        self.key = key
        self.window_index = 1
        self.sort_index = 0  # 0 = value, then the label columns
        self.reverse = True
        self.label_columns: list[str] = []
        self.shown: list[Finding] = []
        self.selected: Finding | None = None
        self._signature: object = None
        self._chart_at = 0.0

    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(id="detector-title", classes="screen-title")
        with Horizontal(id="detector-body"):
            with Vertical(id="detector-side"):
                yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="detector-info-scroll"):
                    yield Static(id="detector-info")
            with Vertical(id="chart-pane"):
                yield Static(id="chart-title")
                yield FindingChart()
        yield FilterBox(placeholder="filter findings by any label value…", id="filter")
        yield Footer()

    @property
    def result(self) -> DetectorResult | None:
        return self.console.state.results.get(self.key)

    def on_mount(self) -> None:
        self._render_info()
        self.state_changed([])
        self.query_one("#findings", DataTable).focus()

    def state_changed(self, keys: list[TileKey]) -> None:
        super().state_changed(keys)
        if keys and self.key not in keys:
            return
        if not self.query("#findings"):  # a poll landed while the screen was still composing;
            return  # on_mount fills it once every widget is there
        result = self.result
        signature = (result.status, result.evaluated_at, tuple(map(repr, result.findings))) if result else None
        if signature == self._signature:
            return
        self._signature = signature
        self._render_title()
        self._rebuild_table()

    def cursor_moved(self) -> None:
        super().cursor_moved()
        self._load_chart()

    def _render_title(self) -> None:
        result = self.result
        info = self.console.state.detectors.get(self.key.detector)
        line = Text(no_wrap=True, overflow="ellipsis")
        if result is None:
            line.append("… WAITING  ")
        else:
            line.append(f"{status.GLYPH[result.status]} {status.WORD[result.status]}  ", style="bold")
            if result.omitted:  # the console keeps the worst findings only; `promsoc scan` lists all
                line.append(f"worst {len(result.findings):,} of {result.found:,} findings  ")
        line.append(clean(self.key.detector, 60))
        if info is not None:
            line.append(" — " + clean(info.title, 80))
        line.append(f"  [{clean(self.key.source, 30)}]")
        self.query_one("#detector-title", Static).update(line)

    def _render_info(self) -> None:
        info = self.console.state.detectors.get(self.key.detector)
        text = Text()
        if info is None:
            text.append("No description for this detector.")
        else:
            text.append("Severity ", style="bold")
            text.append(clean(info.severity, 20))
            text.append("   MITRE ATT&CK ", style="bold")
            text.append(", ".join(clean(m, 20) for m in info.mitre) or "—")
            text.append("\n\n")
            text.append(info.description.strip() + "\n\n")
            text.append("Next steps\n", style="bold")
            text.append(info.next_steps.strip() + "\n\n")
            text.append("PromQL\n", style="bold")
            text.append(info.query.strip())
        result = self.result
        why = Text()  # first: why it shows no data or an error is what one opens it for
        if result is not None and result.status is Status.NO_DATA:
            why.append("Blind spot: ", style="bold")
            absent = ", ".join(clean(family, 80) for family in result.missing)
            why.append(clean(result.note, 400) if result.note else f"absent: {absent}" if absent else "no metrics")
            why.append("\n\n")
        if result is not None and result.error:
            why.append("Error: ", style="bold")
            why.append(clean(result.error, 400) + "\n\n")
        self.query_one("#detector-info", Static).update(why + text)

    # -- findings table -----------------------------------------------------------------------
    def _rebuild_table(self) -> None:
        result = self.result
        findings = list(result.findings) if result else []
        self.label_columns = columns_for(findings)
        table = self.query_one("#findings", DataTable)
        table.clear(columns=True)
        table.add_column("value", key="value")
        for name in self.label_columns:
            table.add_column(Text(clean(name, 20)), key=f"l:{name}")
        needle = self.query_one(FilterBox).needle
        if needle:
            findings = [f for f in findings if any(needle in v.lower() for v in f.labels.values())]

        def sort_key(finding: Finding) -> tuple[int, float, str]:
            if self.sort_index == 0:
                value = finding.value if finding.value == finding.value else float("-inf")
                return (0, value, "")
            label = self.label_columns[self.sort_index - 1]
            return (0, 0.0, finding.labels.get(label, ""))

        self.shown = sorted(findings, key=sort_key, reverse=self.reverse)
        for index, finding in enumerate(self.shown):
            cells = [Text(units.human(finding.value, self.unit), justify="right")]
            cells += [inert(finding.labels.get(name, ""), limit=48) for name in self.label_columns]
            table.add_row(*cells, key=str(index))
        if self.shown:
            keep = self.selected if self.selected in self.shown else self.shown[0]
            table.move_cursor(row=self.shown.index(keep))
            self._select(keep)
        else:
            self._select(None)

    @on(DataTable.RowHighlighted, "#findings")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        index = event.cursor_row
        if 0 <= index < len(self.shown):
            self._select(self.shown[index])

    def _select(self, finding: Finding | None) -> None:
        if finding is self.selected and finding is not None:
            return
        self.selected = finding
        self._load_chart()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % (len(self.label_columns) + 1)
        self.reverse = self.sort_index == 0
        self._rebuild_table()
        column = "value" if self.sort_index == 0 else self.label_columns[self.sort_index - 1]
        self.notify(f"sorted by {clean(column, 30)}", markup=False, timeout=2)

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self._rebuild_table()

    async def action_map(self) -> None:
        finding = self.selected
        if finding is None or "pod" not in finding.labels:
            self.notify("this finding names no pod", markup=False, timeout=3)
            return
        await self.console.show_pod(finding.labels.get("namespace", ""), finding.labels["pod"])

    @on(DataTable.HeaderSelected, "#findings")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        """Clicking a column header sorts by it; clicking it again reverses."""
        index = event.column_index
        self.reverse = not self.reverse if index == self.sort_index else index == 0
        self.sort_index = index
        self._rebuild_table()

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._rebuild_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#findings", DataTable).focus()

    def action_back(self) -> None:
        box = self.query_one(FilterBox)
        if box.shown:
            box.close(clear=True)
            self.query_one("#findings", DataTable).focus()
            return
        self.dismiss(None)

    # -- chart --------------------------------------------------------------------------------
    def action_zoom(self) -> None:
        self.action_window((self.window_index + 1) % len(WINDOWS))

    def action_window(self, index: int) -> None:
        self.window_index = index
        self._load_chart()

    def _chart_title(self, extra: str = "") -> Text:
        name, _ = WINDOWS[self.window_index]
        line = Text(f"{name} · ", no_wrap=True, overflow="ellipsis")
        if self.selected is not None:
            line.append_text(labels_line(self.selected.labels, identifying(self.selected.labels), 30))
        line.append(extra)
        return line

    def _load_chart(self) -> None:
        chart = self.query_one(FindingChart)
        at = self.console.cursor.eval_time(self.console.clock())
        if self.selected is None:
            self.query_one("#chart-title", Static).update(self._chart_title())
            chart.show(None, at, "", "no finding selected")
            return
        labels = dict(self.selected.labels)
        window = WINDOWS[self.window_index][1]
        key = (self.key.source, self.key.detector, repr(sorted(labels.items())))
        self.query_one("#chart-title", Static).update(self._chart_title("  loading…"))

        self._chart_at = at
        self._fetch_chart(key, labels, at, window)

    @work(exclusive=True, group="chart")
    async def _fetch_chart(self, key: tuple[str, str, str], labels: dict[str, str], at: float, window: float) -> None:
        backend = self.console.backend
        try:
            data = await backend.chart(self.key.source, self.key.detector, labels, at, window)
        except Exception as exc:  # shown on the chart, never raised into the app
            self.post_message(ChartLoaded(key, None, one_line(exc)))
            return
        self.post_message(ChartLoaded(key, data, None))

    def on_chart_loaded(self, message: ChartLoaded) -> None:
        chart = message.chart
        extra = ""
        if chart is not None and chart.threshold is not None:
            extra += f"  threshold {units.human(chart.threshold, self.unit)}"
        if chart is not None and chart.crossed_at is not None:
            extra += f"  crossed {format_utc(chart.crossed_at)[5:]}"
        if message.error:
            extra += "  ✗ " + clean(message.error, 80)
        self.query_one("#chart-title", Static).update(self._chart_title(extra))
        self.query_one(FindingChart).show(chart, self._chart_at, "", message.error, self.unit)
