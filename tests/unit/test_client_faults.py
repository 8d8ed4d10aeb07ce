"""Bodies a real Prometheus will not send (via httpx.MockTransport), retry rules, and secrecy."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from promsoc.config import Settings
from promsoc.prom import (
    AuthRefused,
    BadQuery,
    MalformedResponse,
    PromClient,
    PromError,
    ServerError,
    Unreachable,
)
from promsoc.prom.errors import Redactor
from promsoc.prom.settings import BasicAuth, BearerAuth, Secret, Source

TOKEN = "s3cr3t-token-value-42"
PASSWORD = "hunter2-but-longer"

Handler = Callable[[httpx.Request], httpx.Response]


class Calls:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


async def no_sleep(_delay: float) -> None:
    return None


def client(handler: Handler, source: Source | None = None, **kwargs: object) -> PromClient:
    source = source or Source("mock", "http://prom.example:9090")
    return PromClient(source, transport=httpx.MockTransport(handler), sleep=no_sleep, **kwargs)  # type: ignore[arg-type]


def vector(*values: float, warnings: list[str] | None = None) -> httpx.Response:
    body: dict[str, object] = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"i": str(i)}, "value": [1700000000.5, str(v)]}
                for i, v in enumerate(values)
            ],
        },
    }
    if warnings:
        body["warnings"] = warnings
    return httpx.Response(200, json=body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{}',  # truncated
        b"<html>502 Bad Gateway</html>",  # a proxy's page with status 200
        b"",
        b'{"data": 1}',  # no envelope
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":"x"}]}}',
        b'{"status":"success","data":{"resultType":"teapot","result":[]}}',
        b'{"status":"success"}',
    ],
)
async def test_malformed_bodies(body: bytes) -> None:
    async with client(lambda _r: httpx.Response(200, content=body)) as prom:
        with pytest.raises(MalformedResponse) as caught:
            await prom.query("up")
    text = str(caught.value)
    assert text.startswith("malformed response: ") and "\n" not in text
    assert "prom.example:9090" in text


async def test_values_warnings_and_special_floats() -> None:
    async with client(lambda _r: vector(1.5, float("inf"), warnings=["partial response"])) as prom:
        result = await prom.query("up")
    assert [s.value for s in result.samples] == [1.5, float("inf")]
    assert result.samples[0].labels == {"i": "0"} and result.samples[0].timestamp == 1700000000.5
    assert result.warnings == ["partial response"]


async def test_range_warnings_passed_up() -> None:
    body = {
        "status": "success",
        "warnings": ["deduplication off"],
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"a": "b"}, "values": [[1, "2"], [2, "NaN"]]}],
        },
    }
    async with client(lambda _r: httpx.Response(200, json=body)) as prom:
        result = await prom.query_range("up", 0, 2, "1s")
    assert result.warnings == ["deduplication off"]
    assert result.series[0].points[0] == (1.0, 2.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500])
async def test_4xx_and_500_are_never_retried(status: int) -> None:
    calls = Calls(lambda _r: httpx.Response(status, json={"status": "error", "error": "nope"}))
    async with client(calls, retries=3) as prom:
        with pytest.raises(PromError):
            await prom.query("up")
    assert len(calls.requests) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_statuses_are_retried(status: int) -> None:
    calls = Calls(lambda r: httpx.Response(status) if len(calls.requests) < 3 else vector(1))
    async with client(calls, retries=3) as prom:
        assert (await prom.query("up")).samples[0].value == 1
    assert len(calls.requests) == 3


async def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    source = Source("mock", "http://prom.example:9090")
    transport = httpx.MockTransport(lambda _r: httpx.Response(503))
    async with PromClient(
        source, transport=transport, retries=4, backoff=0.1, sleep=record
    ) as prom:
        with pytest.raises(ServerError):
            await prom.query("up")
    assert len(delays) == 4
    for attempt, delay in enumerate(delays):
        assert 0.1 * 2**attempt * 0.5 <= delay <= 0.1 * 2**attempt
    delays.clear()
    transport = httpx.MockTransport(lambda _r: httpx.Response(503, headers={"Retry-After": "2"}))
    async with PromClient(
        source, transport=transport, retries=1, backoff=0.1, sleep=record
    ) as prom:
        with pytest.raises(ServerError):
            await prom.query("up")
    assert delays == [2.0]


@pytest.mark.parametrize(
    ("status", "error_type", "kind"),
    [(400, "bad_data", BadQuery), (422, "execution", BadQuery), (503, "timeout", ServerError)],
)
async def test_prometheus_error_text_is_kept(
    status: int, error_type: str, kind: type[PromError]
) -> None:
    body = {
        "status": "error",
        "errorType": error_type,
        "error": "1:6: parse error: unexpected <EOF>",
    }
    async with client(lambda _r: httpx.Response(status, json=body), retries=0) as prom:
        with pytest.raises(kind) as caught:
            await prom.query("sum(")
    assert "1:6: parse error: unexpected <EOF>" in str(caught.value)


def secret_source() -> Source:
    return Source(
        "secret",
        "https://prom.example",
        BearerAuth(Secret(TOKEN)),
        headers={"X-Api-Key": "key-material-9876", "X-Scope-OrgID": "tenant"},
    )


def echo_secrets(request: httpx.Request) -> httpx.Response:
    """A badly behaved proxy that echoes the request's credentials in its error body."""
    echoed = f"denied for {request.headers['Authorization']} key={request.headers['X-Api-Key']}"
    return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": echoed})


async def test_secrets_never_reach_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    source = secret_source()
    calls = Calls(echo_secrets)
    async with client(calls, source) as prom:
        with pytest.raises(BadQuery) as caught:
            await prom.query("up")
        texts = [str(caught.value), repr(caught.value), repr(prom), repr(source), str(source.auth)]
    assert calls.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"  # it was sent...
    texts.append(repr(Settings(sources=(source,))))
    texts.extend(record.getMessage() for record in caplog.records)
    for text in texts:  # ...but never shown
        assert TOKEN not in text
        assert "key-material-9876" not in text
    assert "***" in str(caught.value)


async def test_basic_password_and_url_userinfo_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    source = Source(
        "b", "http://alice:" + PASSWORD + "@prom.example:9090", BasicAuth("bob", Secret(PASSWORD))
    )
    async with client(
        lambda _r: httpx.Response(503, text=f"upstream said {PASSWORD}"), source
    ) as prom:
        with pytest.raises(ServerError) as caught:
            await prom.query("up")
        texts = [str(caught.value), repr(caught.value), repr(prom), repr(source)]
    texts.extend(record.getMessage() for record in caplog.records)
    assert any("retry" in text for text in texts)
    for text in texts:
        assert PASSWORD not in text


async def test_unreadable_token_file_is_auth_refused(tmp_path: object) -> None:
    source = Source("f", "http://prom.example", BearerAuth(token_file=tmp_path / "missing"))  # type: ignore[operator]
    calls = Calls(lambda _r: vector(1))
    async with client(calls, source) as prom:
        with pytest.raises(AuthRefused) as caught:
            await prom.query("up")
    assert "cannot read credentials file" in str(caught.value)
    assert calls.requests == []


async def test_vanished_tls_file_fails_each_call_not_the_constructor(tmp_path: object) -> None:
    from promsoc.prom.settings import TLS

    source = Source("t", "https://prom.example", tls=TLS(ca_file=tmp_path / "gone.pem"))  # type: ignore[operator]
    async with client(lambda _r: vector(1), source) as prom:
        with pytest.raises(Unreachable) as caught:
            await prom.query("up")
    assert "TLS files of t unusable" in str(caught.value)


async def test_transport_errors_become_unreachable() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    async with client(broken) as prom:
        with pytest.raises(Unreachable):
            await prom.labels()


def test_redactor_scrubs_known_values_userinfo_and_auth_headers() -> None:
    redact = Redactor([TOKEN])
    text = redact(f"GET https://u:p4ss@h/x Authorization: Bearer abcdefghijkl token={TOKEN}")
    assert TOKEN not in text and "p4ss" not in text and "abcdefghijkl" not in text
    assert json.dumps(text)  # still a plain string
