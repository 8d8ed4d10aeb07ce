"""A sibling detector's group band applied by promsoc to one answer of its signal (raw path).

PromQL can compare a member with its group's median only by evaluating the members twice:
`signal > on (g) group_left () (ratio * quantile by (g) (0.5, signal) + floor)` runs the signal
(for the sibling detectors, 5,000 pods' rates joined with the pod -> workload map) once on each
side. Profiled on the 5,000-pod lab (`stats=all`, Prometheus's CPU from /proc): the signal alone
costs about half of the detector's query, and no rewrite in PromQL shares one evaluation between
a vector and an aggregate of it. So where a source has no recording rules, the scan asks for the
signal once and applies the band here, with PromQL's own arithmetic: Prometheus's `quantile`
(sorted with NaN first, linear interpolation at rank q·(n-1)), then `ratio * median + floor`, then
`>`, each a float64 operation in the same order, on the float64 values the answer carries (they
round-trip exactly through the JSON). The findings are the query's, sample for sample
(tests/integration/test_detectors_lab.py compares both on the lab).

Only a detector whose query is exactly `bands.above(signal, band)` of a `group_median_ratio`
band built from its own parameters is answered this way: any other query runs as written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from promsoc.detectors.spec import Detector
from promsoc.prom.types import InstantResult, Sample
from promsoc.promql import bands


def quantile(q: float, values: Sequence[float]) -> float:
    """PromQL's `quantile` aggregation (promql/quantile.go), operation for operation."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values, key=lambda value: (not math.isnan(value), value))  # NaN first, as Go's Less
    n = float(len(ordered))
    rank = q * (n - 1)
    lower = max(0.0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[int(lower)] * (1 - weight) + ordered[int(upper)] * weight


@dataclass(frozen=True)
class LocalBand:
    """`signal > on (by) group_left () (ratio * quantile by (by) (0.5, signal) + floor)`."""

    signal: str
    by: tuple[str, ...]
    ratio: float
    floor: float

    def apply(self, answer: InstantResult) -> InstantResult:
        """The members of the signal's answer above their group's band: the query's answer."""

        def group(sample: Sample) -> tuple[str, ...]:
            return tuple(sample.labels.get(name, "") for name in self.by)  # absent is empty, as in PromQL

        members: dict[tuple[str, ...], list[float]] = {}
        for sample in answer.samples:
            members.setdefault(group(sample), []).append(sample.value)
        limits = {key: self.ratio * quantile(0.5, values) + self.floor for key, values in members.items()}
        return replace(answer, samples=[s for s in answer.samples if s.value > limits[group(s)]])


def local_band(det: Detector) -> LocalBand | None:
    """How promsoc answers `det`'s query from one evaluation of its signal, if it can (see above)."""
    band, signal = det.band, det.signal
    if band is None or signal is None or band.kind != "group_median_ratio" or not band.by:
        return None
    params = dict(band.params)
    if set(params) != {"ratio", "floor"}:
        return None
    rebuilt = bands.group_median_ratio_band(signal, band.by, ratio=params["ratio"], floor=params["floor"])
    if rebuilt != band or det.query != bands.above(signal, band):
        return None
    return LocalBand(signal, band.by, params["ratio"], params["floor"])


RETRY_WHOLE = 1800.0
"""Seconds a sibling detector whose whole signal was over the cap asks its PromQL directly."""


class Oversized:
    """Sibling detectors whose whole signal was over the source's `max_response_bytes` the last
    time it was asked. For `retry` seconds their PromQL is asked directly (only the outliers come
    back, the same findings), so that a console does not make Prometheus evaluate and send an
    answer it will cut off at every evaluation; then the whole signal is tried again (the
    cluster may have shrunk, or the cap grown). One per source, kept across evaluations."""

    def __init__(self, retry: float = RETRY_WHOLE, clock: Callable[[], float] = time.monotonic) -> None:
        self._retry = retry
        self._clock = clock
        self._until: dict[str, float] = {}

    def asks_whole(self, key: str) -> bool:
        """Whether the detector `key` asks for its whole signal now."""
        return self._clock() >= self._until.get(key, 0.0)

    def too_large(self, key: str) -> None:
        """The whole signal of `key` was over the cap: ask its PromQL for the next `retry` seconds."""
        self._until[key] = self._clock() + self._retry


__all__ = ["RETRY_WHOLE", "LocalBand", "Oversized", "local_band", "quantile"]
