"""The client's API calls, selector scoping, params, POST and the concurrency cap, for real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from promsoc.lab.launcher import PrometheusServer
from promsoc.prom import BadQuery, PromClient, Sources, Unreachable
from promsoc.prom.client import POST_OVER
from promsoc.prom.settings import Source
from tests.integration.client_support import ProxyState, proxy, self_scraping_prometheus

JOB = "promsoc-lab"


@pytest.fixture(scope="module")
def prom() -> Iterator[PrometheusServer]:
    yield self_scraping_prometheus()


async def test_instant_vector_and_scalar(prom: PrometheusServer) -> None:
    async with PromClient(Source("p", prom.url)) as client:
        vector = await client.query("up")
        assert vector.result_type == "vector"
        assert [s.labels["job"] for s in vector.samples] == [JOB]
        assert vector.samples[0].value == 1.0
        scalar = await client.query("scalar(up) * 3", at=time.time())
        assert scalar.result_type == "scalar" and scalar.samples[0].value == 3.0
        empty = await client.query('up{job="nothing"}')
        assert empty.samples == [] and empty.warnings == []


async def test_range_series_labels_values_buildinfo(prom: PrometheusServer) -> None:
    now = time.time()
    async with PromClient(Source("p", prom.url)) as client:
        ranged = await client.query_range("up", now - 60, now, 1)
        assert len(ranged.series) == 1 and ranged.series[0].points
        assert all(value == 1.0 for _, value in ranged.series[0].points)
        series = await client.series("up", now - 300, now)
        assert series and series[0]["__name__"] == "up"
        assert "job" in await client.labels()
        assert await client.label_values("job") == [JOB]
        assert (await client.buildinfo())["version"]


async def test_selector_scopes_every_call(prom: PrometheusServer) -> None:
    inside = Source("in", prom.url, selector=f'job="{JOB}"')
    outside = Source("out", prom.url, selector='job="other-cluster"')
    query = (
        "sum by (job) (rate(prometheus_http_requests_total[1m])) or up * on (job) group_left () up"
    )
    async with Sources([inside, outside]) as pool:
        results = await pool.run(lambda c: c.query(query))
        jobs = await pool.run(lambda c: c.label_values("job"))
        names = await pool.run(lambda c: c.labels())
        series = await pool.run(lambda c: c.series("up"))
    assert results["in"].samples and not results["out"].samples  # type: ignore[union-attr]
    assert jobs == {"in": [JOB], "out": []}
    assert "job" in names["in"] and names["out"] == []  # type: ignore[operator]
    assert len(series["in"]) == 1 and series["out"] == []  # type: ignore[arg-type]


TRICKY = [
    "up",
    'up{job=~".+"}',
    "sum by (job) (rate(prometheus_http_requests_total[5m] offset 1m))",
    "sum(rate(prometheus_http_requests_total[5m])) without (handler) > bool 0",
    'label_replace(up, "dst", "$1", "instance", "(.*):.*")',
    "max_over_time(up[10m:1m])",
    "up * on (instance) group_left () up and on (job) up",
    '{__name__="up"}',
    'count_values("v", up)',
    "topk(3, sum by (handler) (prometheus_http_requests_total)) # a comment with up{x}",
    "up @ end()",
    "histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[5m])))",
    "absent(nothing_here)",
    "vector(1)",
]


@pytest.mark.parametrize("query", TRICKY)
async def test_scoped_queries_parse_on_real_prometheus(prom: PrometheusServer, query: str) -> None:
    async with PromClient(Source("p", prom.url, selector=f'job="{JOB}",instance!=""')) as client:
        scoped = client.scope(query)
        assert scoped != query or "up" not in query
        await client.query(query)  # a BadQuery here would mean the injector broke the PromQL


async def test_long_query_is_posted_and_params_forwarded(prom: PrometheusServer) -> None:
    state = ProxyState(prom.url)
    long_query = " or ".join(f'up{{instance!="host-{i}"}}' for i in range(80))
    assert len(long_query) > POST_OVER
    with proxy(state) as url:
        source = Source("p", url, params={"partial_response": "true", "dedup": "false"})
        async with PromClient(source) as client:
            assert (await client.query("up")).samples
            assert (await client.query(long_query)).samples
    assert state.methods == ["GET", "POST"]
    sent = parse_qs(urlsplit(state.paths[0]).query)
    assert sent["partial_response"] == ["true"] and sent["dedup"] == ["false"]


async def test_concurrency_cap_is_respected(prom: PrometheusServer) -> None:
    state = ProxyState(prom.url, delay=0.2)
    with proxy(state) as url:
        async with PromClient(Source("p", url, max_concurrency=3)) as client:
            started = time.monotonic()
            await asyncio.gather(*(client.query("up") for _ in range(9)))
            elapsed = time.monotonic() - started
    assert state.max_in_flight == 3
    assert elapsed >= 0.55  # three waves of 0.2 s


async def test_bad_promql_is_bad_query_with_prometheus_text(prom: PrometheusServer) -> None:
    state = ProxyState(prom.url)
    with proxy(state) as url:
        async with PromClient(Source("p", url)) as client:
            with pytest.raises(BadQuery) as caught:
                await client.query("sum(rate(up[5m])")
    assert "parse error" in str(caught.value)
    assert str(caught.value).startswith("bad query: ")
    assert caught.value.status == 400
    assert len(state.methods) == 1  # never retried


async def test_many_sources_keep_results_apart(prom: PrometheusServer) -> None:
    from promsoc.lab.launcher import free_port

    dead = Source("dead", f"http://127.0.0.1:{free_port()}")
    good = Source("good", prom.url)
    async with Sources([good, dead], factory=lambda s: PromClient(s, retries=0)) as pool:
        assert pool.names == ["good", "dead"]
        results = await pool.run(lambda c: c.query("up"))
    assert results["good"].samples  # type: ignore[union-attr]
    assert isinstance(results["dead"], Unreachable)
