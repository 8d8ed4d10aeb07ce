"""Cursor keys on a busy console (issue 15): a burst evaluates the final cursor once and shows it,
the key repaints the header (not the screen), and tiles repaint only what changed, a few per frame."""

from __future__ import annotations

from typing import Any

import pytest

from promsoc.detectors.results import Status
from promsoc.tui.app import ConsoleApp
from promsoc.tui.screens.overview import REPAINT_PER_FRAME, OverviewScreen
from promsoc.tui.state import TileKey
from promsoc.tui.widgets import tile as tile_module
from promsoc.tui.widgets.console_header import ConsoleHeader
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import make_app, overview_polled, settle, until
from tests.tui.fakes import DETECTORS, NOW, FakeBackend


def calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple[Any, ...]]:
    """Record the arguments of every call of `owner.name` (`self` first for a method); it still runs."""
    seen: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen


async def test_a_burst_of_cursor_keys_evaluates_the_final_cursor_once_and_shows_its_results() -> None:
    backend = FakeBackend(delay=0.1)
    app = ConsoleApp(backend, clock=lambda: NOW, interval=60)  # the real poll loop
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.state.histories)  # the first (live) cycle is done
        poller = app.pollers["demo"]
        poller.settle = 0.5  # the default (0.1 s) also holds for fast keys; a loaded CI is slower
        started, evaluated = poller.started, len(backend.evaluated_at)
        await pilot.press(*["left_square_bracket"] * 6)
        final = NOW - 6 * 300
        assert app.cursor.at == final
        await until(lambda: app.state.health["demo"].evaluated_at == final)
        await until(lambda: all(h.points[-1][0] <= final for h in app.state.histories.values()))
        await pilot.pause(0.2)
        assert poller.started - started == 1  # one cycle for six keys
        assert backend.evaluated_at[evaluated:] == [final]
        assert {r.evaluated_at for r in app.state.results.values()} == {final}
        header = str(app.screen.query_one("#header").render())
        assert "AS OF 2026-11-28 02:42 UTC (−30m)" in header, header


async def test_a_cursor_key_repaints_the_header_not_the_whole_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)
        screens = calls(monkeypatch, OverviewScreen, "refresh")
        await pilot.press("left_square_bracket")
        await pilot.pause(0.1)
        assert "AS OF" in str(app.screen.query_one("#header").render())
        assert screens == []  # a reactive cursor repainted the whole screen on every key


async def test_unchanged_results_and_the_clock_tick_repaint_no_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)
        refreshed = calls(monkeypatch, DetectorTile, "refresh")
        looked = calls(monkeypatch, tile_module, "_looks")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        screen.state_changed([])  # what the 2 s tick does
        assert looked == []  # the same result and sparkline objects: nothing to compare
        await settle(pilot)  # a new poll, the same answers
        assert looked and refreshed == []


async def test_many_tiles_changing_at_once_repaint_a_few_per_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = FakeBackend()
    async with overview_polled(backend, 0.1) as (app, _, screen):
        calls_to_refresh = calls(monkeypatch, DetectorTile, "refresh")

        def refreshed() -> set[TileKey]:
            return {args[0].key for args in calls_to_refresh}

        flipped = {Status.FIRING: Status.OK, Status.OK: Status.FIRING, Status.NO_DATA: Status.ERROR,
                   Status.ERROR: Status.NO_DATA}  # fmt: skip
        backend.statuses = {d: flipped[s] for d, s in backend.statuses.items()}
        app.state.apply_results("demo", await backend.evaluate("demo", NOW), 0.1, NOW, NOW)
        screen.state_changed([])
        assert len(refreshed()) == REPAINT_PER_FRAME < len(DETECTORS)  # the rest after the next frame
        await until(lambda: len(refreshed()) == len(DETECTORS))
        for tile in screen.query(DetectorTile):
            firing = backend.statuses[tile.key.detector] is Status.FIRING
            assert tile.has_class("-firing") == firing
            assert ("FIRING" in tile.render().plain) == firing


async def test_tiles_left_to_repaint_are_repainted_after_a_prompt_opened_and_closed_meanwhile() -> None:
    backend = FakeBackend()
    async with overview_polled(backend, 0.1) as (app, pilot, screen):
        backend.statuses = {d: Status.FIRING for d in backend.statuses}
        app.state.apply_results("demo", await backend.evaluate("demo", NOW), 0.1, NOW, NOW)
        screen.state_changed([])  # 4 tiles now, the rest after the next frame...
        await pilot.press("question_mark")  # ...but help is on screen by then
        await pilot.press("escape")
        assert app.screen is screen
        await until(lambda: all(t.has_class("-firing") for t in screen.query(DetectorTile)))
        assert all("FIRING" in t.render().plain for t in screen.query(DetectorTile))


async def test_new_results_update_the_header_without_walking_every_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    """With twenty sources' 340 tiles, finding the header by a query on every message and tick was
    about 7 ms each (bench_many_sources --console): the screen keeps the header it made."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        header = screen.query_one("#header", ConsoleHeader)
        updates = calls(monkeypatch, ConsoleHeader, "update_view")
        walks = calls(monkeypatch, OverviewScreen, "query")
        screen.state_changed([])
        assert updates == [(header,)]  # the header is still told
        assert walks == []  # and nothing walked the screen's widgets to find it
