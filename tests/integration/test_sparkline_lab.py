"""The sparkline's topk queries against the lab's real Prometheus: valid PromQL for every
detector, and the same line, band edge and firing moments as comparing every series on the
client (which is what a 5,000-pod cluster could not afford)."""

from __future__ import annotations

import asyncio

from promsoc.detectors.charts import chart_plan
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.types import RangeSeries
from promsoc.tui.series_math import envelope, moments

WINDOW, STEP = 3600.0, 60.0


async def compare(lab: Lab, at: float) -> list[str]:
    problems: list[str] = []
    async with PromClient.from_url(lab.url) as prom:

        async def series(promql: str | None) -> list[RangeSeries]:
            if promql is None:
                return []
            return (await prom.query_range(promql, at - WINDOW, at, STEP)).series

        for det in load_detectors(None, None):
            full, top = chart_plan(det, context=False), sparkline_plan(det)
            edge = full.own.upper if full.own is not None else None
            signal, upper, fired, top_signal, top_upper, top_fired = await asyncio.gather(
                *(series(q) for q in (full.signal, edge, full.fired, top.signal, top.edge, top.fired))
            )
            want_points, want_edge = envelope(signal, upper)
            got_points, got_edge = envelope(top_signal, top_upper)
            if [v for _, v in got_points] != [v for _, v in want_points] or len(got_points) != len(want_points):
                problems.append(f"{det.id}: line differs")
            # the edge may differ only where two series tie for the top (topk picks either)
            tied = {
                t for t, v in want_points
                if sum(1 for s in signal for pt, pv in s.points if pt == t and pv == v) > 1
            }  # fmt: skip
            if {p for p in got_edge if p[0] not in tied} != {p for p in want_edge if p[0] not in tied}:
                problems.append(f"{det.id}: band edge differs")
            if moments(top_fired) != moments(fired):
                problems.append(f"{det.id}: firing moments differ")
            assert len(top_signal) <= len(signal) or not signal
    return problems


async def test_topk_sparklines_match_the_client_side_envelope(lab: Lab) -> None:
    times = [lab.scenario.incident(name).eval_at for name in ("crypto-miner", "exfiltration")]
    times.append(lab.scenario.quiet_times[0])
    for at in times:
        assert await compare(lab, at) == [], at
