"""Many tiles (twenty sources' 340, `bench_many_sources --console`): a source's news works on its
own tiles only: groups are re-sorted only where a tile started or stopped firing, and no tile is
re-filtered while no filter is set; with a filter set, the news is filtered as before."""

from __future__ import annotations

import pytest

from promsoc.detectors.results import Status
from promsoc.tui.screens import overview
from promsoc.tui.screens.overview import OverviewScreen, TileGrid, grid_tiles
from promsoc.tui.state import ConsoleState, TileKey
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import overview_polled
from tests.tui.fakes import NOW, FakeBackend
from tests.tui.test_cursor_keys import calls


def first_in_group(screen: OverviewScreen, source: str, detector: str) -> str:
    """The first tile of the group holding `source`'s `detector`."""
    grid = next(g for g in screen.query(TileGrid) if any(t.key == TileKey(source, detector) for t in grid_tiles(g)))
    return grid_tiles(grid)[0].key.detector


async def test_news_sorts_only_the_groups_where_firing_changed_and_filters_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = FakeBackend(sources=("prod", "dr"))
    async with overview_polled(backend) as (app, _, screen):
        sorts = calls(monkeypatch, overview, "grid_tiles")
        filters = calls(monkeypatch, OverviewScreen, "_apply_filter")
        orders = calls(monkeypatch, ConsoleState, "keys")
        keys = app.state.apply_results("dr", await backend.evaluate("dr", NOW), 0.1, NOW, NOW)
        screen.state_changed(keys)  # a new poll of dr: new result objects, the same statuses
        assert sorts == [] and filters == [] and orders == []
        backend.statuses["ingress-bruteforce"] = Status.OK
        backend.statuses["ingress-fingerprinting"] = Status.FIRING
        keys = app.state.apply_results("dr", await backend.evaluate("dr", NOW), 0.1, NOW, NOW)
        screen.state_changed(keys)
        assert len(sorts) == 1 and filters == [] and orders == []  # dr's ingress group alone
        assert first_in_group(screen, "dr", "ingress-bruteforce") == "ingress-fingerprinting"
        assert first_in_group(screen, "prod", "ingress-bruteforce") == "ingress-bruteforce"


async def test_with_a_filter_set_news_is_filtered_and_clearing_it_shows_every_tile() -> None:
    backend = FakeBackend(sources=("prod", "dr"))
    async with overview_polled(backend) as (app, pilot, screen):
        await pilot.press("slash", *"firing", "enter")

        def shown() -> set[tuple[str, str]]:
            return {(t.key.source, t.key.detector) for t in screen.query(DetectorTile) if t.display}

        before = shown()
        assert ("dr", "ingress-bruteforce") in before and ("dr", "ingress-fingerprinting") not in before
        backend.statuses["ingress-bruteforce"] = Status.OK
        backend.statuses["ingress-fingerprinting"] = Status.FIRING
        keys = app.state.apply_results("dr", await backend.evaluate("dr", NOW), 0.1, NOW, NOW)
        screen.state_changed(keys)
        after = shown()
        assert ("dr", "ingress-fingerprinting") in after and ("dr", "ingress-bruteforce") not in after
        assert ("prod", "ingress-bruteforce") in after  # prod's news has not come
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len(shown()) == len(screen.query(DetectorTile))
