"""The real console (LiveBackend over a real socket) against a hostile server: +Inf and 1e308
points, lone surrogates in labels, absurd typed times. It must survive all of them."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from promsoc.config import load_settings
from promsoc.detectors.results import CONSOLE_FINDINGS, Status
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.screens.detector import DetectorScreen
from promsoc.tui.screens.time_prompt import TimePrompt
from promsoc.tui.terminal import EXIT_CRASH, exit_status
from promsoc.tui.widgets.tile import DetectorTile
from tests.integration.hostile_server import answering, matrix, vector
from tests.tui.conftest import settle

NOW = 1_795_835_520.0
SURROGATE = "web-\ud800-\udfff-x"
INSTANT = vector(({"pod": SURROGATE, "namespace": "shop", "host": "h", "path": "/p"}, "+Inf"))
POINTS = [(NOW - 3600 + 60 * i, v) for i, v in enumerate(["1", "+Inf", "1e308", "-1e308", "NaN", "2", "3"])]
RANGED = matrix(({"pod": SURROGATE, "namespace": "shop", "host": "h", "path": "/p"}, POINTS))


def console(url: str, **kwargs: Any) -> ConsoleApp:
    settings = load_settings(None, url, "hostile")
    return ConsoleApp(LiveBackend(settings), clock=lambda: NOW, poll=False, **kwargs)


async def test_infinite_and_huge_points_and_surrogates_do_not_crash_tiles_charts_or_hand_off(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "handoff"
    with answering(INSTANT, RANGED) as url:
        app = console(url, handoff_dir=str(folder))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            tiles = list(app.screen.query(DetectorTile))
            firing = [t for t in tiles if (r := app.state.results.get(t.key)) and r.status is Status.FIRING]
            assert firing, [app.state.results.get(t.key) for t in tiles]
            assert app.state.histories  # sparklines of +Inf/1e308 points were drawn
            for one in tiles:
                one.render()
            firing[0].focus()
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, DetectorScreen)
            await pilot.press("3")  # another window: the chart is drawn again
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("H")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("escape")
        assert app.return_code in (None, 0)
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".md", ".svg"], files
    for path in files:
        data = path.read_bytes()
        assert data, f"{path.name} is empty"
        text = data.decode("utf-8")  # valid UTF-8: no lone surrogate reached the file
        assert "web-?-?-x" in text or path.suffix == ".svg"  # the sanitiser marked each one
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not [n for n in os.listdir(folder) if n.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "1e308", "-5", "-" + "9" * 5000 + "w"])
async def test_the_time_prompt_refuses_impossible_moments(typed: str) -> None:
    with answering(vector()) as url:
        app = console(url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await pilot.pause()
            app.screen.query_one("#time-input").value = typed  # type: ignore[attr-defined]
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TimePrompt)  # still open, with the reason
            assert "not" in str(app.screen.query_one("#time-error").render())
            await pilot.press("escape")
            assert app.cursor.at is None
        assert app.return_code in (None, 0)


async def test_a_crash_of_the_console_never_exits_0() -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    with answering(vector()) as url:
        app = console(url)
        with pytest.raises(RuntimeError):
            async with app.run_test(size=(80, 24)) as pilot:
                app.call_later(boom)
                await pilot.pause()
    assert app.return_code == 1
    assert exit_status(app, None) == EXIT_CRASH


async def test_the_console_keeps_the_worst_findings_and_says_how_many_there_are() -> None:
    pods = vector(*(({"pod": f"pod-{i:04d}", "namespace": "shop", "host": "h", "path": "/p"}, str(i))
                    for i in range(CONSOLE_FINDINGS + 500)))  # fmt: skip
    with answering(pods, RANGED) as url:
        app = console(url)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            firing = [r for r in app.state.results.values() if r.status is Status.FIRING]
            assert firing
            for result in firing:
                assert (len(result.findings), result.omitted) == (CONSOLE_FINDINGS, 500)
                assert result.findings[0].labels["pod"] == "pod-1499"  # the worst kept
            tile = next(t for t in app.screen.query(DetectorTile) if t.key.detector == firing[0].detector)
            assert f"{CONSOLE_FINDINGS + 500} findings" in tile.render().plain
            app.open_detector(tile.key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, DetectorScreen)
            title = str(app.screen.query_one("#detector-title").render())
            assert "worst 1,000 of 1,500 findings" in title
            await pilot.press("escape")
