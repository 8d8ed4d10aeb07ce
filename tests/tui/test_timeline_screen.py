"""The timeline view on the fake backend: lanes, severity, windows, cursor mark, Enter, 80x24."""

from __future__ import annotations

from promsoc.detectors.timeline import Interval
from promsoc.tui.screens.detector import DetectorScreen
from promsoc.tui.screens.help import key_table
from promsoc.tui.screens.timeline import TimelineScreen
from promsoc.tui.state import TileKey
from promsoc.tui.timeline_lanes import QUIET, SEVERITY_GLYPH, column_of, lane, ruler, shorten, window_for
from promsoc.tui.widgets.timeline_view import TimelineLanes
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import NOW, FakeBackend

HOUR = 3600.0


def lanes_text(app: object) -> list[str]:
    widget = app.screen.query_one(TimelineLanes)  # type: ignore[attr-defined]
    return str(widget.render().plain).splitlines()


async def test_l_opens_lanes_with_fired_detectors_first_and_severity_glyphs() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)
        source, start, end = backend.timelines[-1]
        assert (source, end - start) == ("demo", 6 * HOUR)
        rows = lanes_text(app)
        assert "╵" in rows[0]  # the ruler's ticks
        names = [row.split()[1] for row in rows[1:]]
        assert names[:2] == ["ingress-bruteforce", "container-cpu-outlier"]  # fired first
        bruteforce = rows[1]
        assert bruteforce.startswith("▲ ingress-bruteforce") and SEVERITY_GLYPH["high"] in bruteforce
        assert bruteforce.count(SEVERITY_GLYPH["high"]) > 5 and QUIET in bruteforce
        error = next(row for row in rows if "falco-blind" in row)
        assert error.startswith("✗") and "error" in error
        detail = app.screen.query_one("#timeline-detail").render()
        assert "ingress-bruteforce" in str(detail) and "peak 99 %" not in str(detail)


async def test_windows_1_to_4_reload_the_lanes() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        for key, span in (("1", HOUR), ("3", 24 * HOUR), ("4", 7 * 24 * HOUR)):
            await pilot.press(key)
            await settle(pilot)
            _source, start, end = backend.timelines[-1]
            assert (end - start, end) == (span, NOW)
        assert "Timeline · last 7d" in str(app.screen.query_one("#timeline-title").render())


async def test_enter_moves_the_cursor_to_the_interval_start_and_opens_the_detector() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("down", "left", "enter")  # container-cpu-outlier, its earlier interval
        await settle(pilot)
        assert app.cursor.at == NOW - 5400
        screen = app.screen
        assert isinstance(screen, DetectorScreen)
        assert screen.key == TileKey("demo", "container-cpu-outlier")


async def test_brackets_move_the_cursor_mark_and_leaving_the_window_reloads() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("1")  # the last hour
        await settle(pilot)
        loads = len(backend.timelines)
        await pilot.press("right_curly_bracket", "left_square_bracket")  # step 1h: 1h back
        await settle(pilot)
        assert app.cursor.at == NOW - HOUR
        assert "│" in "".join(lanes_text(app)[1:])  # the cursor mark
        await pilot.press("left_square_bracket")  # 2h back: outside the last hour
        await settle(pilot)
        assert len(backend.timelines) > loads
        _source, start, end = backend.timelines[-1]
        assert start <= NOW - 2 * HOUR <= end and end - start == HOUR


async def test_lanes_fit_80x24_with_names_shortened_not_cut() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        widget = app.screen.query_one(TimelineLanes)
        rows = lanes_text(app)
        assert len(rows) == 1 + 6 and all(len(row) <= widget.content_size.width for row in rows)
        assert widget.region.bottom <= 22  # above the detail line and the footer


def test_help_lists_the_timeline_key() -> None:
    sections = dict(key_table())
    assert ("l", "Timeline") in sections["Everywhere"]
    assert any(keys == "enter" for keys, _ in sections["Timeline view"])


def test_lane_columns_cover_each_interval_and_its_last_step() -> None:
    intervals = [Interval(1000.0, 1000.0, 1, 1), Interval(1500.0, 1740.0, 1, 1)]
    cells = lane(intervals, 0.0, 2000.0, 20, 60.0)  # 100 s per column
    assert cells[10] == 0 and cells[9] is None and cells[11] is None  # one step: one column
    assert [i for i, c in enumerate(cells) if c == 1] == [15, 16, 17]
    assert lane(intervals, 3000.0, 4000.0, 10, 60.0) == [None] * 10
    assert column_of(1999.0, 0.0, 2000.0, 20) == 19 and column_of(2500.0, 0.0, 2000.0, 20) is None


def test_ruler_ticks_never_overlap_and_shortening_keeps_both_ends() -> None:
    text = ruler(NOW - 6 * HOUR, NOW, 60)
    assert len(text) == 60 and text.count("╵") >= 3
    assert all(text[i - 1] == " " for i, c in enumerate(text) if c == "╵" and i > 0)  # apart
    week = ruler(NOW - 7 * 86400, NOW, 90)
    assert any(day in week for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    assert shorten("ingress-response-size-anomaly", 20) == "ingress-re…e-anomaly"
    assert shorten("falco-blind", 20) == "falco-blind" and len(shorten("x" * 50, 7)) == 7


def test_the_window_follows_now_or_surrounds_a_past_cursor() -> None:
    assert window_for(NOW - 100, NOW, HOUR) == (NOW - HOUR, NOW)
    start, end = window_for(NOW - 5 * HOUR, NOW, HOUR)
    assert start < NOW - 5 * HOUR < end and end - start == HOUR
