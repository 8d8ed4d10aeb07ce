"""The recorded path on a real Prometheus: with `promsoc rules export --recording` installed, the
sibling detectors and falco-blind read the recorded blocks, say so, and answer as the raw queries
do; every block read back has the raw expression's labels (no recording's name) and, where it
does not move between two evaluations, its values; a time band whose recorded signal is younger
than its window stays raw; `promsoc check` says which path each source gives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs

import httpx
import pytest
import yaml

from promsoc.config import Settings, load_settings
from promsoc.detectors.cadence import sparkline_step
from promsoc.detectors.charts import chart_plan
from promsoc.detectors.engine import evaluate, query_for, recorded_blocks, recorded_present, recorded_state
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import export_recording
from promsoc.detectors.sparkline import sparkline_plan
from promsoc.lab import Lab, LabOptions
from promsoc.prom.client import PromClient
from promsoc.prom.range_cache import grid
from promsoc.prom.settings import Source
from promsoc.prom.types import InstantResult
from promsoc.promql import recording
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.series_math import steps_for

BAND = "ingress-response-size-anomaly"  # the time band: its recorded signal must be an hour old to be read


def recorded_options() -> LabOptions:
    """A lab whose Prometheus runs the recording rules (every 5 s here, so the test need not wait)."""
    rules = export_recording().replace("interval: 1m", "interval: 5s")
    return LabOptions(live_incidents=False, scrape_interval="5s", alert_rules=rules)


@pytest.fixture(scope="module")
def recorded_lab() -> Iterator[Lab]:
    """The rules have run only since it started, minutes ago: the time band's signal is young."""
    with Lab(recorded_options()) as lab:
        yield lab


@pytest.fixture(scope="module")
def banded_lab() -> Iterator[tuple[Lab, float]]:
    """Another such lab, whose time band's recorded signal is old (`backfill_band_signal`), and the
    moment it begins: its own, so that `recorded_lab` keeps the band young whatever the tests' order."""
    with Lab(recorded_options()) as lab:
        yield lab, backfill_band_signal(lab, recorded_blocks([d for d in load_detectors() if d.id == BAND]))


async def wait_for_rules(client: PromClient) -> None:
    deadline = time.monotonic() + 60
    while not await recorded_present(client, time.time() - 10):  # evaluated 10 s ago already
        assert time.monotonic() < deadline, "the recording rules never produced a series"
        await asyncio.sleep(1)


def answers(result: InstantResult) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in result.samples}


def test_sibling_detectors_read_the_recorded_map_and_agree_with_the_raw_join(recorded_lab: Lab) -> None:
    detectors = load_detectors()
    siblings = [d for d in detectors if d.id in ("container-cpu-outlier", "pod-egress-outlier")]

    async def run() -> None:
        async with PromClient.from_url(recorded_lab.url, name="lab") as client:
            await wait_for_rules(client)
            at = time.time() - 10  # a moment both the scrapes and the rules have passed
            for det in siblings:  # the signals themselves: every pod's value, on both paths
                assert det.signal is not None and recording.uses_recorded(det.signal)
                raw = await client.query(det.signal, at)
                recorded = await client.query(recording.rewrite(det.signal), at)
                assert answers(raw) and answers(raw) == answers(recorded), det.id
                assert query_for(det, True) != det.query
            state = await recorded_state(client, at, recorded_blocks(detectors, presence=True))
            # recorded seconds ago: a 1h band has no past yet (its mean has no series at all yet)
            assert "promsoc:ingress_response_size_anomaly:signal" in {b.record for b in state.young}
            assert not [b for b in state.readable if "ingress" in b.record]
            assert {b.record for b in state.readable} >= {recording.PRESENCE, "promsoc:node_pods:count"}
            for block in state.readable:  # at the rule's own evaluation, raw and recorded agree
                stamp = await client.query(f"max(timestamp({block.record}))", at)
                when = stamp.samples[0].value
                plain = answers(await client.query(block.expr, when))
                read_back = answers(await client.query(block.reads, when))
                assert plain and plain.keys() == read_back.keys(), block.record
                if block.what != "signal per pod":  # a rate may see a scrape stored after the rule ran
                    assert plain == read_back, block.record
            read = await evaluate(detectors, client, "lab", at)
            raw_results = await evaluate(detectors, client, "lab", at, recorded=False)
            by_id = {r.detector: r for r in read}
            for result in raw_results:
                other = by_id[result.detector]
                assert (other.status, other.findings) == (result.status, result.findings), result.detector
                assert not result.recorded
                reads = {*(d.id for d in siblings), "falco-blind"}
                assert other.recorded == (result.detector in reads), result.detector

    asyncio.run(run())


def test_check_says_which_path_each_source_gives(recorded_lab: Lab, lab: Lab) -> None:
    from promsoc.cli.check import RAW, RECORDED, YOUNG, _check_source, render

    detectors = load_detectors()

    async def rows_of(url: str) -> str:
        async with PromClient.from_url(url, name="lab") as client:
            if url == recorded_lab.url:
                await wait_for_rules(client)
            return render(await _check_source(client, "lab", detectors), len(detectors))

    with_rules, without = asyncio.run(rows_of(recorded_lab.url)), asyncio.run(rows_of(lab.url))
    assert with_rules.count(RECORDED) == 3 and RAW not in with_rules
    lines = with_rules.splitlines()
    assert lines.count(f"{RECORDED}signal per pod") == 2 and f"{RECORDED}pods per node" in lines
    assert YOUNG.format(age="71 min") in lines  # the time band, until its signal is that old
    assert without.count(RAW) == 4 and RECORDED not in without


class Asked(httpx.AsyncBaseTransport):
    """Forwards to the real server and keeps the query of every range request."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.ranges: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("query_range"):
            body = parse_qs((await request.aread()).decode())
            self.ranges.append(body["query"][0] if "query" in body else request.url.params["query"])
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_sparklines_read_the_recorded_series_once_the_source_has_had_them_over_the_window(recorded_lab: Lab) -> None:
    """A window the recording rules cover reads their series (and draws what the raw join draws);
    one reaching back before they ran keeps the raw join."""
    siblings = [d for d in load_detectors() if d.id in ("container-cpu-outlier", "pod-egress-outlier")]
    transport = Asked()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    settings = load_settings(None, recorded_lab.url, "lab")
    settings = replace(settings, sources=tuple(replace(s, timeout=120.0) for s in settings.sources))

    async def run() -> None:
        async with PromClient.from_url(recorded_lab.url, name="lab") as client:
            deadline = time.monotonic() + 120
            while not await recorded_present(client, time.time() - 90):  # the rules ran 90 s ago already
                assert time.monotonic() < deadline, "the recording rules never produced a series"
                await asyncio.sleep(2)
            at = time.time() - 10
            backend = LiveBackend(settings, detectors=siblings, clients=clients)
            try:
                for det in siblings:
                    transport.ranges.clear()
                    history = await backend.history("lab", det.id, at, 60.0)
                    assert transport.ranges and all("promsoc:" in q and "kube_replicaset_owner" not in q
                                                    for q in transport.ranges), transport.ranges  # fmt: skip
                    plan = sparkline_plan(det)  # the raw join's line at the same steps
                    step = sparkline_step(plan, steps_for(60.0))
                    raw = await client.query_range(plan.signal, *grid(at - 60.0, at, step), step)
                    assert history.points and len(raw.series) == 1
                    assert [t for t, _ in history.points] == [t for t, _ in raw.series[0].points]
                    for (_, got), (_, want) in zip(history.points, raw.series[0].points, strict=True):
                        assert got == pytest.approx(want, rel=0.05), det.id  # the rule ran up to 5 s earlier
                    transport.ranges.clear()
                    await backend.history("lab", det.id, at, 7 * 86400.0)  # back before the rules existed
                    assert transport.ranges and all("kube_replicaset_owner" in q for q in transport.ranges)
            finally:
                await backend.aclose()


def backfill_band_signal(lab: Lab, blocks: tuple[recording.Recorded, ...]) -> float:
    """The time band's recorded signal backfilled over the last 90 minutes, as a Prometheus that
    has run the rules that long has it; the moment it begins. Not earlier: the seasonal band's
    reach (2 h) must stay before it, whatever the time of day (promtool cuts 2 h blocks)."""
    signal = next(b for b in blocks if b.record.endswith(":signal"))
    now = time.time()
    lab.backfill_rules(yaml.safe_dump(recording.recording_rules([signal])), now - 90 * 60, now - 30)
    return now - 90 * 60


async def band_readable(client: PromClient, blocks: tuple[recording.Recorded, ...]) -> None:
    deadline = time.monotonic() + 120  # Prometheus loads new blocks once a minute
    while len((await recorded_state(client, time.time() - 10, blocks)).readable) < len(blocks):
        assert time.monotonic() < deadline, "the backfilled signal never made the band readable"
        await asyncio.sleep(2)


def test_a_band_recorded_long_enough_is_read_and_agrees_with_the_raw_band(banded_lab: tuple[Lab, float]) -> None:
    """Once the time band's recorded signal is old (backfilled over the last 90 minutes, as a
    Prometheus that has run the rules that long has it), the detector reads its signal, mean and
    stddev recorded, and they follow the raw band."""
    recorded_lab, began = banded_lab
    detectors = load_detectors()
    det = next(d for d in detectors if d.id == BAND)
    blocks = recorded_blocks([det])

    async def run() -> None:
        async with PromClient.from_url(recorded_lab.url, name="lab") as client:
            await band_readable(client, blocks)
            signal = blocks[1].record  # recorded from the moment asked, not from promtool's block boundary
            assert (await client.query(f"count({signal})", began + 60)).samples
            assert not (await client.query(f"count({signal})", began - 60)).samples
            await asyncio.sleep(10)  # the band's terms evaluated again (every 5 s), over the whole past
            at = time.time() - 2
            for term, raw_term in zip(blocks[2:], det.band.terms if det.band else (), strict=True):
                stamp = (await client.query(f"max(timestamp({term.record}))", at)).samples[0].value
                raw = answers(await client.query(raw_term, stamp))
                read_back = answers(await client.query(term.reads, stamp))
                assert raw and raw.keys() == read_back.keys(), term.record
                for key, value in raw.items():  # each step reads the signal up to one rule interval
                    # earlier (in one run: means of up to 93 MB off by 0.03 bytes, stddevs by 0.05)
                    assert read_back[key] == pytest.approx(value, rel=0.01, abs=0.5), (term.record, key)
            read = await evaluate(detectors, client, "lab", at)
            raw_results = await evaluate(detectors, client, "lab", at, recorded=False)
            mine, theirs = (next(r for r in rs if r.detector == det.id) for rs in (read, raw_results))
            assert mine.recorded and not theirs.recorded
            assert (mine.status, mine.findings) == (theirs.status, theirs.findings)

    asyncio.run(run())


class RawBackend(LiveBackend):
    """The console's backend as on a source without the rules: every chart query raw."""

    async def _recorded_since(self, source: str, since: float) -> tuple[recording.Recorded, ...]:
        return ()


def close(got: list[tuple[float, float]], want: list[tuple[float, float]], what: str) -> None:
    assert got and [t for t, _ in got] == [t for t, _ in want], what
    for (_, value), (_, raw) in zip(got, want, strict=True):  # the rule ran up to 5 s before each step
        assert value == pytest.approx(raw, rel=0.02, abs=0.5), what


def test_charts_read_the_recorded_bands_and_draw_what_the_raw_queries_draw(
    banded_lab: tuple[Lab, float], lab: Lab
) -> None:
    """Where the time band's signal is old enough (`banded_lab`), its chart reads the signal,
    the band's mean and stddev and the moments it fired recorded, and the sibling charts their
    recorded signal; the context bands, whose past reaches back before the rules, stay raw; the
    recorded chart equals the raw one within a rule interval. A window back before the rules, and
    a source without them, draw from the raw queries only."""
    recorded_lab, _ = banded_lab
    by_id = {d.id: d for d in load_detectors()}
    chosen = [by_id[name] for name in (BAND, "container-cpu-outlier")]
    transport = Asked()

    def settings_of(url: str) -> Settings:
        settings = load_settings(None, url, "lab")
        return replace(settings, sources=tuple(replace(s, timeout=120.0) for s in settings.sources))

    async def run() -> None:
        recorded = LiveBackend(settings_of(recorded_lab.url), chosen, lambda s: PromClient(s, transport=transport))
        raw = RawBackend(settings_of(recorded_lab.url), chosen)
        plain = LiveBackend(settings_of(lab.url), chosen, lambda s: PromClient(s, transport=transport))
        try:
            async with PromClient.from_url(recorded_lab.url, name="lab") as client:
                band = recorded_blocks(chosen[:1])
                await band_readable(client, band)
                deadline = time.monotonic() + 180
                mean = next(b.record for b in band if b.record.endswith(":band_mean")) + " offset 75s"
                while not await recorded_present(client, time.time() - 90) or not (await client.query(mean)).samples:
                    assert time.monotonic() < deadline, "the recording rules never produced a series"
                    await asyncio.sleep(2)
                at = time.time() - 10
                for det in chosen:
                    assert det.signal is not None
                    some = (await client.query(f"topk(1, {det.signal})", at)).samples
                    labels = dict(some[0].labels)
                    transport.ranges.clear()
                    got = await recorded.chart("lab", det.id, labels, at, 60.0)
                    want = await raw.chart("lab", det.id, labels, at, 60.0)
                    plan = chart_plan(det, labels)
                    asked = set(transport.ranges)
                    assert {q for q in asked if "promsoc:" in q} and plan.signal not in asked, det.id
                    assert {b.upper for b in plan.extra} <= asked, det.id  # their past is older than the rules
                    close(got.points, want.points, det.id)
                    assert [b.name for b in got.bands] == [b.name for b in want.bands], det.id
                    for mine, theirs in zip(got.bands, want.bands, strict=True):
                        close(mine.upper, theirs.upper, f"{det.id} {mine.name}")
                        if theirs.lower:
                            close(mine.lower, theirs.lower, f"{det.id} {mine.name}")
                    assert got.crossed_at == want.crossed_at, det.id
                # a window reaching back before the rules ran (the lab's are minutes old): raw
                transport.ranges.clear()
                await recorded.chart("lab", chosen[1].id, labels, at, 3600.0)
                assert transport.ranges and not [q for q in transport.ranges if "promsoc:" in q]
            for det in chosen:  # a source without the rules
                async with PromClient.from_url(lab.url, name="lab") as client:
                    labels = dict((await client.query(f"topk(1, {det.signal})", time.time())).samples[0].labels)
                transport.ranges.clear()
                await plain.chart("lab", det.id, labels, time.time(), 60.0)
                plan = chart_plan(det, labels)
                assert set(transport.ranges) == {plan.signal, plan.fired, *(  # no threshold here
                    q for b in (plan.own, *plan.extra) if b is not None for q in (b.upper, b.lower) if q
                )}, det.id  # fmt: skip
        finally:
            for backend in (recorded, raw, plain):
                await backend.aclose()

    asyncio.run(run())
