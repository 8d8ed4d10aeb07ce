"""Pilot tests of the console on the deterministic fake backend: tiles, cursor, failure, keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from promsoc.detectors.results import DetectorResult, Status
from promsoc.topology.build import build_topology
from promsoc.topology.model import Topology
from promsoc.topology.synthetic import node_sample, pod_samples, rs_sample
from promsoc.tui.messages import ChartLoaded, PollFailed, ResultsUpdated
from promsoc.tui.screens.detector import DetectorScreen
from promsoc.tui.screens.help import HelpScreen
from promsoc.tui.screens.overview import OverviewScreen
from promsoc.tui.screens.topology import TopologyScreen
from promsoc.tui.state import TileKey
from promsoc.tui.widgets.tile import DetectorTile
from promsoc.tui.widgets.topology_view import TopologyView
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import NOW, FakeBackend


def tile(app: Any, detector: str, source: str = "demo") -> DetectorTile:
    tiles: list[DetectorTile] = list(app.screen.query(DetectorTile))
    return next(t for t in tiles if t.key == TileKey(source, detector))


async def test_tiles_reach_the_backend_statuses_with_glyph_and_word() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert tile(app, "ingress-bruteforce").render().plain.startswith("… WAITING")
        await settle(pilot)
        lines = {
            d: tile(app, d).render().plain.splitlines()[0]
            for d in ("ingress-bruteforce", "ingress-fingerprinting", "cert-expiry-certmanager", "falco-blind")
        }
        assert lines["ingress-bruteforce"].startswith("▲ FIRING  2 findings")
        assert lines["ingress-fingerprinting"].startswith("✓ OK")
        assert lines["cert-expiry-certmanager"].startswith("○ NO DATA")
        assert lines["falco-blind"].startswith("✗ ERROR")
        assert tile(app, "ingress-bruteforce").has_class("-firing")
        spark = tile(app, "ingress-fingerprinting").render().plain.splitlines()[2]
        assert "▲" in spark  # points above the band stand out by glyph


async def test_results_arrive_as_messages_posted_to_the_app() -> None:
    seen: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await settle(pilot)
    results = [m for m in seen if isinstance(m, ResultsUpdated)]
    assert results and results[0].source == "demo" and results[0].at == NOW


async def test_moving_the_time_cursor_changes_what_is_evaluated() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        await pilot.press("right_curly_bracket", "left_square_bracket")
        await settle(pilot)
        assert app.cursor.step_name == "1h"
        await pilot.press("t")
        await pilot.press(*"2026-11-27 03:12", "enter")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
    assert backend.evaluated_at == [NOW, NOW - 300, NOW - 300 - 3600, NOW - 86400, NOW]


async def test_header_says_live_or_as_of() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header = app.screen.query_one("#header")
        assert " LIVE " in str(header.render())
        await pilot.press("right_curly_bracket", "left_square_bracket", "left_square_bracket")
        assert "AS OF 2026-11-28 01:12 UTC (−2h)" in str(header.render())


async def test_a_blind_tile_says_why_when_the_pack_knows() -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "blind spot: metrics absent" in tile(app, "cert-expiry-certmanager").render().plain
        why = "ingress-nginx reports status classes, not codes [b]x[/b]"
        blind = DetectorResult(
            "demo", "ingress-fingerprinting", "t", "ingress", "high", Status.NO_DATA, NOW, note=why
        )
        app.post_message(ResultsUpdated("demo", [blind], NOW, 0.1, NOW))
        await pilot.pause()
        detail = tile(app, "ingress-fingerprinting").render().plain.splitlines()[1]
        assert detail.startswith("ingress-nginx reports")  # the cause, not "metrics absent"
        tile(app, "ingress-fingerprinting").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetectorScreen)
        info = str(app.screen.query_one("#detector-info", Static).render())
        assert "Blind spot: " + why in info  # whole, and the markup stays text


async def test_prometheus_going_away_marks_tiles_stale_and_they_recover() -> None:
    backend = FakeBackend()
    seen: list[Message] = []
    app = make_app(backend)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await settle(pilot)
        backend.down = "unreachable: connection refused (127.0.0.1:9090)"
        await settle(pilot)
        text = tile(app, "ingress-fingerprinting").render().plain
        assert "⌛ STALE" in text and "unreachable: connection" in text
        assert "⌛ STALE: unreachable" in str(app.screen.query_one("#header").render())
        backend.down = None
        await settle(pilot)
        assert "STALE" not in tile(app, "ingress-fingerprinting").render().plain
    assert any(isinstance(m, PollFailed) for m in seen)


async def test_hostile_labels_render_as_inert_text_and_do_not_act() -> None:
    app = make_app(FakeBackend(hostile=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        top = tile(app, "ingress-bruteforce").render().plain.splitlines()[1]
        assert "\u202e" not in top and "?evil?.ex" in top  # the override is one "?", the rest cut to fit
        tile(app, "ingress-bruteforce").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetectorScreen)
        table = app.screen.query_one("#findings")
        cells = [str(table.get_row_at(i)) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert any("[@click=app.quit]click me[/] [b]bold[/b]" in c for c in cells)
        for x in range(0, 120, 3):  # clicking all over the hostile row must not quit
            await pilot.click(offset=(x, 3))
        assert app.is_running
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\u202e" not in svg
        assert "A" * 200 not in svg  # 10 kB values are cut


async def test_detector_view_shows_findings_and_loads_the_chart() -> None:
    seen: list[Message] = []
    app = make_app()
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await settle(pilot)
        tile(app, "ingress-bruteforce").focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetectorScreen)
        assert [f.value for f in screen.shown] == [0.62, 0.41]
        await pilot.press("s")  # sort by the first label column
        assert screen.sort_index == 1
        await pilot.press("slash", *"shop", "enter")
        assert [f.labels["host"] for f in screen.shown] == ["shop.example.com"]
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "24h" in str(screen.query_one("#chart-title").render())
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OverviewScreen)
    charts = [m for m in seen if isinstance(m, ChartLoaded) and m.chart is not None]
    assert charts and charts[-1].chart.crossed_at is not None  # type: ignore[union-attr]


async def test_keys_answer_while_a_slow_query_is_in_flight() -> None:
    backend = FakeBackend(delay=30)
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        app.poll_now()
        await pilot.pause(0.05)
        assert backend.in_flight == 1
        await pilot.press("left_square_bracket")
        assert not app.cursor.live
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app.workers.cancel_all()


async def test_help_lists_every_key_and_the_palette_has_every_action() -> None:
    from promsoc.tui.app import ConsoleApp
    from promsoc.tui.screens.falco import FalcoScreen
    from promsoc.tui.screens.help import display, key_table
    from promsoc.tui.screens.topology import TopologyScreen

    sections = dict(key_table())
    owners = {
        "Everywhere": ConsoleApp.BINDINGS,
        "Overview": OverviewScreen.BINDINGS,
        "Detector view": DetectorScreen.BINDINGS,
        "Falco view": FalcoScreen.BINDINGS,
        "Topology": TopologyScreen.BINDINGS,
    }
    for section, bindings in owners.items():
        listed = {what: keys.split(", ") for keys, what in sections[section]}
        for binding in bindings:
            assert isinstance(binding, Binding)
            what = binding.description or binding.action
            assert what in listed, f"{section}: {what!r} is not in the help"
            for key in binding.key.split(","):
                assert display(key) in listed[what], f"{section}: key {key!r} of {what!r} is not in the help"
    app = make_app()
    async with app.run_test(size=(80, 24)):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for wanted in ("Time…", "Live", "◀ Step", "Hand-off", "Falco", "Topology", "Filter", "Help"):
        assert wanted in titles


def read_handoff(folder: Path) -> tuple[list[str], str]:
    names = sorted(p.name for p in folder.iterdir())
    return [n.rsplit(".", 1)[1] for n in names], (folder / names[0]).read_text()


async def test_hand_off_writes_svg_and_a_markdown_note(tmp_path: Path) -> None:
    app = make_app(FakeBackend(hostile=True), handoff_dir=str(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tile(app, "ingress-bruteforce").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("H")
        await app.workers.wait_for_complete()
    kinds, note = read_handoff(tmp_path)
    assert kinds == ["md", "svg"]
    assert "time cursor: LIVE" in note and "ingress-bruteforce" in note and "```promql" in note
    assert "\x1b" not in note and "\u202e" not in note


async def test_kiosk_hides_key_hints_and_rotates_past_prompts() -> None:
    app = make_app(kiosk=True, rotate_every=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.screen.query("Footer")
        await pilot.press("question_mark")
        await app.rotate()
        await pilot.pause()
        assert app.current_mode == "falco"
        await app.rotate()
        await pilot.pause()
        assert app.current_mode == "topology"
        await app.rotate()
        await pilot.pause()
        assert app.current_mode == "overview" and isinstance(app.screen, OverviewScreen)


async def test_no_color_is_respected_and_statuses_still_read(monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        assert tile(app, "falco-blind").render().plain.startswith("✗ ERROR")
        assert tile(app, "ingress-bruteforce").result.status is Status.FIRING  # type: ignore[union-attr]


async def test_falco_view_renders_hostile_rule_names_inertly() -> None:
    app = make_app(FakeBackend(hostile=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        table = app.screen.query_one("#top-rules")
        rules = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert "[@click=app.quit]click me[/] [b]bold[/b]" in rules
        assert "instances reporting: 6" in str(app.screen.query_one("#falco-health").render())
        assert app.is_running


async def test_several_sources_group_per_source_and_fail_independently() -> None:
    backend = FakeBackend(("prod-eu", "prod-us"))
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [str(s.render()) for s in app.screen.query(".group-title")]
        assert "PROD-EU · INGRESS" in titles and "PROD-US · INGRESS" in titles
        header = str(app.screen.query_one("#header").render())
        assert "prod-eu" in header and "prod-us" in header
        assert tile(app, "ingress-bruteforce", "prod-us").render().plain.startswith("▲ FIRING")
        backend.down_for = {"prod-us"}
        await settle(pilot)
        assert "STALE" in tile(app, "ingress-bruteforce", "prod-us").render().plain
        assert "STALE" not in tile(app, "ingress-bruteforce", "prod-eu").render().plain


def miner_map() -> Topology:
    """A map holding the pod of the fake backend's CPU-outlier finding."""
    info, owner = pod_samples("batch", "miner-5d9f-x2x9q", "w1", "ReplicaSet", "miner-5d9f", at=NOW)
    rs = rs_sample("batch", "miner-5d9f", "miner", NOW)
    return build_topology(NOW, [info], [owner], [rs], [node_sample("w1", at=NOW)])


async def test_a_finding_jumps_to_its_pod_on_the_map_and_headers_sort() -> None:
    miner = miner_map()
    app = make_app(FakeBackend(maps=(miner, miner)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_detector(TileKey("demo", "ingress-bruteforce"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetectorScreen)
        await pilot.click("#findings", offset=(2, 0))  # the "value" header: ascending now
        assert [f.value for f in screen.shown] == [0.41, 0.62]
        await pilot.press("g")  # no pod label on an ingress finding: a notice, no jump
        assert app.current_mode == "overview"
        await pilot.press("escape")
        app.open_detector(TileKey("demo", "container-cpu-outlier"))
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert app.current_mode == "topology"
        topology = app.screen
        assert isinstance(topology, TopologyScreen)
        assert topology.view == "workloads"  # the map opens on the pod's workload
        view = topology.query_one(TopologyView)
        assert view.current is not None and view.current.ref == "batch/miner-5d9f-x2x9q"
        assert "Pod batch/miner-5d9f-x2x9q" in str(topology.query_one("#topology-details", Static).visual)


class _NeverSilencer:
    """A write path that must not be reached: any use fails the test."""

    author = "oncall"
    url = "http://alertmanager.example:9093"

    async def silence(self, row: object, *, comment: str, duration: float, names: object) -> str:
        raise AssertionError("silenced at a past moment")

    async def expire(self, silence: object) -> None:
        raise AssertionError("expired at a past moment")


async def test_alerts_view_at_a_past_moment_shows_alerts_then_and_offers_no_silencing() -> None:
    from promsoc.alerts import AlertRow, AlertsBoard, group_rows
    from promsoc.tui.screens.alerts import AlertsScreen
    from tests.tui.fakes import alert_board

    backend = FakeBackend()
    backend.alert_board = alert_board()
    row = AlertRow("PromsocIngressSqli", "high", "firing", {"alertname": "PromsocIngressSqli", "path": "/search"},
                   starts_at=NOW - 4000)  # fmt: skip
    backend.past_board = AlertsBoard(group_rows([row]), live=False, at=NOW - 3600, note="past")
    backend.silencer = lambda source: _NeverSilencer()  # type: ignore[method-assign]
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert screen.check_action("silence", ()) and screen.silencer is not None  # live: allowed here
        await pilot.press("left_curly_bracket", "right_curly_bracket")  # step 1h
        await pilot.press("left_square_bracket")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        title = str(screen.query_one("#alerts-title").visual)  # type: ignore[attr-defined]
        assert "▲ 1 firing (Prometheus's ALERTS; silences are live-only)" in title
        assert [r.state for _, r in screen.rows if r is not None] == ["firing"]
        assert screen.silencer is None and not screen.check_action("silence", ())
        await pilot.press("down", "S", "E")
        assert app.screen is screen


def test_help_lists_the_alerts_view_and_its_keys() -> None:
    from promsoc.tui.screens.help import key_table

    table = dict(key_table())
    assert ("a", "Alerts") in table["Everywhere"]
    assert ("S", "Silence…") in table["Alerts view"] and ("E", "Expire silence…") in table["Alerts view"]
    assert ("enter", "Detector view") in table["Alerts view"]


async def test_kiosk_may_rotate_through_the_alerts_view() -> None:
    from tests.tui.fakes import alert_board

    backend = FakeBackend()
    backend.alert_board = alert_board()
    app = make_app(backend, kiosk=True, rotation=("overview", "alerts", "nonsense"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.rotation == ("overview", "alerts")
        await app.rotate()
        await settle(pilot)
        assert app.current_mode == "alerts"
        await app.rotate()
        assert app.current_mode == "overview"


async def test_a_poll_landing_while_the_detector_view_composes_does_not_crash_it() -> None:
    """Served consoles hit this: results arrived between push_screen and the screen's compose."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_detector(TileKey("demo", "ingress-bruteforce"))
        screen = app.screen
        assert isinstance(screen, DetectorScreen)
        screen.state_changed([])  # before its widgets exist
        await settle(pilot)
        assert app.is_running and app.screen is screen
        assert screen.query_one("#findings", DataTable).row_count > 0


async def test_alerts_and_falco_landing_while_their_views_compose_do_not_crash_them() -> None:
    """CI hit this: alerts arrived between the alerts view's compose and its on_mount, whose
    table had no columns yet ("More values provided than there are columns"); and a message
    landing mid-switch, when the new mode's screen stack is still empty, asked `app.screen`."""
    from promsoc.tui.screens.alerts import AlertsScreen
    from promsoc.tui.screens.falco import FalcoScreen
    from tests.tui.fakes import alert_board

    backend = FakeBackend()
    backend.alert_board = alert_board()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for mode, kind, table in (("alerts", AlertsScreen, "#alert-rows"), ("falco", FalcoScreen, "#top-rules")):
            app.switch_mode(mode)  # not awaited: the view is still composing
            screen = app.screen
            assert isinstance(screen, kind)
            screen.state_changed([])  # before its widgets exist
            await pilot.pause()
            screen.state_changed([])  # composed; on_mount may not have run yet
            await settle(pilot)
            assert app.is_running and app.screen is screen
            assert len(screen.query_one(table, DataTable).columns) >= 3
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.query_one("#alert-rows", DataTable).row_count > 0
