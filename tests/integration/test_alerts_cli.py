"""`promsoc alerts` as a user runs it, against a real Alertmanager: table, JSON, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.lab.launcher import free_port
from tests.integration.am_support import alertmanager, post_alerts, silence, states, wait_for
from tests.integration.client_support import raw_server
from tests.integration.test_scan_cli import promsoc

HOSTILE = "\x1b[31mred\x1b]8;;http://evil\x07link\x1b]8;;\x07 [bold]x[/bold] \u202egnp.exe"


@pytest.fixture
def am() -> Iterator[AlertmanagerServer]:
    with alertmanager() as server:
        yield server


def test_json_follows_the_contract_and_exit_1_while_an_alert_pages(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "PromsocIngressSqli", "severity": "high", "detector": "ingress-sqli"},
                {"alertname": "Quiet", "severity": "info"}, summary="sqli")  # fmt: skip
    sid = silence(am.url, {"alertname": "Quiet"}, by="oncall", comment="pentest window")
    wait_for(lambda: states(am.url) == {"PromsocIngressSqli": "active", "Quiet": "suppressed"}, what="states")
    proc = promsoc("alerts", "--alertmanager", am.url, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["alertmanager"] == am.url
    alerts = {a["labels"]["alertname"]: a for a in doc["alerts"]}
    assert set(alerts["Quiet"]) >= {"labels", "annotations", "state", "silenced_by", "inhibited_by", "starts_at"}
    assert alerts["Quiet"]["state"] == "suppressed" and alerts["Quiet"]["silenced_by"] == [sid]
    assert alerts["PromsocIngressSqli"]["annotations"] == {"summary": "sqli"}
    assert alerts["PromsocIngressSqli"]["starts_at"].endswith("Z")
    [only] = doc["silences"]
    assert only["id"] == sid and only["created_by"] == "oncall" and only["comment"] == "pentest window"
    assert only["matchers"] == [{"name": "alertname", "value": "Quiet", "is_regex": False, "is_equal": True}]
    assert only["ends_at"].endswith("Z")


def test_table_groups_by_name_fits_80_columns_and_exit_0_once_all_are_silenced(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Disk", "severity": "warning", "node": "n1"},
                {"alertname": "Disk", "severity": "warning", "node": "n2"})  # fmt: skip
    silence(am.url, {"alertname": "Disk"}, by="oncall", comment="resizing volumes")
    wait_for(lambda: states(am.url) == {"Disk": "suppressed"}, what="Disk silenced")
    proc = promsoc("alerts", "--alertmanager", am.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "2 alerts (0 active, 2 silenced, 0 inhibited), 1 silences" in lines[1]
    assert "Disk (2)" in lines
    rows = [line for line in lines if line.startswith("◌ silenced")]
    assert [r.split()[-1] for r in rows] == ["node=n1", "node=n2"]
    assert sum("silenced by oncall until" in line and "resizing volumes" in line for line in lines) == 2
    assert 'alertname="Disk"' in proc.stdout


def test_unreachable_alertmanager_exits_3_with_a_readable_reason() -> None:
    proc = promsoc("alerts", "--alertmanager", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 3
    assert "connection refused" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_no_alertmanager_configured_is_a_usage_error() -> None:
    proc = promsoc("alerts", "--config", "/nonexistent/promsoc.yaml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    bad = promsoc("alerts", "--alertmanager", "ftp://nowhere")
    assert bad.returncode == 2 and "--alertmanager" in bad.stderr


def test_hostile_label_values_are_inert_in_the_table(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Evil", "severity": "high", "pod": HOSTILE})
    silence(am.url, {"pod": HOSTILE}, by=HOSTILE, comment=HOSTILE)
    wait_for(lambda: states(am.url) == {"Evil": "suppressed"}, what="Evil silenced")
    proc = promsoc("alerts", "--alertmanager", am.url)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    assert "pod=" in proc.stdout
    doc = json.loads(promsoc("alerts", "--alertmanager", am.url, "--format", "json").stdout)
    assert doc["alerts"][0]["labels"]["pod"] == HOSTILE  # JSON keeps the value, escaped by json


def test_the_configs_alertmanager_is_used_per_source_then_globally(am: AlertmanagerServer, tmp_path: Path) -> None:
    post_alerts(am.url, {"alertname": "FromConfig", "severity": "high"})
    wait_for(lambda: states(am.url) == {"FromConfig": "active"}, what="FromConfig active")
    dead = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "c.yaml"
    config.write_text(f"alertmanager:\n  url: {dead}\n  timeout: 2s\nsources:\n"
                      f"  - name: eu\n    url: http://127.0.0.1:9\n    alertmanager:\n      url: {am.url}\n")
    config.chmod(0o600)
    per_source = promsoc("alerts", "--config", str(config), "--source", "eu", "--format", "json")
    assert per_source.returncode == 1, per_source.stderr
    assert json.loads(per_source.stdout)["alerts"][0]["labels"]["alertname"] == "FromConfig"
    glob = promsoc("alerts", "--config", str(config))
    assert glob.returncode == 3 and "connection refused" in glob.stderr


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n<html>hi</html", "invalid JSON"),
        (b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n[{"status": 1}]',
         "unexpected item"),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", "is the URL the Alertmanager root?"),
    ],
    ids=["html", "wrong-shape", "wrong-path"],
)  # fmt: skip
def test_a_server_that_is_not_alertmanager_is_exit_3_in_one_line(reply: bytes, words: str) -> None:
    with raw_server(reply) as (url, _accepted):
        proc = promsoc("alerts", "--alertmanager", url)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert words in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
