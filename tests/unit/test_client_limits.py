"""Answers a real Prometheus does not send: endless bodies, gzip bombs, redirects with secrets.

Memory is measured with tracemalloc: the client must hold about `max_response_bytes`, not the answer.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from promsoc.config import Source
from promsoc.prom import PromClient, ResponseTooLarge, ServerError
from promsoc.prom.errors import MalformedResponse

MiB = 1 << 20
PREFIX = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"'


async def no_sleep(_delay: float) -> None:
    return None


def client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> PromClient:
    source = Source("hostile", "http://prom.example:9090")
    return PromClient(source, transport=httpx.MockTransport(handler), sleep=no_sleep, **kwargs)  # type: ignore[arg-type]


async def endless(total: int, chunk: bytes) -> AsyncIterator[bytes]:
    """`total` bytes of a JSON-looking body, made one chunk at a time (never all in memory)."""
    yield PREFIX
    sent = len(PREFIX)
    while sent < total:
        yield chunk
        sent += len(chunk)


def bomb(decompressed: int) -> bytes:
    """A gzip body that inflates to `decompressed` bytes (about 1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(PREFIX)]
    block = b"a" * MiB
    for _ in range(decompressed // MiB):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


async def peak_of(prom: PromClient) -> tuple[BaseException, int]:
    tracemalloc.start()
    try:
        try:
            await prom.query("up")
        except Exception as exc:
            error: BaseException = exc
        else:
            raise AssertionError("the oversize answer was accepted")
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_a_200_mb_answer_is_cut_at_the_cap_and_memory_stays_bounded() -> None:
    served: list[int] = []

    def handler(_request: httpx.Request) -> httpx.Response:
        served.append(1)
        return httpx.Response(200, content=endless(200 * 1000 * 1000, b"x" * 65536))

    async with client(handler, max_response_bytes=4 * MiB) as prom:
        error, peak = await peak_of(prom)
    assert isinstance(error, ResponseTooLarge), error
    assert str(error) == "response too large: the answer from prom.example:9090 is over 4 MiB " \
        "(the source's max_response_bytes)"
    assert error.kind == "response_too_large"
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB while refusing a 200 MB answer"
    assert served == [1]  # an oversize answer is not retried


async def test_a_gzip_bomb_is_counted_decompressed() -> None:
    body = bomb(300 * MiB)
    assert len(body) < 1 * MiB  # small on the wire

    def handler(_request: httpx.Request) -> httpx.Response:
        async def wire() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=wire())

    async with client(handler, max_response_bytes=8 * MiB) as prom:
        error, peak = await peak_of(prom)
    assert isinstance(error, ResponseTooLarge), error
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB while refusing a gzip bomb"


async def test_a_declared_content_length_over_the_cap_is_refused_before_reading() -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""  # pragma: no cover

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(100 * MiB)}, content=never())

    async with client(handler, max_response_bytes=MiB) as prom:
        with pytest.raises(ResponseTooLarge):
            await prom.query("up")


async def test_gzip_under_the_cap_is_read_and_asked_for() -> None:
    payload = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"pod": f"p{i}"}, "value": [1.0, "2"]} for i in range(2000)]}}  # fmt: skip
    packed = gzip.compress(json.dumps(payload).encode())
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))

        async def wire() -> AsyncIterator[bytes]:
            for start in range(0, len(packed), 1000):
                yield packed[start : start + 1000]

        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=wire())

    async with client(handler) as prom:
        assert prom.max_response_bytes == 64 * MiB  # the default
        result = await prom.query("up")
    assert len(result.samples) == 2000 and result.samples[-1].labels == {"pod": "p1999"}
    assert seen == ["gzip"]


@pytest.mark.parametrize(
    ("encoding", "body", "words"),
    [
        ("br", b"\x00\x01", "unsupported Content-Encoding"),
        ("gzip", b"not gzip at all", "corrupt compressed body"),
    ],
)
async def test_bad_encodings_are_malformed(encoding: str, body: bytes, words: str) -> None:
    async def wire() -> AsyncIterator[bytes]:
        yield body

    async with client(lambda _r: httpx.Response(200, headers={"Content-Encoding": encoding}, content=wire())) as prom:
        with pytest.raises(MalformedResponse) as caught:
            await prom.query("up")
    assert words in str(caught.value)


async def test_a_redirect_says_where_it_pointed_without_its_secrets() -> None:
    location = "https://admin:pa55word-secret@other.example:8443/prom/?token=abc123secret#frag"

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    async with client(handler) as prom:
        with pytest.raises(ServerError) as caught:
            await prom.query("up")
    text = str(caught.value)
    assert "HTTP 302" in text and "https://other.example:8443/prom/" in text
    assert "does not follow redirects" in text
    for secret in ("admin", "pa55word", "abc123secret", "token", "frag"):
        assert secret not in text


async def test_a_relative_redirect_is_resolved_and_a_missing_one_said() -> None:
    answers = iter([httpx.Response(301, headers={"Location": "/other/path?x=1"}), httpx.Response(308)])

    async with client(lambda _r: next(answers)) as prom:
        with pytest.raises(ServerError) as first:
            await prom.query("up")
        with pytest.raises(ServerError) as second:
            await prom.query("up")
    assert "redirects to http://prom.example:9090/other/path;" in str(first.value)
    assert "no usable Location" in str(second.value)


def test_the_cap_is_a_per_source_setting_with_bounds(tmp_path: Path) -> None:
    from promsoc.config import ConfigError, load_file

    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - name: small\n    url: http://127.0.0.1:9\n    max_response_bytes: 1048576\n")
    source = load_file(config).sources[0]
    assert source.max_response_bytes == MiB
    assert PromClient(source).max_response_bytes == MiB
    config.write_text("sources:\n  - name: small\n    url: http://127.0.0.1:9\n    max_response_bytes: 99999999999\n")
    with pytest.raises(ConfigError) as caught:
        load_file(config)
    assert "config.yaml:4" in str(caught.value) and "max_response_bytes" in str(caught.value)
