"""The recording rules split by cluster, backfilled as if Prometheus had run them for `span` seconds.

A lab started with the rules (`promsoc demo --recording-rules`) has them from its start only: a
time band's terms are read once its recorded signal is 71 minutes old, and a sparkline or chart
reads recorded series only where the source has had them since the start of its 1-hour window.
To measure the steady state without waiting two hours, the blocks are recorded over the past with
`promtool tsdb create-blocks-from rules` (`Lab.backfill_rules`) in two passes, since promtool
evaluates against the lab's own series and cannot read what it records in the same pass: first
every block that reads raw series (a signal built on the map spelled whole, the map inlined),
then, once Prometheus has loaded those blocks, the band terms and every block's marker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import yaml

from promsoc.detectors.engine import present_blocks, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import split_blocks
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.group_by import split_plan
from promsoc.prom.settings import Source
from promsoc.promql import recording


def _document(rules: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"groups": [{"name": recording.GROUP_NAME, "interval": "1m", "rules": rules}]})


def _loaded(url: str, cluster: str, at: float, want: int, wait: float = 600.0) -> None:
    async def poll() -> None:
        blocks = recorded_blocks(load_detectors(), presence=True)
        deadline = time.monotonic() + wait
        async with PromClient(Source(name=cluster, url=url, selector=f'cluster="{cluster}"')) as client:
            while len(await present_blocks(client, at, blocks)) < want:
                if time.monotonic() > deadline:
                    found = len(await present_blocks(client, at, blocks))
                    raise SystemExit(f"{cluster} read {found} of {want} backfilled blocks {time.time() - at:.0f} s ago "
                                     f"after {wait:.0f} s")
                await asyncio.sleep(3)

    asyncio.run(poll())


def backfill(lab: Lab, span: float, by: str = "cluster", probe: str = "cluster-1") -> float:
    """Record the split blocks and their markers over the last `span` seconds; the seconds it took."""
    began = time.monotonic()
    blocks = split_blocks(recorded_blocks(load_detectors(), presence=True), by)
    now = time.time()
    start, end = now - span, now - 60
    terms = [b for b in blocks if b.aged is not None and b.aged != b.record]
    first: list[dict[str, Any]] = []
    for block in blocks:
        if block in terms:
            continue
        rule = block.rule if "promsoc:" not in block.rule else split_plan(block.expr, by).promql
        first.append({"record": block.record, "expr": rule})
    lab.backfill_rules(_document(first), start, end)
    # the markers need the blocks in Prometheus; a marker-less block is not read, so poll the map's
    probe_at = start + 300
    loaded = f"count(promsoc:pod_workload:owner @ {probe_at:.0f})"
    _wait_for_series(lab.url, loaded)
    second: list[dict[str, Any]] = [{"record": b.record, "expr": b.rule} for b in terms]
    second += [recording.marker_rule(b) for b in blocks]
    lab.backfill_rules(_document(second), start, end)
    # every block now; an hour ago (a sparkline's window) every block but the band terms, which
    # promtool left empty there (their marker then keeps that band's sparkline on its raw query)
    _loaded(lab.url, probe, time.time() - 15, len(blocks))
    _loaded(lab.url, probe, now - 3600, len(blocks) - len(terms))
    return time.monotonic() - began


def _wait_for_series(url: str, promql: str, wait: float = 240.0) -> None:
    async def poll() -> None:
        deadline = time.monotonic() + wait
        async with PromClient(Source(name="lab", url=url)) as client:
            while not (await client.query(promql)).samples:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the backfilled blocks were not loaded within {wait:.0f} s")
                await asyncio.sleep(3)

    asyncio.run(poll())
