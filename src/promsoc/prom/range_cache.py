"""Range answers kept per query: a refresh asks Prometheus only for the steps since the last one.

A sparkline over the last hour refreshed every 30 s used to fetch 240 points per series each time
for two new ones. `RangeCache` puts every range on its step's grid (`start` and `end` multiples of
`step`, so successive refreshes share their points), keeps the points per series in a buffer
bounded by the window asked for, and on a refresh asks only from the first step that may still
change: a step is *settled* once it lies `overlap` seconds before the moment it was fetched, so
a scrape in flight then (its samples are stamped before they are stored), a rule evaluated late
or a sample arriving within the lookback of a step is fetched again; everything older is kept.
A full fetch happens when the window grows, the end moves back (the time cursor jumped) or the
gap since the last fetch exceeds the window. The same question twice (same query, same moment:
one refresh asking for a series it already asked for) is answered once, and a constant
`vector(<number>)` (a threshold line) is answered without asking.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from promsoc.prom.types import InstantResult, QueryClient, RangeResult, RangeSeries

OVERLAP = 120.0
"""Seconds before the fetch moment that are fetched again next time (late scrapes, slow rules)."""
CAPACITY = 256
"""Buffers kept at most (one per query and step); the least recently asked go first."""
_CONSTANT = re.compile(r"^\s*vector\(\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\)\s*$")

LabelKey = tuple[tuple[str, str], ...]
Key = tuple[str, float, int | None]
"""A buffer's query, step and series cap."""


class CappedClient(QueryClient, Protocol):
    """A client that can keep only the first `max_series` series of an answer (`PromClient`)."""

    async def query_range(
        self, promql: str, start: float, end: float, step: float | str, *, max_series: int | None = None
    ) -> RangeResult: ...


def grid(start: float, end: float, step: float) -> tuple[float, float]:
    """`start` rounded up and `end` rounded down to multiples of `step`: the steps asked for."""
    return math.ceil(start / step) * step, math.floor(end / step) * step


def constant(promql: str) -> float | None:
    """The number of a `vector(<number>)` query (a threshold line), else None."""
    found = _CONSTANT.match(promql)
    return float(found.group(1)) if found else None


@dataclass
class Counters:
    """What the cache saved: questions, requests sent, and full against incremental fetches."""

    asked: int = 0
    full: int = 0
    incremental: int = 0
    reused: int = 0  # answered from the buffer without a request
    constant: int = 0


@dataclass
class _Buffer:
    start: float
    end: float
    settled: float  # stamps at or before this do not change any more
    asked: tuple[float, float]
    points: dict[LabelKey, dict[float, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    omitted: int = 0  # series past the cap in the last answer


class RangeCache:
    """Incremental `query_range` for one source; see the module docstring for the rules."""

    def __init__(
        self,
        client: CappedClient,
        *,
        overlap: float = OVERLAP,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.overlap = overlap
        self.capacity = capacity
        self.clock = clock
        self.counters = Counters()
        self._buffers: OrderedDict[Key, _Buffer] = OrderedDict()
        self._locks: dict[Key, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._buffers)

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        """Instant queries go straight to the client (the cache is a `QueryClient` too)."""
        return await self.client.query(promql, at)

    async def query_range(
        self,
        promql: str,
        start: float,
        end: float,
        step: float | str,
        *,
        tip: bool = False,
        max_series: int | None = None,
        chunk: int | None = None,
    ) -> RangeResult:
        """The answer a full `query_range` on the step grid within [start, end] would give.

        `tip`: also the value at `end` itself when it falls between two steps (one small request
        more; a chart that must end exactly at the moment looked at, not up to a step before).
        `max_series`: keep only the first series of each answer (`PromClient.query_range`).
        `chunk`: at most that many steps per request, asked one after the other (a costly query
        over a long window then fits in the source's timeout; the steps are evaluated each on its
        own either way, so the answer is the same).
        """
        self.counters.asked += 1
        if isinstance(step, str):  # a duration like "30s": not on a grid this cache knows
            return await self.client.query_range(promql, start, end, step, max_series=max_series)
        step = float(step)
        first, last = grid(start, end, step)
        value = constant(promql)
        if value is not None:
            self.counters.constant += 1
            stamps = _stamps(first, last, step) + ([end] if tip and end > last else [])
            return RangeResult([RangeSeries({}, [(t, value) for t in stamps])] if stamps else [])
        key = (promql, step, max_series)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one request per query at a time: a second asker waits and reuses it
            answer = await self._answer(key, start, end, first, last, step, chunk)
        if not tip or end <= last:
            return answer
        return _with_tip(answer, await self.client.query_range(promql, end, end, step, max_series=max_series))

    async def _answer(
        self, key: Key, start: float, end: float, first: float, last: float, step: float, chunk: int | None = None
    ) -> RangeResult:
        buffer = self._buffers.get(key)
        if buffer is not None and buffer.asked == (start, end):
            self.counters.reused += 1
            self._buffers.move_to_end(key)
            return _result(buffer)
        now = self.clock()
        if buffer is None or first < buffer.start or last < buffer.end or first > buffer.end:
            buffer = await self._full(key, first, last, step, now, chunk)
        else:
            await self._extend(buffer, key, first, last, step, now, chunk)
        buffer.asked = (start, end)
        self._keep(key, buffer)
        # Built for each asker, not kept: 5,000 kept series of 240 points are millions of
        # references every full garbage collection walks (80 ms a collection, the keys waited);
        # the buffer's dicts of floats are not tracked by the collector at all.
        return _result(buffer)

    async def _fetch(self, key: Key, first: float, last: float, step: float, chunk: int | None) -> RangeResult:
        """One request, or one per `chunk` steps in turn, merged."""
        if chunk is None or (last - first) / step < chunk:
            return await self.client.query_range(key[0], first, last, step, max_series=key[2])
        series: dict[LabelKey, RangeSeries] = {}
        warnings: list[str] = []
        for start in _stamps(first, last, step)[::chunk]:
            end = min(last, start + step * (chunk - 1))
            part = await self.client.query_range(key[0], start, end, step, max_series=key[2])
            warnings.extend(part.warnings)
            for one in part.series:
                got = series.setdefault(tuple(sorted(one.labels.items())), RangeSeries(one.labels, []))
                got.points.extend(one.points)
        return RangeResult(list(series.values()), list(dict.fromkeys(warnings)))

    async def _full(
        self, key: Key, first: float, last: float, step: float, now: float, chunk: int | None = None
    ) -> _Buffer:
        self.counters.full += 1
        buffer = _Buffer(first, last, min(last, now - self.overlap), (0.0, 0.0))
        if first <= last:
            fetched = await self._fetch(key, first, last, step, chunk)
            _merge(buffer, fetched)
            buffer.warnings = list(fetched.warnings)
        return buffer

    async def _extend(
        self, buffer: _Buffer, key: Key, first: float, last: float, step: float, now: float, chunk: int | None = None
    ) -> None:
        since = max(first, math.floor(buffer.settled / step) * step + step)
        if since <= last:
            self.counters.incremental += 1
            fetched = await self._fetch(key, since, last, step, chunk)
            for points in buffer.points.values():
                for stamp in [t for t in points if t >= since]:
                    del points[stamp]
            _merge(buffer, fetched)
            buffer.warnings = list(dict.fromkeys([*buffer.warnings, *fetched.warnings]))
            buffer.settled = max(buffer.settled, min(last, now - self.overlap))
        else:
            self.counters.reused += 1
        for label_key, points in list(buffer.points.items()):
            for stamp in [t for t in points if t < first]:
                del points[stamp]
            if not points:
                del buffer.points[label_key]
        buffer.start, buffer.end = first, last

    def _keep(self, key: Key, buffer: _Buffer) -> None:
        self._buffers[key] = buffer
        self._buffers.move_to_end(key)
        while len(self._buffers) > self.capacity:
            oldest, _ = self._buffers.popitem(last=False)
            lock = self._locks.get(oldest)
            if lock is not None and not lock.locked():
                del self._locks[oldest]


def _stamps(first: float, last: float, step: float) -> list[float]:
    count = round((last - first) / step) + 1 if first <= last else 0
    return [first + index * step for index in range(count)]


def _merge(buffer: _Buffer, fetched: RangeResult) -> None:
    buffer.omitted = fetched.omitted
    for series in fetched.series:
        label_key = tuple(sorted(series.labels.items()))
        buffer.points.setdefault(label_key, {}).update(series.points)


def _with_tip(answer: RangeResult, tip: RangeResult) -> RangeResult:
    """`answer` with each series' point at the end moment appended (new series added)."""
    extra = {tuple(sorted(s.labels.items())): s.points for s in tip.series}
    series = [RangeSeries(s.labels, s.points + extra.pop(tuple(sorted(s.labels.items())), [])) for s in answer.series]
    series += [RangeSeries(dict(key), points) for key, points in sorted(extra.items())]
    return RangeResult(series, list(dict.fromkeys([*answer.warnings, *tip.warnings])), omitted=answer.omitted)


def _result(buffer: _Buffer) -> RangeResult:
    """The buffer as a range answer: series in label order, points in time order."""
    series = [RangeSeries(dict(key), sorted(points.items())) for key, points in sorted(buffer.points.items()) if points]
    return RangeResult(series, list(buffer.warnings), omitted=buffer.omitted)
