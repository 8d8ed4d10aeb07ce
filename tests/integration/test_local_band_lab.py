"""promsoc's own `quantile` and median band (detectors.local_band) against Prometheus's: the same
numbers, to the bit, on sets Prometheus computes from literals (ties, even and odd sizes, NaN,
infinities, negative zero); a detector whose query is not exactly the band's keeps its query; a
signal over the response cap is asked as the query; a source's `sibling_bands` chooses."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace
from urllib.parse import parse_qs

import httpx
import pytest

from promsoc.config import load_settings
from promsoc.detectors.engine import evaluate
from promsoc.detectors.local_band import RETRY_WHOLE, local_band, quantile
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult, Status
from promsoc.detectors.shared_join import split_join
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.errors import ResponseTooLarge
from promsoc.prom.types import InstantResult, Sample
from promsoc.promql import bands
from promsoc.tui.live_backend import LiveBackend

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


def test_a_signal_over_the_response_cap_is_asked_as_the_query(lab: Lab) -> None:
    """Every pod's signal is more than the source lets one answer cost: the detector's PromQL is
    asked instead (only the outliers come back), with the query's findings, never an error."""
    detectors = [d for d in load_detectors() if local_band(d) is not None]
    times = [inc.eval_at for inc in lab.scenario.incidents] + lab.scenario.quiet_times[:2]

    async def compare() -> int:
        fired = 0
        async with PromClient.from_url(lab.url, name="lab") as whole, \
                PromClient.from_url(lab.url, name="lab", max_response_bytes=4096) as capped:  # fmt: skip
            for det in detectors:  # the signal alone would be refused
                band = local_band(det)
                assert band is not None
                assert len((await whole.query(band.signal, times[0])).samples) > 40
                with pytest.raises(ResponseTooLarge):
                    await capped.query(band.signal, times[0])
            for at in times:
                results = await evaluate(detectors, capped, "lab", at, recorded=False)
                for det, result in zip(detectors, results, strict=True):
                    query = await whole.query(det.query, at)
                    want = sorted((sorted(s.labels.items()), s.value) for s in query.samples)
                    assert result.status is (Status.FIRING if want else Status.OK), (det.id, at, result.error)
                    assert sorted((sorted(f.labels.items()), f.value) for f in result.findings) == want, (det.id, at)
                    fired += bool(want)
        return fired

    assert asyncio.run(compare()) >= 2


class Asked(httpx.AsyncHTTPTransport):
    """The real server's answers; remembers the PromQL of every instant query sent and how
    each answer crossed the wire (its Content-Encoding)."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.encodings: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/api/v1/query"):
            form = parse_qs(request.content.decode()) if request.method == "POST" else {}
            self.queries += form.get("query", []) + parse_qs(request.url.query.decode()).get("query", [])
            self.encodings.append(response.headers.get("Content-Encoding", "identity"))
        return response


@pytest.mark.parametrize("bands", ["local", "promql"])
def test_a_sources_sibling_bands_choose_what_the_console_asks(lab: Lab, bands: str) -> None:
    """`sibling_bands: promql` sends the band as PromQL (the signal twice, with its median);
    `local` (the default) asks for the signal alone (with the other sibling's: one map); the
    console's findings are the same; every answer comes gzipped (the bytes the README counts are
    on the wire)."""
    settings = load_settings(None, lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, sibling_bands=bands) for s in settings.sources))
    transport = Asked()
    backend = LiveBackend(settings, clients=lambda source: PromClient(source, transport=transport))
    at = next(i.eval_at for i in lab.scenario.incidents if i.detector == "container-cpu-outlier" and not i.benign)

    async def run() -> list[DetectorResult]:
        try:
            return await backend.evaluate("lab", at)
        finally:
            await backend.aclose()

    results = {r.detector: r for r in asyncio.run(run())}
    assert results["container-cpu-outlier"].status is Status.FIRING
    signal = local_band(next(d for d in load_detectors() if d.id == "container-cpu-outlier"))
    assert signal is not None
    medians = [q for q in transport.queries if "quantile by" in q and signal.signal in q]
    parts = split_join(signal.signal)
    assert parts is not None
    lhs, join = parts  # local: asked once, with the other sibling signal (detectors.shared_join)
    alone = [q for q in transport.queries if lhs in q and "quantile by" not in q and q.count(join) == 1]
    assert (len(medians), len(alone)) == ((0, 1) if bands == "local" else (1, 0))
    assert set(transport.encodings) == {"gzip"}  # the client asks for gzip; Prometheus compresses


def test_a_signal_over_the_cap_is_not_asked_again_at_every_evaluation(lab: Lab) -> None:
    """Once the whole signal was over the cap, the console asks the detector's PromQL directly
    (the same findings) for `RETRY_WHOLE` seconds, then tries the whole signal again: Prometheus
    does not evaluate and send an answer promsoc cuts off at every refresh."""
    settings = load_settings(None, lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, max_response_bytes=4096) for s in settings.sources))
    transport = Asked()
    backend = LiveBackend(settings, clients=lambda source: PromClient(source, transport=transport))
    now = [time.time() + 10_000]  # the cadence keeps nothing: every evaluation asks
    backend.clock = lambda: now[0]
    det = next(d for d in load_detectors() if d.id == "container-cpu-outlier")
    band = local_band(det)
    parts = split_join(band.signal) if band is not None else None
    assert parts is not None
    at = next(i.eval_at for i in lab.scenario.incidents if i.detector == det.id and not i.benign)

    def whole_asked() -> int:
        return len([q for q in transport.queries if parts[0] in q and "quantile by" not in q])

    async def run() -> list[tuple[int, int, list[DetectorResult]]]:
        seen = []
        try:
            async with PromClient.from_url(lab.url, name="lab") as plain:
                want = sorted(s.labels["pod"] for s in (await plain.query(det.query, at)).samples)
            assert want, "the incident fires"
            for step in (0.0, 60.0, RETRY_WHOLE - 120.0, RETRY_WHOLE + 61.0, 60.0):
                now[0] += step
                transport.queries.clear()
                results = await backend.evaluate("lab", at)
                mine = next(r for r in results if r.detector == det.id)
                assert sorted(f.labels["pod"] for f in mine.findings) == want, (step, mine.error)
                seen.append((whole_asked(), transport.queries.count(det.query), results))
        finally:
            await backend.aclose()
        return seen

    seen = asyncio.run(run())
    # first: the whole signal (with the other sibling's, then alone), cut off, then the query;
    # then the query alone until the retry
    assert [(whole > 0, query) for whole, query, _ in seen] == [
        (True, 1), (False, 1), (False, 1), (True, 1), (False, 1)]  # fmt: skip
