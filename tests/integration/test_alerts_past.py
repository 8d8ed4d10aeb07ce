"""What was firing at a past moment comes from a real Prometheus's own `ALERTS` series."""

from __future__ import annotations

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

RULES = {
    "groups": [{
        "name": "t", "interval": "1s",
        "rules": [
            {"alert": "AlwaysOn", "expr": "vector(1)",
             "labels": {"severity": "high", "detector": "ingress-sqli"}, "annotations": {"summary": "on"}},
            {"alert": "Waiting", "expr": "vector(1)", "for": "1h", "labels": {"severity": "low"}},
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
        wait_for(lambda: len(query(server.url, "ALERTS")) == 2, timeout=30, what="ALERTS for both rules")
        yield server, began


async def test_the_past_board_shows_firing_and_pending_with_their_start(ruled: tuple[PrometheusServer, float]) -> None:
    server, began = ruled
    async with PromClient.from_url(server.url) as prom:
        now = await board_at({"lab": prom}, time.time())
        before = await board_at({"lab": prom}, began - 60)
    assert not now.live and now.note and now.at is not None
    states = {r.name: r.state for r in now.rows}
    assert states == {"AlwaysOn": "firing", "Waiting": "pending"}
    on = next(r for r in now.rows if r.name == "AlwaysOn")
    assert on.detector == "ingress-sqli" and on.severity == "high"
    assert on.starts_at is not None and began - 5 <= on.starts_at <= time.time()
    assert "alertstate" not in on.labels
    assert now.active == 1  # pending is not paging
    assert before.rows == []
