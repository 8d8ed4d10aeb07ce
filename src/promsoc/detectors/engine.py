"""Evaluate detectors against a source at a moment: firing, ok, no_data or error, concurrently.

`ok` and `no_data` differ by whether the metric families a detector depends on exist at the
evaluation time: one extra query (`group by (__name__) ({__name__=~"a|b|..."})`), run in the
same wave as the detectors' own queries, so a scan costs about as long as its slowest query.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from promsoc import units
from promsoc.detectors import requirements
from promsoc.detectors.batch import Outcome, Trim, run_queries
from promsoc.detectors.local_band import LocalBand, Oversized, local_band
from promsoc.detectors.results import DetectorResult, Finding, Status
from promsoc.detectors.shared_join import run_shared
from promsoc.detectors.spec import Detector
from promsoc.prom.errors import PromError, ResponseTooLarge
from promsoc.prom.types import InstantResult, QueryClient, Sample
from promsoc.promql import recording
from promsoc.promql.presence import presence_query

P = TypeVar("P")

DEFAULT_CONCURRENCY = 32
PRESENCE = "presence"  # not a detector id: those are [a-z0-9-] and the pack has no such id


def detectors_presence_query(detectors: Iterable[Detector]) -> str | None:
    """The presence query covering every requirement of `detectors` (None: they need nothing)."""
    detectors = list(detectors)
    families = {f for det in detectors for f in det.required_families}
    selectors = {s for det in detectors for s in det.required_selectors}
    return presence_query(families, selectors) if families else None


def judge(det: Detector, presence: InstantResult) -> requirements.Verdict:
    """The detector's requirements not met at the time of `presence`, and the note about them."""
    seen = requirements.Seen.from_labels(s.labels for s in presence.samples)
    return requirements.judge(det.requires, seen)


@dataclass(frozen=True)
class Judgement:
    """A detector's status once its own answer is in, as scan and timeline both decide it."""

    status: Status
    error: str | None = None
    missing: tuple[str, ...] = ()
    note: str | None = None


def decide(det: Detector, fired: bool, presence: P | PromError | None,
           verdict: Callable[[P], requirements.Verdict]) -> Judgement:
    """Firing if it fired; else `ok` only where the metrics it needs were seen (one ladder, so a
    timeline step and a scan at that step can never disagree on what silence means)."""
    if fired:
        return Judgement(Status.FIRING)
    if not det.requires:
        return Judgement(Status.OK)
    if presence is None or isinstance(presence, PromError):
        return Judgement(Status.ERROR, error=f"checking its metrics exist failed: {presence}")
    seen = verdict(presence)
    if seen.missing:
        return Judgement(Status.NO_DATA, missing=seen.missing, note=seen.note)
    return Judgement(Status.OK, note=seen.note)


def missing_requirements(det: Detector, presence: InstantResult) -> list[str]:
    """The `requires` entries not met: a name, or 'a|b' when none of the alternatives exist."""
    return list(judge(det, presence).missing)


def _worst(result: InstantResult, unit: str, keep: int | None = None) -> tuple[list[Sample], int]:
    """Worst first: the highest value, or the lowest for units that fire low (expiry, age); NaN
    left out; at most `keep` of them, and how many more there were."""
    samples = [sample for sample in result.samples if not math.isnan(sample.value)]
    sign = 1 if units.lower_is_worse(unit) else -1
    # The order of sorting by (sign * value, sorted labels), but the labels are only sorted for
    # equal values: with 5,000 findings per answer that was most of a cycle's CPU.
    ordered = sorted(samples, key=lambda s: sign * s.value)
    wanted = len(ordered) if keep is None else max(1, keep)
    out: list[Sample] = []
    start = 0
    while start < len(ordered) and len(out) < wanted:
        end = start + 1
        while end < len(ordered) and ordered[end].value == ordered[start].value:
            end += 1
        run = ordered[start:end]
        if len(run) > 1:
            run.sort(key=lambda s: sorted(s.labels.items()))
        out.extend(run)
        start = end
    return out[:wanted], len(ordered) - min(len(out), wanted)


def _findings(result: InstantResult, unit: str, keep: int | None = None) -> tuple[list[Finding], int]:
    """The findings of an answer, worst first (see `_worst`), and how many were left out (here,
    or already when the answer arrived: `result.omitted`)."""
    kept, omitted = _worst(result, unit, keep)
    return [Finding(labels=dict(s.labels), value=s.value) for s in kept], omitted + result.omitted


def _trim_to(keep: int, units_of: dict[str, str]) -> Trim:
    """Each detector's answer cut to its worst `keep` samples when it arrives (not the presence
    check's): a poll never holds 5,000 samples per detector at once (issue 15)."""

    def trim(key: str, result: InstantResult) -> InstantResult:
        if key not in units_of or len(result.samples) <= keep:
            return result
        kept, omitted = _worst(result, units_of[key], keep)
        return replace(result, samples=kept, omitted=result.omitted + omitted)

    return trim


def _result(
    det: Detector,
    source: str,
    at: float,
    outcome: InstantResult | PromError,
    latency: float,
    presence: InstantResult | PromError | None,
    keep: int | None = None,
) -> DetectorResult:
    def make(
        status: Status,
        findings: list[Finding] | None = None,
        error: str | None = None,
        missing: tuple[str, ...] = (),
        note: str | None = None,
        omitted: int = 0,
    ) -> DetectorResult:
        return DetectorResult(
            source=source, detector=det.id, title=det.title, category=det.category,
            severity=det.severity, status=status, evaluated_at=at,
            findings=findings or [], error=error, latency=latency, missing=missing, note=note,
            warnings=warnings, omitted=omitted,
        )

    answers = [a for a in (outcome, presence) if isinstance(a, InstantResult)]
    warnings = tuple(dict.fromkeys(w for answer in answers for w in answer.warnings))

    if isinstance(outcome, PromError):
        return make(Status.ERROR, error=str(outcome))
    findings, omitted = _findings(outcome, det.unit, keep)
    judged = decide(det, bool(findings), presence, lambda answer: judge(det, answer))
    return make(judged.status, findings, judged.error, judged.missing, judged.note, omitted)


async def evaluate(
    detectors: Sequence[Detector],
    client: QueryClient,
    source_name: str,
    at: float | None = None,
    *,
    max_concurrency: int = DEFAULT_CONCURRENCY,
    batch: bool = True,
    recorded: bool = True,
    keep: int | None = None,
    local: bool = True,
    oversized: Oversized | None = None,
) -> list[DetectorResult]:
    """Every enabled detector's result at `at` (None: now), in pack order.

    All queries run at once (capped by `max_concurrency`; the client has its own per-source
    cap), light ones combined into one request (see `batch`); a failing query makes that
    detector `error`, never the whole scan. With `recorded`, detectors built on a recorded block
    (`promql.recording`) read the recorded series when the source has them at `at` (one small
    check first, in parallel with the other queries), and say so (`DetectorResult.recorded`).
    `keep`: at most that many findings per detector, the worst (the console's cap); the
    result's `omitted` counts the rest. With `local`, a sibling detector on the raw path asks
    for its signal once and promsoc applies its band (`detectors.local_band`: the same findings;
    a source's `sibling_bands: promql` passes False). `oversized` remembers, across evaluations,
    the detectors whose signal was over the source's `max_response_bytes`: they ask their PromQL
    directly for a while (`detectors.local_band.Oversized`).
    """
    enabled = [det for det in detectors if det.enabled]
    when = time.time() if at is None else at
    gate = asyncio.Semaphore(max(1, max_concurrency))
    presence_promql = detectors_presence_query(enabled)
    blocks = recorded_blocks(enabled, presence=True)
    recordable = {det.id for det in enabled if recorded and recording.uses_recorded(det.query, blocks)}
    queries = {det.id: det.query for det in enabled if det.id not in recordable}
    wanted = {det.id: det.query for det in enabled if det.id in recordable}
    if presence_promql:  # it reads every series of every family the pack needs: recorded too,
        # where the recorded series are looked for anyway (no extra request when nothing is)
        (wanted if wanted else queries)[PRESENCE] = presence_promql
    trim = _trim_to(keep, {det.id: det.unit for det in enabled}) if keep is not None else None
    bands = {
        det.id: band for det in enabled
        if local and (band := local_band(det)) is not None and (oversized is None or oversized.asks_whole(det.id))
    }  # fmt: skip
    (outcomes, (read_recorded, recorded_outcomes)) = await asyncio.gather(
        _run(client, queries, when, gate, batch, trim, bands, oversized),
        _recorded_or_raw(client, wanted, when, gate, batch, blocks, trim, bands, oversized),
    )
    outcomes.update(recorded_outcomes)
    presence = outcomes[PRESENCE][0] if presence_promql else None
    results = [_result(det, source_name, when, *outcomes[det.id], presence, keep) for det in enabled]
    return [replace(r, recorded=True) if r.detector in read_recorded else r for r in results]


RECORDED_SERIES = recording.POD_WORKLOAD
"""The recording rules' map the sibling detectors read when a source has it."""


def recorded_blocks(detectors: Iterable[Detector], *, presence: bool = False) -> tuple[recording.Recorded, ...]:
    """What `promsoc rules export --recording` records for these detectors (the map, the sibling
    detectors' signals, the time and seasonal bands' signals and terms, the pods per node) and,
    with `presence`, for a scan of all of them (its presence check)."""
    detectors = list(detectors)
    check = detectors_presence_query(detectors) if presence else None
    return recording.blocks(((det.id, det.signal, det.query, det.band) for det in detectors), check)


def can_read_recorded(det: Detector) -> bool:
    """Whether `det` is built on a block the recording rules record (the pod -> workload map, a
    time or seasonal band's signal)."""
    return recording.uses_recorded(det.query, recorded_blocks([det]))


def query_for(det: Detector, recorded: Iterable[recording.Recorded] | bool) -> str:
    """The detector's query, reading the recorded blocks given (True: all of its own)."""
    if recorded is True:
        recorded = recorded_blocks([det])
    return recording.rewrite(det.query, tuple(recorded)) if recorded else det.query


async def recorded_state(
    client: QueryClient, at: float | None, recorded: Sequence[recording.Recorded]
) -> recording.Present:
    """Which recorded blocks the source has at `at`, and which of them are old enough for what
    they are read for (nothing when the check itself fails)."""
    if not recorded:
        return recording.Present()
    try:
        answer = await client.query(recording.presence_query(recorded), at)
    except PromError:
        return recording.Present()
    return recording.present(recorded, (s.labels for s in answer.samples))


RecordedBlocks = tuple[recording.Recorded, ...]
"""Recorded blocks a source has (for callers that may not name `promql.recording`)."""


async def present_blocks(
    client: QueryClient, at: float | None, recorded: Sequence[recording.Recorded]
) -> tuple[recording.Recorded, ...]:
    """The recorded blocks the source has at `at`, old enough to be read (see `recorded_state`)."""
    return (await recorded_state(client, at, recorded)).readable


async def recorded_present(client: QueryClient, at: float | None) -> bool:
    """Whether the source has the recorded pod -> workload map at `at` (the rules are installed)."""
    return bool(await present_blocks(client, at, recording.BLOCKS))


async def _recorded_or_raw(
    client: QueryClient,
    queries: dict[str, str],
    at: float,
    gate: asyncio.Semaphore,
    batch: bool,
    recorded: Sequence[recording.Recorded],
    trim: Trim | None = None,
    local: dict[str, LocalBand] | None = None,
    oversized: Oversized | None = None,
) -> tuple[set[str], dict[str, Outcome]]:
    """The queries that can read recorded series: from them where the source has them (and they
    are old enough), else raw; and which of them read some."""
    if not queries:
        return set(), {}
    present = await present_blocks(client, at, recorded)
    chosen = {key: recording.rewrite(promql, present) for key, promql in queries.items()}
    read = {key for key, promql in chosen.items() if promql != queries[key]}
    raw = {key: band for key, band in (local or {}).items() if key in chosen and key not in read}
    return read, await _run(client, chosen, at, gate, batch, trim, raw, oversized)


async def _run(
    client: QueryClient,
    queries: dict[str, str],
    at: float,
    gate: asyncio.Semaphore,
    batch: bool,
    trim: Trim | None,
    local: dict[str, LocalBand],
    oversized: Oversized | None = None,
) -> dict[str, Outcome]:
    """`run_queries`, except that a query `local` can answer from one evaluation of its signal
    (`detectors.local_band`: a sibling detector on the raw path) asks for the signal and applies
    the band to its whole answer, then the findings cap; where that answer is over the source's
    `max_response_bytes`, the query itself is asked (only the outliers come back), and `oversized`
    told so."""
    local = {key: band for key, band in local.items() if key in queries}
    if not local:
        return await run_queries(client, queries, at, gate, batch, trim)
    asked = {key: local[key].signal if key in local else promql for key, promql in queries.items()}

    def cap(key: str, result: InstantResult) -> InstantResult:
        return result if key in local or trim is None else trim(key, result)

    outcomes = await run_shared(client, asked, at, gate, batch, cap)  # the signals' common map once
    # Every pod's signal over the source's max_response_bytes: its PromQL sends only the outliers.
    whole = {key: queries[key] for key in local if isinstance(outcomes[key][0], ResponseTooLarge)}
    if oversized is not None:
        for key in whole:
            oversized.too_large(key)
    if whole:
        outcomes.update(await run_queries(client, whole, at, gate, batch, trim))
    for key, band in local.items():
        result, latency = outcomes[key]
        if isinstance(result, InstantResult) and key not in whole:
            found = band.apply(result)
            outcomes[key] = (trim(key, found) if trim is not None else found), latency
    return outcomes


async def missing_families(
    det: Detector, client: QueryClient, at: float | None = None
) -> list[str]:
    """Which of the detector's requirements are not met at `at` (for `promsoc check`)."""
    promql = detectors_presence_query([det])
    if promql is None:
        return []
    return missing_requirements(det, await client.query(promql, at))
