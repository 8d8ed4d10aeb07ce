"""Only the sparklines on screen are refreshed at full cadence: what the console says it sees."""

from __future__ import annotations

from promsoc.tui.screens.overview import OverviewScreen
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import make_app, settle


async def test_the_overview_sees_the_tiles_in_view_and_another_view_sees_none() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")  # 80x24 opens compact (every detector on one line): tiles, by hand
        await pilot.pause()
        every = {t.key.detector for t in app.screen.query(DetectorTile)}
        first = app.sparklines_seen("demo")
        assert first and first < every  # 80x24 shows some tiles, not all
        last = list(app.screen.query(DetectorTile))[-1]
        last.focus()
        last.scroll_visible(animate=False)
        await pilot.pause()
        scrolled = app.sparklines_seen("demo")
        assert last.key.detector in scrolled and last.key.detector not in first
        await app.action_show("falco")
        await pilot.pause()
        assert app.sparklines_seen("demo") == set()  # the overview is closed: nothing is seen
        await app.action_show("overview")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert app.sparklines_seen("demo")
