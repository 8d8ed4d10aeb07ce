"""Faults from real loopback servers: refused, silent, 503 then success, 404, truncated body."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from promsoc.lab.launcher import PrometheusServer, free_port
from promsoc.prom import MalformedResponse, PromClient, ServerError, Timeout, Unreachable
from promsoc.prom.settings import Source
from tests.integration.client_support import ProxyState, proxy, raw_server, self_scraping_prometheus


class Sleeps:
    """Records backoff delays instead of sleeping them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture(scope="module")
def prom() -> Iterator[PrometheusServer]:
    yield self_scraping_prometheus()


async def test_connection_refused_is_unreachable_after_retries() -> None:
    sleeps = Sleeps()
    source = Source("gone", f"http://127.0.0.1:{free_port()}")
    async with PromClient(source, retries=2, backoff=0.1, sleep=sleeps) as client:
        with pytest.raises(Unreachable) as caught:
            await client.query("up")
    assert caught.value.kind == "unreachable"
    assert "connection refused" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert len(sleeps.delays) == 2
    assert 0.05 <= sleeps.delays[0] <= 0.1 and 0.1 <= sleeps.delays[1] <= 0.2


async def test_silent_server_times_out_within_bound_and_is_not_retried() -> None:
    with raw_server(None) as (url, accepted):
        async with PromClient(Source("silent", url, timeout=0.5), retries=2) as client:
            started = time.monotonic()
            with pytest.raises(Timeout) as caught:
                await client.query("up")
            elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.0
    assert len(accepted) == 1
    assert str(caught.value).startswith("timeout: no answer from 127.0.0.1:")
    assert "within 0.5s" in str(caught.value)


async def test_503_then_success_is_retried(prom: PrometheusServer) -> None:
    sleeps = Sleeps()
    state = ProxyState(prom.url, fail_first=2, fail_status=503)
    with proxy(state) as url:
        async with PromClient(
            Source("flaky", url), retries=3, backoff=0.05, sleep=sleeps
        ) as client:
            result = await client.query("up")
    assert result.samples and result.samples[0].value == 1.0
    assert len(state.methods) == 3
    assert len(sleeps.delays) == 2 and sleeps.delays[1] > sleeps.delays[0] / 2


@pytest.mark.parametrize("status", [502, 504])
async def test_other_gateway_errors_are_retried_then_server_error(
    prom: PrometheusServer, status: int
) -> None:
    state = ProxyState(prom.url, fail_first=10, fail_status=status)
    with proxy(state) as url:
        async with PromClient(Source("down", url), retries=2, sleep=Sleeps()) as client:
            with pytest.raises(ServerError) as caught:
                await client.query("up")
    assert len(state.methods) == 3
    assert f"HTTP {status}" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert caught.value.status == status


async def test_wrong_path_404_is_not_retried(prom: PrometheusServer) -> None:
    state = ProxyState(prom.url)
    with proxy(state) as url:
        async with PromClient(Source("typo", url + "/prometheus"), sleep=Sleeps()) as client:
            with pytest.raises(ServerError) as caught:
                await client.query("up")
    assert len(state.methods) == 1
    assert "HTTP 404" in str(caught.value) and "Prometheus root" in str(caught.value)


async def test_truncated_body_from_real_socket_is_malformed() -> None:
    body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{}'
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" + body
    )
    with raw_server(reply) as (url, _):
        async with PromClient(Source("cut", url), sleep=Sleeps()) as client:
            with pytest.raises(MalformedResponse) as caught:
                await client.query("up")
    assert caught.value.kind == "malformed_response"
    assert "truncated" in str(caught.value)


async def test_connection_closed_without_answer_is_unreachable() -> None:
    with raw_server(b"") as (url, accepted):
        async with PromClient(Source("rude", url), sleep=Sleeps()) as client:
            with pytest.raises(Unreachable) as caught:
                await client.query("up")
    assert len(accepted) == 1
    assert "dropped the connection" in str(caught.value)


async def test_gzip_bomb_from_real_socket_is_too_large_with_bounded_memory() -> None:
    import tracemalloc
    import zlib

    from promsoc.prom import ResponseTooLarge

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * (1 << 20)
    body = b"".join([*(packer.compress(block) for _ in range(400)), packer.flush()])  # 400 MiB inflated
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
    with raw_server(head.encode() + body) as (url, _):
        async with PromClient(Source("bomb", url), sleep=Sleeps()) as client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge) as caught:
                    await client.query("up")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert "over 64 MiB" in str(caught.value)
    assert peak < 100 * (1 << 20), f"peak {peak / (1 << 20):.0f} MiB for a 400 MiB bomb"
