"""Snapshots of every console screen at 80x24 and 120x40 in two themes (fixed clock and data)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from promsoc.tui.app import ConsoleApp
from promsoc.tui.state import TileKey
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import alert_board

SIZES = [(80, 24), (120, 40)]
THEMES = ["dark", "light"]


async def overview(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def detector(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    app.open_detector(TileKey("demo", "ingress-bruteforce"))
    await settle(pilot)


async def falco(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)


async def help_screen(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def past_and_stale(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await pilot.press("right_curly_bracket", "left_square_bracket", "left_square_bracket")
    app.backend.down = "unreachable: connection refused"  # type: ignore[attr-defined]
    await settle(pilot)


async def alerts(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    app.backend.alert_board = alert_board()  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    await pilot.press("down")
    await pilot.pause()


async def timeline(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)


async def compact_overview(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    if not app.screen.has_class("-compact"):  # automatic at 80x24, by key at 120x40
        await pilot.press("c")
    await pilot.pause()


SCREENS = {
    "overview": overview,
    "detector": detector,
    "falco": falco,
    "help": help_screen,
    "past-stale": past_and_stale,
    "alerts": alerts,
    "timeline": timeline,
    "overview-compact": compact_overview,
}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, screen: str, size: tuple[int, int], theme: str) -> None:
    assert snap_compare(make_app(theme=theme), terminal_size=size, run_before=SCREENS[screen])
