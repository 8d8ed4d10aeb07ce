"""The console's Alertmanager link against a real Alertmanager: read-only unless allowed, writes logged."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from promsoc.config import Settings, adhoc_alertmanager
from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.alerts_link import AlertsLink
from tests.integration.am_support import alertmanager, api, post_alerts, states, wait_for


@pytest.fixture
def am() -> Iterator[AlertmanagerServer]:
    with alertmanager() as server:
        yield server


def settings_for(am_url: str, allow: bool, *sources: str) -> Settings:
    chosen = replace(adhoc_alertmanager(am_url), allow_silence=allow, author="alice")
    return Settings(sources=tuple(Source(name, "http://127.0.0.1:9") for name in sources), alertmanager=chosen)


def no_prometheus(source: str) -> PromClient:
    raise AssertionError("the live board must not ask Prometheus")


async def test_read_only_by_default_no_silencer_exists(am: AlertmanagerServer) -> None:
    link = AlertsLink(settings_for(am.url, False, "eu", "us"), no_prometheus)
    try:
        assert link.silencer("eu") is None and link.silencer("us") is None
        info = link.info("eu")
        assert info is not None and info.sources == ("eu", "us") and not info.allow_silence
        assert link.info("nowhere") is None
    finally:
        await link.aclose()


async def test_allowed_silence_suppresses_the_alert_and_is_logged_then_expired(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    post_alerts(am.url, {"alertname": "Crypto", "severity": "critical", "pod": "miner-1", "namespace": "shop"})
    wait_for(lambda: states(am.url) == {"Crypto": "active"}, what="Crypto active")
    audit = tmp_path / "state" / "silences.log"
    link = AlertsLink(settings_for(am.url, True, "eu"), no_prometheus, log_path=audit)
    try:
        row = (await link.board("eu", None)).rows[0]
        silencer = link.silencer("eu")
        assert silencer is not None and silencer.author == "alice"
        sid = await silencer.silence(row, comment="pentest window", duration=3600, names=["alertname", "pod"])
        wait_for(lambda: states(am.url) == {"Crypto": "suppressed"}, what="Crypto silenced")
        shown = await link.board("eu", None)
        assert shown.rows[0].state == "silenced" and shown.rows[0].silences[0].created_by == "alice"
        [made] = [s for s in api(am.url, "/silences") if s["id"] == sid]
        assert {m["name"] for m in made["matchers"]} == {"alertname", "pod"}
        await silencer.expire(shown.silences[0])
        wait_for(lambda: states(am.url) == {"Crypto": "active"}, what="Crypto active again")
    finally:
        await link.aclose()
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["id"], e["author"]) for e in entries] == [
        ("create", sid, "alice"), ("expire", sid, "alice")]  # fmt: skip
    assert entries[0]["matchers"] == '{alertname="Crypto", pod="miner-1"}'
    assert entries[0]["until"] > time.time() + 3000


async def test_unreachable_alertmanager_raises_a_readable_error() -> None:
    from promsoc.lab.launcher import free_port
    from promsoc.prom.errors import Unreachable

    link = AlertsLink(settings_for(f"http://127.0.0.1:{free_port()}", False, "eu"), no_prometheus)
    try:
        with pytest.raises(Unreachable, match="connection refused"):
            await link.board("eu", None)
    finally:
        await link.aclose()
