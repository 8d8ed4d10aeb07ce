"""Charts on band data: one shaded band, axis never below 0 for non-negative units, no warm-up
walls, threshold and crossing labelled inside the plot, ticks with units, no legend box."""

from __future__ import annotations

import re

from promsoc.tui.chart_layout import band_cells, settled, ticks, y_limits
from promsoc.tui.state import TileKey
from promsoc.tui.widgets.finding_chart import BAND_MARKER, FindingChart
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import NOW

STEP = 60.0


def edge(values: list[float]) -> list[tuple[float, float]]:
    return [(NOW - (len(values) - i) * STEP, v) for i, v in enumerate(values)]


def test_non_negative_signals_never_get_an_axis_below_zero() -> None:
    rate = [0.2, 0.3, 0.25, 0.6]
    lower = edge([-3.8, -0.1, -0.1, -0.2])  # mean - k·stddev of a rate goes negative
    low, high = y_limits(rate, [edge([0.5] * 4), lower], 0.3, non_negative=True)
    assert low == 0.0 and high > 0.6
    low, _ = y_limits([-5.0, 2.0], [], None, non_negative=False)  # time to expiry may be negative
    assert low < -5.0


def test_a_band_warming_up_is_left_out_instead_of_drawn_as_a_wall() -> None:
    warming = edge([250.0, 120.0, *([0.45] * 30)])
    assert [v for _, v in settled(warming)] == [0.45] * 30
    _low, high = y_limits([0.2, 0.5], [warming], 0.3, non_negative=True)
    assert high < 1.0  # the warm-up's 250 does not stretch the axis


def test_the_band_is_one_region_between_its_edges_clipped_to_the_axis() -> None:
    upper, lower = edge([0.45] * 60), edge([0.05] * 60)
    limits = (0.0, 0.7)
    xs, ys = band_cells(upper, lower, NOW - 60 * STEP, NOW, 30, limits, 14)
    assert len(set(xs)) == 30  # every column shaded
    assert all(0.05 <= y <= 0.45 for y in ys) and min(ys) < 0.1 and max(ys) > 0.4
    thin = band_cells(edge([0.0021] * 60), edge([0.0016] * 60), NOW - 60 * STEP, NOW, 30, limits, 14)
    assert len(set(thin[0])) == 30  # thinner than a row: still one cell per column
    late = band_cells(upper[40:], lower[40:], NOW - 60 * STEP, NOW, 30, limits, 14)
    assert min(late[0]) >= upper[40][0]  # nothing before the band exists
    open_below = band_cells(upper, [], NOW - 60 * STEP, NOW, 30, limits, 14)
    assert min(open_below[1]) < 0.05  # no lower edge: down to the axis


def test_ticks_speak_the_unit() -> None:
    values, labels = ticks((0.0, 0.6), 4, "ratio")
    assert values[0] == 0.0 and labels == ["0%", "20%", "40%", "60%"]
    assert ticks((0.0, 5e6), 2, "bytes_per_second")[1] == ["0B/s", "5MB/s"]


async def test_the_detector_chart_labels_threshold_and_crossing_inside_the_plot() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_detector(TileKey("demo", "ingress-bruteforce"))
        await settle(pilot)
        chart = app.screen.query_one(FindingChart)
        drawn = re.sub(r"\x1b\[[0-9;]*m", "", chart.plt.build())
        assert "threshold 30 %" in drawn and "✕" in drawn and BAND_MARKER in drawn
        y_labels = re.findall(r"^\s*(\S+)┤", drawn, flags=re.MULTILINE)
        assert len(y_labels) >= 4 and all(label.endswith("%") and not label.startswith("-") for label in y_labels)
        title = drawn.splitlines()[0]
        assert "value" in title and "time band" in title and "threshold 30 %" in title
        assert "upper" not in drawn and "lower" not in drawn  # no legend box of four thin lines
