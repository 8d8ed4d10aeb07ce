"""Run many instant queries in few requests: light ones combined, heavy ones alone.

Each HTTP query costs about a millisecond of CPU on each side before any PromQL runs, which
for a pack of cheap detectors is most of the work. Light queries are sent as one
`label_replace(q1, "promsoc_detector", "id1", "", "") or ...` and split by that label;
heavy ones (subqueries, the pod-to-workload join) go alone so that the server can run them
in parallel. If the combined query is refused (one bad query in a user pack, a runtime
error), its members are retried one by one, so one detector's mistake stays its own.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from promsoc.prom.errors import BadQuery, PromError
from promsoc.prom.types import InstantResult, QueryClient, Sample
from promsoc.promql.batch import BATCH_LABEL, combine

_SUBQUERY = re.compile(r"\[[^\]\[]*:[^\]\[]*\]")

Outcome = tuple[InstantResult | PromError, float]
Trim = Callable[[str, InstantResult], InstantResult]
"""What to keep of a key's answer, applied as soon as it arrives (the engine's findings cap):
a poll then never holds every answer's 5,000 samples at once."""



def is_heavy(promql: str) -> bool:
    """Subqueries and pod-to-workload joins: worth a request (and a server thread) of their own."""
    return bool(_SUBQUERY.search(promql)) or "kube_pod_owner" in promql


def split(result: InstantResult, keys: list[str]) -> dict[str, InstantResult]:
    """The combined result back into one result per key, without the batch label."""
    parts: dict[str, list[Sample]] = {key: [] for key in keys}
    for sample in result.samples:
        labels = dict(sample.labels)
        key = labels.pop(BATCH_LABEL, "")
        if key in parts:
            parts[key].append(Sample(labels, sample.value, sample.timestamp))
    return {
        key: InstantResult("vector", samples, list(result.warnings))
        for key, samples in parts.items()
    }


async def _timed(
    client: QueryClient, promql: str, at: float | None, gate: asyncio.Semaphore
) -> Outcome:
    async with gate:
        began = time.perf_counter()
        try:
            result: InstantResult | PromError = await client.query(promql, at)
        except PromError as exc:
            result = exc
        return result, time.perf_counter() - began


def _trimmed(key: str, outcome: Outcome, trim: Trim | None) -> Outcome:
    result, latency = outcome
    return (trim(key, result), latency) if trim is not None and isinstance(result, InstantResult) else outcome


async def _single(
    client: QueryClient, key: str, promql: str, at: float | None, gate: asyncio.Semaphore, trim: Trim | None
) -> Outcome:
    return _trimmed(key, await _timed(client, promql, at, gate), trim)


async def _each(
    client: QueryClient, queries: Mapping[str, str], at: float | None, gate: asyncio.Semaphore, trim: Trim | None = None
) -> dict[str, Outcome]:
    outcomes = await asyncio.gather(*(_single(client, k, q, at, gate, trim) for k, q in queries.items()))
    return dict(zip(queries, outcomes, strict=True))


async def ask_together(
    client: QueryClient,
    promql: str,
    queries: Mapping[str, str],
    at: float | None,
    gate: asyncio.Semaphore,
    trim: Trim | None = None,
    refused: tuple[type[PromError], ...] = (BadQuery,),
    apart: Callable[..., Awaitable[dict[str, Outcome]]] = _each,
) -> dict[str, Outcome]:
    """`queries` answered by one request, `promql` (which labels each series with its key,
    `BATCH_LABEL`), split back by key and trimmed. An answer of a `refused` kind asks them
    `apart(client, queries, at, gate, trim=trim)`, each its own outcome; any other failure is every key's."""
    result, latency = await _timed(client, promql, at, gate)
    if isinstance(result, refused):
        return await apart(client, queries, at, gate, trim=trim)
    if isinstance(result, PromError):
        return dict.fromkeys(queries, (result, latency))
    return {key: _trimmed(key, (part, latency), trim) for key, part in split(result, list(queries)).items()}


async def gathered(order: Iterable[str], *parts: Awaitable[dict[str, Outcome]]) -> dict[str, Outcome]:
    """The outcomes of `parts` (each by key) as one, in `order`."""
    found: dict[str, Outcome] = {}
    for part in await asyncio.gather(*parts):
        found.update(part)
    return {key: found[key] for key in order}


async def run_queries(
    client: QueryClient,
    queries: Mapping[str, str],
    at: float | None,
    gate: asyncio.Semaphore,
    batch: bool = True,
    trim: Trim | None = None,
) -> dict[str, Outcome]:
    """Every query's outcome and latency by key, heavy ones alone and the rest combined; `trim`
    is applied to each key's answer as soon as it arrives."""
    if not batch:
        return await _each(client, queries, at, gate, trim)
    heavy = {key: q for key, q in queries.items() if is_heavy(q)}
    light = {key: q for key, q in queries.items() if key not in heavy}
    tasks = [_each(client, {key: q}, at, gate, trim) for key, q in heavy.items()]
    if len(light) > 1:
        tasks.append(ask_together(client, combine(light), light, at, gate, trim))
    elif light:
        tasks.append(_each(client, light, at, gate, trim))
    return await gathered(queries, *tasks)
