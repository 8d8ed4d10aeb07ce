"""The overview fits any screen: header counts, compact layout (auto at 80x24, `c`), firing first,
values with units, severity never cut, and threshold sparklines that show the distance left."""

from __future__ import annotations

from typing import Any

from rich.style import Style

from promsoc.detectors.results import Status
from promsoc.tui.backend import History
from promsoc.tui.screens.overview import OverviewScreen, TileGrid, tiles_fit
from promsoc.tui.widgets import sparkline_text
from promsoc.tui.widgets.console_header import ConsoleHeader
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import NOW, FakeBackend


def tiles(app: Any) -> list[DetectorTile]:
    return list(app.screen.query(DetectorTile))


def header(app: Any) -> str:
    return str(app.screen.query_one(ConsoleHeader).render().plain)


async def test_80x24_is_compact_one_line_per_detector_with_unit_values() -> None:
    app = make_app(FakeBackend(sources=("prod", "dr")))  # 12 detectors: tiles would not fit
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-compact")
        shown = tiles(app)
        assert all(t.region.height == 1 for t in shown)
        line = next(t for t in shown if t.key.detector == "ingress-bruteforce").render().plain
        assert line.startswith("▲ FIRING") and "ingress-bruteforce" in line and "62%" in line
        cpu = next(t for t in shown if t.key.detector == "container-cpu-outlier").render().plain
        assert "4.2c" in cpu
        assert "▲ 4 firing" in header(app) and "✗2" in header(app) and "○2" in header(app)


async def test_c_switches_layouts_and_120x40_starts_with_tiles() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.has_class("-compact")
        assert all(t.region.height == 5 for t in tiles(app))
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.has_class("-compact") and all(t.region.height == 1 for t in tiles(app))
        await pilot.press("c")
        await pilot.pause()
        assert not app.screen.has_class("-compact")
        assert "▲ 2 firing" in header(app) and "✗ 1 error" in header(app) and "○ 1 no data" in header(app)


async def test_firing_tiles_come_first_within_their_group_in_both_layouts() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ingress = next(g for g in app.screen.query(TileGrid)
                       if any(t.key.detector == "ingress-bruteforce" for t in g.query(DetectorTile)))
        assert next(t.key.detector for t in ingress.query(DetectorTile)) == "ingress-bruteforce"
        backend.statuses["ingress-bruteforce"] = Status.OK
        backend.statuses["ingress-fingerprinting"] = Status.FIRING
        await pilot.press("c")
        await settle(pilot)
        assert next(t.key.detector for t in ingress.query(DetectorTile)) == "ingress-fingerprinting"
        first_rows = [t.region.y for t in ingress.query(DetectorTile)]
        assert first_rows == sorted(first_rows)  # drawn in that order, one line each


async def test_tiles_keep_severity_and_value_with_unit_at_80_100_120_columns() -> None:
    for width in (80, 100, 120):
        app = make_app()
        async with app.run_test(size=(width, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, OverviewScreen) and not app.screen.has_class("-compact")
            for tile in tiles(app):
                assert tile.border_subtitle in ("high", "medium", "critical")  # severity whole
                title = str(tile.border_title)
                assert len(title) <= tile.size.width - 2  # fits the top border whole
            quiet = next(t for t in tiles(app) if t.key.detector == "ingress-fingerprinting")
            assert quiet.render().plain.splitlines()[1] == "quiet · threshold 30 %"  # the fake's 0.3, as a share
            brute = next(t for t in tiles(app) if t.key.detector == "ingress-bruteforce")
            assert brute.render().plain.splitlines()[2].endswith(" 62%")  # at the sparkline's end


def test_tiles_fit_counts_title_lines_and_rows() -> None:
    assert tiles_fit([6, 4, 3, 4], 120, 40)
    assert not tiles_fit([6, 4, 3, 4], 80, 24)
    assert not tiles_fit([17], 120, 12)


def test_threshold_sparkline_grows_as_expiry_nears_instead_of_a_flat_block() -> None:
    day = 86400.0
    points = [(NOW - 3600 + i * 60, (20 - i * 0.2) * day) for i in range(61)]  # 20 d down to 8 d left
    history = History(points, None, 7 * day, [], lower_is_worse=True)
    text = sparkline_text.render(history, 20, Style(), Style()).plain
    assert text[0] != text[-1] and text[0] in "▁▂▃" and text[-1] in "▆▇█"
    assert list(text) == sorted(text)  # closer and closer
    expired = History([(NOW, 6 * day)], None, 7 * day, [], lower_is_worse=True)
    assert sparkline_text.render(expired, 3, Style(), Style()).plain.strip() == "▲"
    assert sparkline_text.closeness(70 * day, 7 * day) == 0.1
