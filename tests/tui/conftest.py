"""Console test helpers: an app on the deterministic fake backend, driven one poll at a time."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from promsoc.tui.app import ConsoleApp
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
