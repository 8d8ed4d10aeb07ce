"""The queries behind a tile's sparkline: the strongest series at each moment, asked of Prometheus.

A tile draws one line: per moment, the strongest of the detector's signal series, against the
band edge of that same series, and marks the moments the detector fired. Asking for every series
made a sibling-outlier detector (one series per pod) send 5,000 series of 240 points per answer
to be compared on the client; `topk(1, …)` per step is exactly the line the tile draws, and
Prometheus answers it with at most one point per step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from promsoc.detectors.charts import chart_plan
from promsoc.detectors.spec import Detector
from promsoc.promql import recording

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SparklinePlan:
    """Range queries for a tile: `signal` (one series per moment), the `edge` of its own band (or
    None; a threshold is a constant line), and `fired` (one series, present when the query fired)."""

    signal: str
    edge: str | None
    fired: str
    band_name: str | None
    threshold: bool


def sparkline_plan(det: Detector, recorded: Sequence[recording.Recorded] = ()) -> SparklinePlan:
    """The sparkline's queries for `det`: see the module docstring. With `recorded` (blocks the
    source has had over the whole window), they read the recording rules' series instead."""
    plan = _plan(det)
    if not recorded:
        return plan
    edge = recording.rewrite(plan.edge, recorded) if plan.edge else None
    return replace(plan, signal=recording.rewrite(plan.signal, recorded), edge=edge,
                   fired=recording.rewrite(plan.fired, recorded))  # fmt: skip


def _plan(det: Detector) -> SparklinePlan:
    plan = chart_plan(det, context=False)
    top = f"topk(1, ({plan.signal}))"
    own, band = plan.own, det.band
    edge = own.upper if own is not None else None
    if edge is not None and band is not None and band.kind != "threshold":
        if band.by is not None and all(_LABEL.match(name) for name in band.by):
            edge = f"({edge}) and on ({', '.join(band.by)}) {top}"  # a group band: the top series' group
        elif band.by is None:
            edge = f"({edge}) and {top}"  # a band per series: the top series' own
    return SparklinePlan(
        signal=top,
        edge=edge,
        fired=f"count(({plan.fired}))",
        band_name=own.name if own is not None else None,
        threshold=plan.threshold is not None,
    )


__all__ = ["SparklinePlan", "sparkline_plan"]
