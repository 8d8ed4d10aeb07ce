"""When each detector fired between two moments: one range query per detector, not a scan per step.

A range query evaluates the detector's query at every step exactly as an instant query at that
moment would, so a detector is firing at a step of the timeline exactly when `scan --at` that
step says `firing`. Consecutive firing steps make an interval; its findings are the distinct label
sets returned anywhere in it and its peak the largest value. One more range query (the presence
query of the engine) tells `ok` from `no_data`: a detector whose required metrics were absent at
every step is a blind spot over the whole range.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from promsoc.detectors import requirements
from promsoc.detectors.batch import is_heavy
from promsoc.detectors.engine import decide, detectors_presence_query
from promsoc.detectors.results import Status
from promsoc.detectors.spec import Detector
from promsoc.prom.errors import PromError
from promsoc.prom.types import QueryClient, RangeResult, RangeSeries

MAX_STEPS = 1500
"""The default step keeps a range to at most this many steps (the contract's figure)."""
MIN_STEP = 30.0
SERVER_MAX_POINTS = 11_000
"""Prometheus refuses a range query with more points per series than this."""
CHUNK_STEPS = 240
"""Steps per request: a day of a heavy detector at once can outlast a source's timeout on a
busy server, and short requests of many detectors share the server's cores more evenly."""
HEAVY_CHUNK_STEPS = 60
"""For the heavy queries (subqueries, the pod-to-workload join: `batch.is_heavy`)."""
TIMELINE_CONCURRENCY = 8
_NICE_STEPS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)



@dataclass(frozen=True)
class Interval:
    """A maximal run of firing steps: first and last firing step, distinct findings, and the
    largest (`peak`) and smallest (`low`) value returned in it."""

    start: float
    end: float
    peak: float
    low: float
    findings: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineResult:
    """One (source, detector) over the range."""

    source: str
    detector: str
    title: str
    category: str
    severity: str
    unit: str
    status: Status
    intervals: list[Interval] = field(default_factory=list)
    error: str | None = None
    missing: tuple[str, ...] = ()
    """For no_data: the requirements not met at any step (or 'a|b' alternatives)."""
    note: str | None = None
    """Why (the pack's `why`), or, for ok, that there was nothing to judge (the pack's `note`)."""

    def firing_at(self, moment: float) -> Interval | None:
        """The interval covering `moment` (a step of the range), if any."""
        for interval in self.intervals:
            if interval.start <= moment <= interval.end:
                return interval
        return None


@dataclass(frozen=True)
class Range:
    """The evaluated steps: start, start + step, ... up to end (both aligned to the step)."""

    start: float
    end: float
    step: float

    @property
    def steps(self) -> int:
        return round((self.end - self.start) / self.step) + 1

    def moments(self) -> list[float]:
        return [self.start + i * self.step for i in range(self.steps)]

    def chunks(self, size: int = CHUNK_STEPS) -> list[Range]:
        """Consecutive sub-ranges of at most `size` steps, on the same steps."""
        parts: list[Range] = []
        first = 0
        while first < self.steps:
            last = min(self.steps, first + size) - 1
            parts.append(Range(self.start + first * self.step, self.start + last * self.step, self.step))
            first = last + 1
        return parts


def default_step(start: float, end: float) -> float:
    """The smallest 'nice' step (30 s, 1 min, 2 min, 5 min, ...) giving at most MAX_STEPS steps."""
    span = max(0.0, end - start)
    for step in _NICE_STEPS:
        if span / step < MAX_STEPS:
            return float(step)
    return float(math.ceil(span / (MAX_STEPS - 1)))


def make_range(start: float, end: float, step: float | None = None) -> Range:
    """Steps aligned to whole multiples of `step` (so two runs see the same moments).

    Raises ValueError when the range is empty or has more steps than Prometheus returns.
    """
    if end <= start:
        raise ValueError("the range is empty: --from must be before --to")
    chosen = default_step(start, end) if step is None else step
    if chosen <= 0:
        raise ValueError("the step must be positive")
    first = math.ceil(start / chosen) * chosen
    last = math.floor(end / chosen) * chosen
    if last < first:
        first = last = math.floor(end / chosen) * chosen
    aligned = Range(first, last, chosen)
    if aligned.steps > SERVER_MAX_POINTS:
        raise ValueError(
            f"{aligned.steps} steps: Prometheus returns at most {SERVER_MAX_POINTS} per series; "
            "use a larger step"
        )
    return aligned


def intervals(series: RangeResult, step: float) -> list[Interval]:
    """Firing steps of a range result (any series with a number there) merged into intervals."""
    by_step: dict[int, list[tuple[dict[str, str], float]]] = {}
    for one in series.series:
        for stamp, value in one.points:
            if math.isnan(value):
                continue
            by_step.setdefault(round(stamp * 1000), []).append((one.labels, value))
    result: list[Interval] = []
    run: list[int] = []
    gap = round(step * 1000)

    def close() -> None:
        if not run:
            return
        seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        values: list[float] = []
        for key in run:
            for labels, value in by_step[key]:
                seen.setdefault(tuple(sorted(labels.items())), labels)
                values.append(value)
        result.append(
            Interval(run[0] / 1000, run[-1] / 1000, max(values), min(values), list(seen.values()))
        )

    for key in sorted(by_step):
        if run and key - run[-1] > gap:
            close()
            run = []
        run.append(key)
    close()
    return result


def _verdict(det: Detector, presence: RangeResult) -> requirements.Verdict:
    """`no_data` only if the requirements were unmet at every step: then the verdict of the step
    that saw the most; else the verdict of a step where they were met (its note, if any)."""
    seen_at: dict[int, list[dict[str, str]]] = {}
    for one in presence.series:
        for stamp, _value in one.points:
            seen_at.setdefault(round(stamp * 1000), []).append(one.labels)
    verdicts = [requirements.judge(det.requires, requirements.Seen.from_labels(labels))
                for _key, labels in sorted(seen_at.items())]
    met = [v for v in verdicts if not v.missing]
    if met:
        return next((v for v in met if v.note is None), met[0])
    if not verdicts:
        return requirements.judge(det.requires, requirements.Seen(frozenset(), frozenset()))
    return min(verdicts, key=lambda v: len(v.missing))


def _joined(parts: Sequence[RangeResult]) -> RangeResult:
    """Chunks of one query's range back into one result: each series' points in order."""
    series: dict[tuple[tuple[str, str], ...], RangeSeries] = {}
    warnings: list[str] = []
    for part in parts:
        warnings.extend(w for w in part.warnings if w not in warnings)
        for one in part.series:
            key = tuple(sorted(one.labels.items()))
            if key in series:
                series[key].points.extend(one.points)
            else:
                series[key] = RangeSeries(dict(one.labels), list(one.points))
    return RangeResult(list(series.values()), warnings)


async def _range(
    client: QueryClient, promql: str, span: Range, gate: asyncio.Semaphore
) -> RangeResult | PromError:
    """One query over the whole span, chunk after chunk; the first failing chunk fails it."""
    parts: list[RangeResult] = []
    for chunk in span.chunks(HEAVY_CHUNK_STEPS if is_heavy(promql) else CHUNK_STEPS):
        async with gate:
            try:
                parts.append(await client.query_range(promql, chunk.start, chunk.end, chunk.step))
            except PromError as exc:
                return exc
    return _joined(parts)


def _result(
    det: Detector,
    source: str,
    span: Range,
    outcome: RangeResult | PromError,
    presence: RangeResult | PromError | None,
) -> TimelineResult:
    def make(status: Status, found: Sequence[Interval] = (), error: str | None = None,
             missing: tuple[str, ...] = (), note: str | None = None) -> TimelineResult:
        return TimelineResult(
            source=source, detector=det.id, title=det.title, category=det.category,
            severity=det.severity, unit=det.unit, status=status, intervals=list(found),
            error=error, missing=missing, note=note,
        )

    if isinstance(outcome, PromError):
        return make(Status.ERROR, error=str(outcome))
    found = intervals(outcome, span.step)
    judged = decide(det, bool(found), presence, lambda answer: _verdict(det, answer))
    return make(judged.status, found, error=judged.error, missing=judged.missing, note=judged.note)


async def timeline(
    detectors: Sequence[Detector],
    client: QueryClient,
    source_name: str,
    span: Range,
    *,
    max_concurrency: int = TIMELINE_CONCURRENCY,
) -> list[TimelineResult]:
    """Every enabled detector's firing intervals over `span`, in pack order.

    One range query per detector plus one presence query (each in chunks of CHUNK_STEPS steps),
    detectors side by side (capped); a failing query makes that detector `error`, never the
    whole timeline.
    """
    enabled = [det for det in detectors if det.enabled]
    gate = asyncio.Semaphore(max(1, max_concurrency))
    presence_promql = detectors_presence_query(enabled)
    jobs = [_range(client, det.query, span, gate) for det in enabled]
    if presence_promql:
        jobs.append(_range(client, presence_promql, span, gate))
    outcomes = await asyncio.gather(*jobs)
    presence = outcomes[len(enabled)] if presence_promql else None
    return [
        _result(det, source_name, span, outcome, presence)
        for det, outcome in zip(enabled, outcomes[: len(enabled)], strict=True)
    ]
