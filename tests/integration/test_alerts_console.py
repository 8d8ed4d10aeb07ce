"""The console's alerts view against a real Alertmanager: states, silencing (only when allowed),
an unreachable Alertmanager, hostile label values, and Enter to the detector behind an alert."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from promsoc.alerts import AlertsBoard
from promsoc.config import Settings, adhoc_alertmanager
from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.lab.launcher import free_port
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.alerts_link import AlertsLink, LinkSilencer
from promsoc.tui.app import ConsoleApp
from promsoc.tui.backend import AlertmanagerInfo
from promsoc.tui.screens.alerts import AlertsScreen
from promsoc.tui.screens.detector import DetectorScreen
from promsoc.tui.screens.silence_form import Confirm, SilenceForm
from promsoc.tui.state import TileKey
from tests.integration.am_support import alertmanager, api, post_alerts, silence, states, wait_for
from tests.integration.client_support import self_scraping_prometheus
from tests.tui.fakes import HOSTILE, FakeBackend


class AlertsBackend(FakeBackend):
    """The fake detectors, with the alerts from a real Alertmanager through the console's link."""

    def __init__(self, link: AlertsLink, sources: tuple[str, ...] = ("demo",)) -> None:
        super().__init__(sources)
        self.link = link

    def alertmanager(self, source: str) -> AlertmanagerInfo | None:
        return self.link.info(source)

    async def alerts(self, source: str, at: float | None) -> AlertsBoard:
        return await self.link.board(source, at)

    def silencer(self, source: str) -> LinkSilencer | None:
        return self.link.silencer(source)

    async def aclose(self) -> None:
        await self.link.aclose()


@pytest.fixture
def am() -> Iterator[AlertmanagerServer]:
    with alertmanager() as server:
        yield server


@asynccontextmanager
async def console(url: str, *, allow: bool, log: Path | None = None) -> AsyncIterator[tuple[ConsoleApp, Pilot[Any]]]:
    prom = PromClient.from_url(self_scraping_prometheus().url)
    chosen = replace(adhoc_alertmanager(url), allow_silence=allow, author="alice")
    settings = Settings(sources=(Source("demo", "http://127.0.0.1:9"),), alertmanager=chosen)
    app = ConsoleApp(AlertsBackend(AlertsLink(settings, lambda _: prom, log_path=log)), poll=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            await settle(app, pilot)
            yield app, pilot
    finally:
        await prom.aclose()


async def settle(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    app.refresh_alerts()
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def title(app: ConsoleApp) -> str:
    return str(app.screen.query_one("#alerts-title", Static).visual)


def screen_text(app: ConsoleApp) -> str:
    """What the terminal shows, one line per row (Textual's compositor, as the snapshots use it)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_posted_alerts_show_grouped_with_their_states_and_the_header_counts_them(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Paging", "severity": "critical", "pod": "web-1"},
                {"alertname": "Paging", "severity": "critical", "pod": "web-2"},
                {"alertname": "Hushed", "severity": "warning"},
                {"alertname": "Muted", "severity": "info", "promsoc_inhibit": "target"},
                {"alertname": "Cause", "severity": "high", "promsoc_inhibit": "source"})  # fmt: skip
    silence(am.url, {"alertname": "Hushed"}, by="oncall", comment="pentest window")
    wait_for(lambda: states(am.url) == {"Paging": "active", "Hushed": "suppressed", "Muted": "suppressed",
                                        "Cause": "active"}, what="states")  # fmt: skip
    async with console(am.url, allow=False) as (app, _pilot):
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        shown = {(g.name, r.state) for g, r in screen.rows if r is not None}
        assert shown == {("Paging", "active"), ("Hushed", "silenced"), ("Muted", "inhibited"), ("Cause", "active")}
        assert [g.name for g, r in screen.rows if r is None] == ["Paging", "Cause", "Hushed", "Muted"]
        assert "▲ 3 active · ◌ 1 silenced · ◇ 1 inhibited" in title(app)
        text = screen_text(app)
        assert "▲ 3 alerts" in text.splitlines()[0]  # the header counts what pages
        assert "◌ silenced" in text and "◇ inhibited" in text and "pentest window" in text  # the silences table


async def test_a_silence_made_from_the_console_suppresses_the_alert_and_is_logged(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    post_alerts(am.url, {"alertname": "Crypto", "severity": "critical", "pod": "miner-1", "namespace": "shop"})
    wait_for(lambda: states(am.url) == {"Crypto": "active"}, what="Crypto active")
    log = tmp_path / "silences.log"
    async with console(am.url, allow=True, log=log) as (app, pilot):
        await pilot.press("down")  # from the group line to the alert
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, SilenceForm)
        app.screen.query_one("#silence-comment", Input).value = "pentest window, ticket SEC-1"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        wait_for(lambda: states(am.url) == {"Crypto": "suppressed"}, what="Crypto silenced from the console")
        [made] = api(am.url, "/silences")
        assert made["createdBy"] == "alice" and made["comment"] == "pentest window, ticket SEC-1"
        assert {m["name"]: m["value"] for m in made["matchers"]} == {
            "alertname": "Crypto", "severity": "critical", "pod": "miner-1", "namespace": "shop"}  # fmt: skip
        assert 7100 < time.mktime(time.strptime(made["endsAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(
            time.strptime(made["startsAt"][:19], "%Y-%m-%dT%H:%M:%S")) < 7300  # the default 2h  # fmt: skip
        await settle(app, pilot)
        assert "◌ 1 silenced" in title(app)
        await pilot.press("E")  # the highlighted alert's silence
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        wait_for(lambda: states(am.url) == {"Crypto": "active"}, what="Crypto active after expiry")
    actions = [json.loads(line)["action"] for line in log.read_text().splitlines()]
    assert actions == ["create", "expire"]


async def test_without_allow_silence_no_write_path_exists(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Crypto", "severity": "critical"})
    wait_for(lambda: states(am.url) == {"Crypto": "active"}, what="Crypto active")
    async with console(am.url, allow=False) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert app.backend.silencer("demo") is None and screen.silencer is None
        assert not screen.check_action("silence", ()) and not screen.check_action("expire", ())
        await pilot.press("down", "S", "E")
        await pilot.pause()
        assert app.screen is screen  # no form, no confirmation
        assert "read-only" in title(app)
        footer = screen_text(app).splitlines()[-1]
        assert "Silence" not in footer and "Expire" not in footer
    assert api(am.url, "/silences") == []
    assert states(am.url) == {"Crypto": "active"}


async def test_an_unreachable_alertmanager_reads_as_a_state_not_a_crash() -> None:
    async with console(f"http://127.0.0.1:{free_port()}", allow=True) as (app, _pilot):
        assert "✗ unreachable: cannot connect to 127.0.0.1:" in title(app) and "connection refused" in title(app)
        assert "✗ alerts unreadable" in screen_text(app).splitlines()[0]
        assert isinstance(app.screen, AlertsScreen) and app.screen.rows == []


async def test_hostile_label_values_are_inert_in_the_view(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Evil", "severity": "high", "pod": HOSTILE["markup"],
                         "namespace": HOSTILE["ansi"], "host": HOSTILE["rtl"], "path": HOSTILE["long"]},
                summary=HOSTILE["markup"])  # fmt: skip
    silence(am.url, {"alertname": "Evil"}, by=HOSTILE["ansi"], comment=HOSTILE["markup"])
    wait_for(lambda: states(am.url) == {"Evil": "suppressed"}, what="Evil silenced")
    async with console(am.url, allow=False) as (app, pilot):
        await pilot.press("down")
        await pilot.pause()
        text = screen_text(app)
        assert app.is_running  # [@click=app.quit] did nothing
        assert "\x1b" not in text and "\u202e" not in text
        assert "[@click=app.quit]click me[/]" in text  # shown as the characters it is
        assert "?evil?.exe" in text or "?red??link?" in text  # each escape sequence or override: one '?'


async def test_enter_opens_the_detector_behind_an_alert_at_its_start(am: AlertmanagerServer) -> None:
    started = time.time() - 900
    post_alerts(am.url, {"alertname": "PromsocIngressBruteforce", "severity": "high",
                         "detector": "ingress-bruteforce", "host": "shop.example.com"}, started=started)  # fmt: skip
    wait_for(lambda: states(am.url) == {"PromsocIngressBruteforce": "active"}, what="alert active")
    async with console(am.url, allow=False) as (app, pilot):
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetectorScreen)
        assert app.screen.key == TileKey("demo", "ingress-bruteforce")
        assert not app.cursor.live and app.cursor.at is not None and abs(app.cursor.at - started) < 1
