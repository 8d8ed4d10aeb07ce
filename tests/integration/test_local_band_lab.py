"""promsoc's own `quantile` and median band (detectors.local_band) against Prometheus's: the same
numbers, to the bit, on sets Prometheus computes from literals (ties, even and odd sizes, NaN,
infinities, negative zero); and a detector whose query is not exactly the band's keeps its query."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

from promsoc.detectors.local_band import local_band, quantile
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.types import InstantResult, Sample
from promsoc.promql import bands

SETS = [
    [1.0],
    [0.25, 4.0],
    [3.0, 1.0, 2.0],
    [0.1, 0.2, 0.3, 0.7],
    [5.0, 5.0, 5.0, 1e-9, 123456.789],
    [math.nan, 1.0, 2.0],
    [math.nan, math.nan, 1.0, 3.0],
    [math.inf, 1.0, 2.0, 3.0],
    [-math.inf, 0.0, -0.0, 7.5],
    [1.0 / 3, 2.0 / 3, 0.1 + 0.2, 1e300, 1e-300, 17.0],
]
QUANTILES = [0.5, 0.0, 1.0, 0.3, 0.99]


def literal(values: list[float]) -> str:
    """One series per value, told apart by a label (PromQL literals for NaN and infinities)."""
    def number(value: float) -> str:
        return "NaN" if math.isnan(value) else ("Inf" if value > 0 else "-Inf") if math.isinf(value) else repr(value)

    return " or ".join(f'label_replace(vector({number(v)}), "i", "{i}", "", "")' for i, v in enumerate(values))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_quantile_is_prometheus_quantile(lab: Lab) -> None:
    async def run() -> list[str]:
        wrong = []
        async with PromClient.from_url(lab.url, name="lab") as client:
            for values in SETS:
                for q in QUANTILES:
                    answer = await client.query(f"quantile({q}, {literal(values)})")
                    theirs = answer.samples[0].value
                    if not same(quantile(q, values), theirs):
                        wrong.append(f"quantile({q}, {values}): promsoc {quantile(q, values)!r}, Prometheus {theirs!r}")
        return wrong

    assert asyncio.run(run()) == []


def test_the_band_applied_here_is_the_band_in_promql(lab: Lab) -> None:
    """Groups by the band's labels (one group lacks one: empty, as in PromQL), ratio and floor as
    the sibling detectors have them; the same members through the PromQL band and through promsoc's."""
    det = next(d for d in load_detectors() if d.id == "container-cpu-outlier")
    band = local_band(det)
    assert band is not None and band.by == ("namespace", "workload_kind", "workload")
    members = [("a", "x", 0.1), ("a", "x", 0.12), ("a", "x", 0.9), ("a", "y", 0.5), ("b", "x", 0.0),
               ("b", "x", 0.0), ("b", "x", 0.1000001), ("b", "", 3.0), ("b", "", 0.01), ("b", "", 0.02)]
    signal = " or ".join(
        f'label_replace(label_replace(label_replace(label_replace(vector({v!r}), "namespace", "{ns}", "", ""), '
        f'"workload_kind", "Deployment", "", ""), "workload", "{w}", "", ""), "pod", "p{i}", "", "")'
        for i, (ns, w, v) in enumerate(members)
    )
    promql = bands.above(signal, bands.group_median_ratio_band(signal, band.by, band.ratio, band.floor))

    async def run() -> tuple[InstantResult, InstantResult]:
        async with PromClient.from_url(lab.url, name="lab") as client:
            return await client.query(signal), await client.query(promql)

    whole, fired = asyncio.run(run())
    applied = replace(band, signal=signal).apply(whole)
    assert sorted((sorted(s.labels.items()), s.value) for s in applied.samples) == sorted(
        (sorted(s.labels.items()), s.value) for s in fired.samples
    )
    assert {s.labels["pod"] for s in applied.samples} == {"p2", "p6", "p7"}  # p6: a hair above the floor


def test_only_the_exact_band_query_is_answered_from_its_signal() -> None:
    det = next(d for d in load_detectors() if d.id == "pod-egress-outlier")
    band = local_band(det)
    assert band is not None and det.band is not None
    assert local_band(replace(det, query=f"{det.query} and on () vector(1)")) is None  # a user's own query
    assert local_band(replace(det, band=replace(det.band, params=(("ratio", 4.0), ("floor", 0.0))))) is None
    assert local_band(replace(det, signal=None)) is None
    assert local_band(next(d for d in load_detectors() if d.id == "volume-inode-anomaly")) is None  # a MAD band
    assert band.apply(InstantResult("vector", [Sample({"namespace": "n"}, 1.0, 0.0)], [])).samples == []
