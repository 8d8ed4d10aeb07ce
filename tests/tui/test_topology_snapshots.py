"""Snapshots of the topology screen: the node view with diff marks, and a selected pod's panel."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from promsoc.tui.screens.topology import TopologyScreen
from tests.tui.test_topology_screen import NOW, FakeLoader, Host, results


def _app() -> Host:
    return Host(TopologyScreen(FakeLoader(), results, clock=lambda: NOW))


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_node_view_with_diff(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("d")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 32), run_before=run_before)


def test_selected_pod_with_findings(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TopologyScreen)
        screen.show_pod("shop", "db-0")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 32), run_before=run_before)
