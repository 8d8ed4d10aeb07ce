"""Console test helpers: an app on the deterministic fake backend, driven one poll at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from promsoc.tui.app import ConsoleApp
from promsoc.tui.screens.overview import OverviewScreen
from tests.tui.fakes import NOW, FakeBackend


def make_app(backend: FakeBackend | None = None, **kwargs: Any) -> ConsoleApp:
    """No background loops: tests call `settle` to run exactly one poll cycle per source."""
    return ConsoleApp(backend or FakeBackend(), clock=lambda: NOW, poll=False, **kwargs)


async def settle(pilot: Pilot[Any]) -> None:
    """Poll once, wait for every worker, then let the posted messages be handled."""
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    app.poll_now()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Let the loop run until `condition()` holds; fail after `within` seconds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (another part's state: there is no Event to wait on)
            await asyncio.sleep(0.02)


@asynccontextmanager
async def overview_polled(
    backend: FakeBackend, pause: float = 0.0
) -> AsyncIterator[tuple[ConsoleApp, Pilot[Any], OverviewScreen]]:
    """A console at 120x40 on `backend`, one poll cycle in (and `pause` s more):
    the app, its pilot and its overview."""
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        if pause:
            await pilot.pause(pause)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        yield app, pilot, screen
