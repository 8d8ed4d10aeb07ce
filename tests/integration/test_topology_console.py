"""The console on the lab: the topology mode draws the real map and shows a miner's findings."""

from __future__ import annotations

from textual.widgets import Static

from promsoc.config import load_settings
from promsoc.lab import Lab
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.screens.topology import TopologyScreen
from promsoc.tui.widgets.topology_view import TopologyView


async def test_console_topology_on_the_lab_shows_the_miner_with_its_finding(lab: Lab) -> None:
    incident = lab.scenario.incident("crypto-miner")
    namespace, pod = incident.labels["namespace"], incident.labels["pod"]
    settings = load_settings(None, lab.url, "lab")
    app = ConsoleApp(LiveBackend(settings), at=incident.eval_at, poll=False)
    async with app.run_test(size=(160, 45)) as pilot:
        app.poll_now()  # the detectors at the incident's time feed the findings panel
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.show_pod(namespace, pod)
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, TopologyScreen)
        assert screen.error is None and screen.shown is not None
        cluster = lab.scenario.cluster
        assert len(screen.shown.topo.pods) == len(cluster.pods_at(screen.shown.topo.snapshot_at or 0))
        view = screen.query_one(TopologyView)
        assert view.current is not None and view.current.ref == f"{namespace}/{pod}"
        panel = str(screen.query_one("#topology-details", Static).visual)
        assert f"Pod {namespace}/{pod}" in panel
        assert "▲" in panel and "none from the detectors" not in panel, panel
