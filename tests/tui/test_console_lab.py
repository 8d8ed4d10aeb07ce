"""The console against the real lab: scenario statuses, the time cursor, the detector view."""

from __future__ import annotations

from typing import Any

from promsoc.config import load_settings
from promsoc.detectors.results import Status
from promsoc.lab import Lab
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.screens.detector import DetectorScreen
from promsoc.tui.state import TileKey
from promsoc.tui.time_cursor import Cursor
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import settle


def lab_app(lab: Lab) -> ConsoleApp:
    backend = LiveBackend(load_settings(None, lab.url, "lab"))
    return ConsoleApp(backend, poll=False, clock=lambda: lab.anchor)


def tile_text(app: ConsoleApp, detector: str) -> str:
    tile = next(t for t in app.screen.query(DetectorTile) if t.key == TileKey("lab", detector))
    return str(tile.render())


async def test_tiles_reach_the_scenario_statuses_as_the_cursor_moves(lab: Lab) -> None:
    attacks = [i for i in lab.scenario.incidents if not i.benign]
    app = lab_app(lab)
    async with app.run_test(size=(160, 50)) as pilot:
        for incident in attacks:
            app.cursor = Cursor(at=incident.eval_at)
            await settle(pilot)
            result = app.state.results[TileKey("lab", incident.detector)]
            assert result.evaluated_at == incident.eval_at
            assert result.status is Status.FIRING, (incident.name, result)
            assert tile_text(app, incident.detector).startswith("▲ FIRING"), incident.name
        app.cursor = Cursor(at=lab.scenario.quiet_times[0])
        await settle(pilot)
        statuses = {k.detector: r.status for k, r in app.state.results.items()}
        assert Status.FIRING not in statuses.values(), statuses
        assert "AS OF" in str(app.screen.query_one("#header").render())


async def test_detector_view_shows_the_incident_finding_and_its_chart(lab: Lab) -> None:
    incident = next(i for i in lab.scenario.incidents if i.detector == "container-cpu-outlier" and not i.benign)
    seen: list[Any] = []
    app = lab_app(lab)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        app.cursor = Cursor(at=incident.eval_at)
        await settle(pilot)
        app.open_detector(TileKey("lab", incident.detector))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetectorScreen)
        wanted = {k: v for k, v in incident.labels.items() if k in ("namespace", "pod")}
        assert any(wanted.items() <= f.labels.items() for f in screen.shown), screen.shown
        charts = [m for m in seen if type(m).__name__ == "ChartLoaded"]
        assert charts and charts[-1].error is None
        chart = charts[-1].chart
        assert chart.points and chart.crossed_at is not None
        assert incident.start - 600 <= chart.crossed_at <= incident.eval_at
