"""The alerts view when sources of different selectors (clusters) share one Alertmanager."""

from __future__ import annotations

from promsoc.alerts import AlertRow, AlertsBoard, group_rows
from promsoc.tui.backend import AlertmanagerInfo
from promsoc.tui.screens.alerts import AlertsScreen
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import FakeBackend

CLUSTERS = ("cluster-1", "cluster-2")


class ClustersBackend(FakeBackend):
    """One Alertmanager, a board per cluster (as `AlertsLink` serves sources of two selectors)."""

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        return AlertmanagerInfo("http://alertmanager.example:9093", (source,), False, "oncall")

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        labels = {"alertname": "PromsocIngressCreated", "cluster": source, "ingress": f"in-{source}"}
        row = AlertRow("PromsocIngressCreated", "medium", "active", labels)
        return AlertsBoard(group_rows([row]))


async def test_each_cluster_has_its_board_and_n_steps_to_the_next() -> None:
    app = make_app(ClustersBackend(CLUSTERS))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert app.alert_sections() == list(CLUSTERS)
        for cluster in CLUSTERS:
            title = str(screen.query_one("#alerts-title").visual)  # type: ignore[attr-defined]
            assert f" · {cluster} · http://alertmanager.example:9093" in title, title
            assert [r.labels["cluster"] for _, r in screen.rows if r is not None] == [cluster]
            assert screen.check_action("next_alertmanager", ())
            await pilot.press("n")
            await pilot.pause()
