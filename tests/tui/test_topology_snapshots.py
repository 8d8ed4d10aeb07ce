"""Snapshots of the topology mode in the console: the node view with diff marks, a jumped-to pod."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from promsoc.tui.app import ConsoleApp
from tests.tui.conftest import make_app
from tests.tui.test_topology_screen import _settle, backend_with_finding, open_map


def _app() -> ConsoleApp:
    return make_app(backend_with_finding())


def test_node_view_with_diff(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_map(pilot)
        await pilot.press("d")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 32), run_before=run_before)


def test_selected_pod_with_findings(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_map(pilot)
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        await app.show_pod("shop", "db-0")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 32), run_before=run_before)
