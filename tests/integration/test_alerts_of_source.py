"""Which alerts belong to a source, live (a real Alertmanager) and at a past moment (a real
Prometheus's `ALERTS`): one rule (`alerts.SourceRule`), so stepping back does not hide an alert
that carries no `cluster` label, nor show another cluster's."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from promsoc.alerts import SourceRule, board_at
from promsoc.config import Settings, adhoc_alertmanager
from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.lab.launcher import PrometheusServer
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.alerts_link import AlertsLink
from tests.integration.am_support import alertmanager, api, wait_for
from tests.integration.labquery import query
from tests.integration.test_scan_cli import promsoc


def alert(name: str, severity: str = "warning", **labels: str) -> dict[str, object]:
    return {"alert": name, "expr": "vector(1)", "labels": {"severity": severity, **labels}}


ON_A = [
    alert("ClusterWide", "critical"),  # a rule not split by cluster: every cluster's
    alert("Mine", cluster="x"),
    alert("Theirs", cluster="y"),
    alert("Dotted", cluster="a.b"),
    alert("Lookalike", cluster="aXb"),
    alert("Quoted", cluster='say "hi"\\'),
]
ON_B = [alert("OnlyOnB", cluster="x")]  # a second Prometheus sending to the same Alertmanager
EVERY = {str(rule["alert"]) for rule in ON_A + ON_B}


@dataclass
class Rig:
    am: AlertmanagerServer
    a: PrometheusServer
    b: PrometheusServer


def prometheus(folder: Path, name: str, rules: list[dict[str, object]], am: AlertmanagerServer) -> PrometheusServer:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": name, "interval": "1s", "rules": rules}]}))
    return PrometheusServer(rule_files=[path], alertmanagers=[am.address])


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    folder = tmp_path_factory.mktemp("rules")
    with alertmanager() as am, prometheus(folder, "a", ON_A, am) as a, prometheus(folder, "b", ON_B, am) as b:
        wait_for(lambda: len(query(a.url, "ALERTS")) == len(ON_A) and len(query(b.url, "ALERTS")) == 1,
                 timeout=30, what="ALERTS of every rule")  # fmt: skip
        wait_for(lambda: {x["labels"]["alertname"] for x in api(am.url, "/alerts")} == EVERY,
                 timeout=60, what="Alertmanager holding every alert")  # fmt: skip
        yield Rig(am, a, b)


def settings(rig: Rig) -> Settings:
    return Settings(
        sources=(
            Source("x", rig.a.url, selector='cluster="x"'),
            Source("x-on-b", rig.b.url, selector='{cluster = "x"}'),  # the same rule, written apart
            Source("y", rig.a.url, selector='cluster="y"'),
            Source("fleet", rig.a.url),
        ),
        alertmanager=adhoc_alertmanager(rig.am.url),
    )


async def test_live_and_past_boards_show_a_source_the_same_alerts(rig: Rig) -> None:
    """An alert without the cluster label is every cluster's, live and as of a past moment; an
    alert of another cluster is neither's; the sources of one board (one Alertmanager, the same
    rule) see the alerts of each of their Prometheus servers at the past moment too."""
    config = settings(rig)
    clients = {s.name: PromClient(s) for s in config.sources}
    link = AlertsLink(config, clients.__getitem__)
    try:
        assert [getattr(link.info(n), "sources", None) for n in ("x", "x-on-b", "y", "fleet")] == [
            ("x", "x-on-b"), ("x", "x-on-b"), ("y",), ("fleet",)]  # fmt: skip
        past_at = time.time() - 1
        shown = {}
        for name in ("x", "y", "fleet"):
            live, past = await link.board(name, None), await link.board(name, past_at)
            shown[name] = ({r.name for r in live.rows}, {r.name for r in past.rows})
            assert not past.live and past.note.startswith("as of a past moment"), past.note
    finally:
        await link.aclose()
        for client in clients.values():
            await client.aclose()
    assert shown["x"] == ({"ClusterWide", "Mine", "OnlyOnB"},) * 2
    assert shown["y"] == ({"ClusterWide", "Theirs"},) * 2
    assert shown["fleet"] == (EVERY, EVERY - {"OnlyOnB"})  # fleet's Prometheus is A alone


def test_the_headless_command_keeps_the_same_alerts_for_a_source(rig: Rig, tmp_path: Path) -> None:
    config = tmp_path / "promsoc.yaml"
    config.write_text(yaml.safe_dump({
        "sources": [{"name": "x", "url": rig.a.url, "selector": 'cluster="x"'}],
        "alertmanager": {"url": rig.am.url},
    }))  # fmt: skip
    proc = promsoc("alerts", "--config", str(config), "--source", "x", "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # ClusterWide and Mine are active
    assert {a["labels"]["alertname"] for a in json.loads(proc.stdout)["alerts"]} == {"ClusterWide", "Mine", "OnlyOnB"}


# (selector, the alerts of A it keeps, whether ALERTS asked with the rule's matchers is exactly that)
CASES = [
    ('cluster="x"', {"ClusterWide", "Mine"}, True),
    ('cluster="a.b"', {"ClusterWide", "Dotted"}, True),  # a value is not a regex
    ('cluster=~"x|a.b"', {"ClusterWide", "Mine", "Dotted", "Lookalike"}, True),
    ('cluster=~"x|a\\\\.b"', {"ClusterWide", "Mine", "Dotted"}, True),
    ('cluster="say \\"hi\\"\\\\"', {"ClusterWide", "Quoted"}, True),
    ('cluster!="x"', EVERY - {"Mine", "OnlyOnB"}, True),
    ('cluster!~"a.*"', {"ClusterWide", "Mine", "Theirs", "Quoted"}, True),
    ('cluster!~"x|"', EVERY - {"Mine", "OnlyOnB"}, False),  # matches "": asked wider, kept by the rule
    ('cluster=""', {"ClusterWide"}, True),
    ('cluster!=""', EVERY - {"OnlyOnB"}, True),
    ('cluster="x",severity="warning"', {"Mine"}, True),
]


@pytest.mark.parametrize(("selector", "kept", "exact"), CASES, ids=[c[0] for c in CASES])
async def test_the_past_board_asks_prometheus_by_the_live_rule(
    rig: Rig, selector: str, kept: set[str], exact: bool
) -> None:
    """The rule's matchers, asked of a real Prometheus, select exactly the alerts the rule keeps
    (and the board filters by the rule where PromQL cannot say it)."""
    rule = SourceRule(selector)
    async with PromClient.from_url(rig.a.url) as prom:
        asked = await prom.query("ALERTS", selector=rule.promql)
        everything = await prom.query("ALERTS")
        board = await board_at({"a": prom}, time.time() - 1, selector)
    assert {s.labels["alertname"] for s in everything.samples if rule.keeps(s.labels)} == kept
    assert {r.name for r in board.rows} == kept
    assert ({s.labels["alertname"] for s in asked.samples} == kept) is exact, rule.promql


async def test_a_board_server_that_does_not_answer_is_named_and_the_others_shown(rig: Rig) -> None:
    from promsoc.lab.launcher import free_port
    from promsoc.prom.errors import Unreachable

    gone = PromClient.from_url(f"http://127.0.0.1:{free_port()}", retries=0)
    async with PromClient.from_url(rig.b.url) as prom, gone:
        shown = await board_at({"b": prom, "gone": gone}, time.time() - 1, 'cluster="x"')
        with pytest.raises(Unreachable, match="connection refused"):
            await board_at({"gone": gone}, time.time() - 1, 'cluster="x"')
    assert {r.name for r in shown.rows} == {"OnlyOnB"}
    [entry] = shown.unanswered
    assert entry.startswith("gone: ") and "connection refused" in entry, entry


async def test_the_console_shows_the_past_board_and_names_a_server_that_does_not_answer(rig: Rig) -> None:
    """At 80x24 the alerts view at a past moment lists the source's alerts by the live rule, and
    says first that a Prometheus of its board did not answer (then why, under the alerts)."""
    from promsoc.lab.launcher import free_port
    from promsoc.tui.app import ConsoleApp
    from promsoc.tui.time_cursor import Cursor
    from tests.integration.test_alerts_console import AlertsBackend, screen_text, settle, title

    config = Settings(
        sources=(Source("x", rig.a.url, selector='cluster="x"'),
                 Source("x-dr", f"http://127.0.0.1:{free_port()}", selector='cluster="x"')),
        alertmanager=adhoc_alertmanager(rig.am.url),
    )  # fmt: skip
    clients = {s.name: PromClient(s, retries=0) for s in config.sources}
    app = ConsoleApp(AlertsBackend(AlertsLink(config, clients.__getitem__), ("x", "x-dr")), poll=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("a")
            await settle(app, pilot)
            live = {g.name for g, r in app.screen.rows if r is None}  # type: ignore[attr-defined]
            app.cursor = Cursor(at=time.time() - 1)
            await settle(app, pilot)
            past = {g.name for g, r in app.screen.rows if r is None}  # type: ignore[attr-defined]
            assert live == {"ClusterWide", "Mine", "OnlyOnB"}  # Alertmanager holds B's alert too
            assert past == {"ClusterWide", "Mine"}  # B is not this board's (x-dr is, and is down): said
            assert "▲ 2 firing · ✗ no answer from x-dr" in title(app), title(app)
            text = screen_text(app)
            assert "✗ x-dr: " in text and "connection refused" in text, text
    finally:
        for client in clients.values():
            await client.aclose()
