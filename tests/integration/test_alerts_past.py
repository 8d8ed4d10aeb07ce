"""What was firing at a past moment comes from a real Prometheus's own `ALERTS` series."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from promsoc.alerts import board_at
from promsoc.lab.launcher import PrometheusServer
from promsoc.prom.client import PromClient
from tests.integration.am_support import wait_for
from tests.integration.labquery import query
from tests.integration.test_alerts_cli import HOSTILE
from tests.integration.test_scan_cli import promsoc

RULES = {
    "groups": [{
        "name": "t", "interval": "1s",
        "rules": [
            {"alert": "AlwaysOn", "expr": "vector(1)",
             "labels": {"severity": "high", "detector": "ingress-sqli"}, "annotations": {"summary": "on"}},
            {"alert": "Waiting", "expr": "vector(1)", "for": "1h", "labels": {"severity": "low"}},
            {"alert": "Evil", "expr": "vector(1)", "labels": {"severity": "info", "pod": HOSTILE}},
        ],
    }]
}  # fmt: skip


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrometheusServer, float]]:
    folder = tmp_path_factory.mktemp("rules")
    rules = folder / "rules.yml"
    rules.write_text(yaml.safe_dump(RULES))
    began = time.time()
    with PrometheusServer(rule_files=[Path(rules)]) as server:
        wait_for(lambda: len(query(server.url, "ALERTS")) == 3, timeout=30, what="ALERTS for every rule")
        yield server, began


async def test_the_past_board_shows_firing_and_pending_with_their_start(ruled: tuple[PrometheusServer, float]) -> None:
    server, began = ruled
    async with PromClient.from_url(server.url) as prom:
        now = await board_at({"lab": prom}, time.time())
        before = await board_at({"lab": prom}, began - 60)
    assert not now.live and now.note and now.at is not None
    states = {r.name: r.state for r in now.rows}
    assert states == {"AlwaysOn": "firing", "Waiting": "pending", "Evil": "firing"}
    on = next(r for r in now.rows if r.name == "AlwaysOn")
    assert on.detector == "ingress-sqli" and on.severity == "high"
    assert on.starts_at is not None and began - 5 <= on.starts_at <= time.time()
    assert "alertstate" not in on.labels
    assert now.active == 2  # pending is not paging
    assert before.rows == []


def test_the_headless_past_board_shows_pending_and_keeps_hostile_labels_inert(
    ruled: tuple[PrometheusServer, float],
) -> None:
    """`promsoc alerts --at`: firing and pending in glyph + word, a hostile label value made inert
    in the table (kept, escaped, in JSON); a pending alert alone would not page (exit 1 is AlwaysOn's)."""
    server, began = ruled
    at = f"{time.time():.3f}"
    proc = promsoc("alerts", "--url", server.url, "--at", at)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert "3 alerts (2 firing, 1 pending)" in lines and all(len(line) <= 80 for line in lines)
    assert any(line.startswith("△ pending") for line in lines)
    assert any(line.startswith("▲ firing") and "pod=?red?link? [bold]x[/bold] ?gnp.exe" in line for line in lines)
    doc = json.loads(promsoc("alerts", "--url", server.url, "--at", at, "--format", "json").stdout)
    assert {a["labels"].get("pod") for a in doc["alerts"]} == {None, HOSTILE}
    assert {a["labels"]["alertname"]: a["state"] for a in doc["alerts"]} == {
        "AlwaysOn": "firing", "Waiting": "pending", "Evil": "firing"}  # fmt: skip
    before = promsoc("alerts", "--url", server.url, "--at", str(int(began - 60)))  # before its rules ran
    assert before.returncode == 0 and "0 alerts (0 firing, 0 pending)" in before.stdout, before.stdout
