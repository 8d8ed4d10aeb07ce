"""The client's form encoding is urllib's, byte for byte, and its pools never exceed the cap."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlencode

import httpx

from promsoc.detectors.packs import builtin_detectors
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.prom.transport import form_encode


def test_form_encode_matches_urlencode_on_detector_queries_and_odd_text() -> None:
    rnd = random.Random(7)
    texts = [det.query for det in builtin_detectors()]
    texts += ["", " ", "a+b&c=d", "é€😀", "%41", "~._-", "\x00\x7f"]
    for _ in range(500):
        texts.append("".join(chr(rnd.randrange(1, 0xD7FF)) for _ in range(rnd.randrange(0, 30))))
    for text in texts:
        params = [("query", text), ("time", "1795827600.5"), ("x y", text[::-1])]
        assert form_encode(params) == urlencode(params)


def test_concurrent_requests_spread_over_pools_within_the_cap() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": []}})

    async def run() -> None:
        source = Source("s", "http://prom.example:9090", max_concurrency=6)
        async with PromClient(source, transport=httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.query("up") for _ in range(30)))
            assert client._http._in_flight == [0] * len(client._http._in_flight)

    asyncio.run(run())
    assert peak == 6
