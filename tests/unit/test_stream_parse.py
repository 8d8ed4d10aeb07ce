"""Big answers are read one series at a time (promsoc.prom.stream) and give exactly what reading
them whole gives: the same results, the same errors; `max_series` keeps the first series and
counts the rest. The equivalence is fuzzed with the answer parser's own strategies."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promsoc.config import Source
from promsoc.prom import PromClient
from promsoc.prom.errors import PromError
from promsoc.prom.parse import instant_result, instant_sample, range_result, range_series, success_data
from promsoc.prom.range_cache import RangeCache
from promsoc.prom.stream import Read, Unusual, read_envelope
from promsoc.prom.types import InstantResult, RangeResult
from tests.integration.hostile_server import answering, matrix, vector
from tests.unit.test_fuzz import FUZZ, REDACT, datas, encode, envelopes, json_values, malformed, response

successes = st.fixed_dictionaries({"status": st.just("success"), "data": datas}, optional={"warnings": json_values})


def parsed(body: bytes, kind: str, *, stream: bool, limit: int | None = None) -> object:
    """What the client makes of `body` (an instant or range answer): its result or its error."""
    convert = instant_sample if kind == "instant" else range_series
    try:
        with patch("promsoc.prom.parse.STREAM_OVER", 0 if stream else 1 << 40):
            data, warnings = success_data(response(), body, REDACT, "prom.example:9090", "t", convert=convert,
                                          limit=limit)  # fmt: skip
        if kind == "instant":
            return instant_result(data, warnings, malformed, limit)
        return range_result(data, warnings, malformed, limit)
    except PromError as exc:
        return (type(exc).__name__, str(exc))


def same(a: object, b: object) -> bool:
    """Equal, NaN included (a NaN value is the same answer twice)."""
    return json.dumps(repr(a)) == json.dumps(repr(b))


@FUZZ
@given(
    st.one_of(envelopes, successes).map(encode),
    st.sampled_from(["instant", "range"]),
    st.one_of(st.none(), st.integers(0, 3)),
)
def test_reading_one_series_at_a_time_gives_what_reading_whole_gives(
    body: bytes, kind: str, limit: int | None
) -> None:
    assert same(parsed(body, kind, stream=True, limit=limit), parsed(body, kind, stream=False, limit=limit))


@pytest.mark.parametrize("body", [
    b'{"status":"success","data":{"resultType":"vector","result":[]}} x',  # extra data
    b'{"status":"success","status":"error","data":{}}',  # a repeated key
    b'\xef\xbb\xbf{"status":"success","data":{}}',  # a BOM
    b'["status"]',
    b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{}} {}]}}',
    b'{"status":"success","data":{"resultType":"vector","result":[1,',
    b"\xff\xfe{}",
])  # fmt: skip
def test_what_the_reader_does_not_walk_is_left_to_the_whole_parse(body: bytes) -> None:
    with pytest.raises(Unusual):
        read_envelope(body, instant_sample)
    assert same(parsed(body, "instant", stream=True), parsed(body, "instant", stream=False))


def test_past_the_cap_series_are_read_but_not_kept() -> None:
    body = vector(*(({"pod": f"p{i}"}, str(i)) for i in range(10)))
    envelope = read_envelope(body, instant_sample, limit=3)
    read = envelope["data"]["result"]
    assert isinstance(read, Read) and (len(read.items), read.total, read.omitted) == (3, 10, 7)
    for stream in (True, False):
        result = parsed(body, "instant", stream=stream, limit=3)
        assert isinstance(result, InstantResult)
        assert [s.labels["pod"] for s in result.samples] == ["p0", "p1", "p2"]
        assert result.omitted == 7
        assert result.warnings == ["the answer held 10 series; promsoc kept the first 3"]


def test_a_malformed_series_fails_only_a_successful_answer() -> None:
    bad = {"metric": {"pod": "a"}, "value": "not a point"}
    failed: dict[str, Any] = {"status": "error", "errorType": "execution", "error": "boom",
                              "data": {"resultType": "vector", "result": [bad]}}  # fmt: skip
    succeeded = {**failed, "status": "success"}
    assert parsed(encode(failed), "instant", stream=True) == ("BadQuery", "bad query: boom")
    error = parsed(encode(succeeded), "instant", stream=True)
    assert error == parsed(encode(succeeded), "instant", stream=False)
    assert isinstance(error, tuple) and error[0] == "MalformedResponse"


async def test_a_big_answer_over_a_real_socket_keeps_the_first_series_and_counts_the_rest() -> None:
    points = [(1764460800.0 + 15 * i, f"{i}.5") for i in range(240)]
    body = matrix(*(({"pod": f"pod-{i:04d}"}, points) for i in range(2000)))
    assert len(body) > 1 << 20  # read one series at a time
    with answering(vector(({"pod": "x"}, "1")), body) as url:
        async with PromClient(Source("big", url)) as prom:
            whole = await prom.query_range("x", 0, 1, 15)
            capped = await prom.query_range("x", 0, 1, 15, max_series=241)
            cache = RangeCache(prom)
            cached = await cache.query_range("x", 1764460800.0, 1764464385.0, 15.0, max_series=241)
    assert len(whole.series) == 2000 and whole.omitted == 0
    assert whole.series[5].points[:2] == [(1764460800.0, 0.5), (1764460815.0, 1.5)]
    assert isinstance(capped, RangeResult) and capped.series == whole.series[:241] and capped.omitted == 1759
    assert capped.warnings == ["the answer held 2,000 series; promsoc kept the first 241"]
    assert len(cached.series) == 241 and cached.omitted == 1759
