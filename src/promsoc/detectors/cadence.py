"""How often a live console asks a detector again: every refresh, unless that costs the server a lot.

Measured on the 5,000-pod lab (`bench/bench_query_cost.py`): a sibling detector (built on the
pod -> workload join, so its cost grows with the pods) costs Prometheus about 0.7 CPU-s per
evaluation, and a heavy sparkline query (the join, or a subquery) up to 0.17 CPU-s per step; the
rest of the pack costs a few milliseconds. So, for a console left live:

- A detector that scales with the pods and reads the raw join is evaluated at most every
  `SCALED_EVERY` seconds (its signal is a 5-minute rate); its tile says so (`↻ every 2m`) and in
  between shows its last result with the moment it was evaluated. Read from the recording rules'
  series (cheap) it runs at every refresh like the others. Worst case, an attack it catches shows
  `SCALED_EVERY` + one refresh after it would have.
- A sparkline whose queries are heavy is drawn at `HEAVY_STEP` steps (60 points an hour: about a
  tile's width), without its band edge (which only scales the line), asked `HEAVY_CHUNK` steps a
  request, and refreshed every `HEAVY_SPARKLINE_EVERY` seconds (a failed fetch too); its tile's
  status is not delayed (that is the scan), only the history line behind it.

A moment in the past (the time cursor) is always evaluated afresh: the slower cadence applies only
to the live edge.

Sources are staggered: each has its own `phase` within the `SCALED_EVERY` s (`phase_of`: spread
evenly by its position among the configured sources), and a scaled detector is due again once a
moment `phase` s into a period (counted from the epoch) has passed since its last evaluation. So
twenty sources on a 30 s refresh evaluate the join about five at a time, one cycle after another,
not all twenty in every fourth cycle (sources asked together, `prom.fanin`, would otherwise merge
the twenty joins into one request that makes that one cycle slow). Each source still evaluates
it at least every `SCALED_EVERY` s plus one refresh (every `SCALED_EVERY` s on a refresh that
divides it), at most once a period after its first, which is at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from promsoc.detectors.batch import is_heavy
from promsoc.detectors.results import DetectorResult
from promsoc.detectors.sparkline import SparklinePlan
from promsoc.detectors.spec import Detector
from promsoc.promql import recording

SCALED_EVERY = 120.0
"""Seconds between live evaluations of a detector built on the pod -> workload join, read raw."""
HEAVY_STEP = 60.0
"""Seconds between the points of a heavy sparkline."""
HEAVY_SPARKLINE_EVERY = 300.0
"""Seconds between refreshes of a heavy sparkline (also after a failed fetch)."""
HEAVY_CHUNK = 15
"""Steps per request of a heavy sparkline (its first hour is four requests in turn, each within
a source's timeout)."""


def scales_with_pods(det: Detector) -> bool:
    """Built on the pod -> workload join: its cost grows with the number of pods."""
    return recording.MAP.expr in det.query


def heavy_sparkline(plan: SparklinePlan) -> bool:
    """Any of the sparkline's queries is heavy (a subquery, the pod -> workload join)."""
    return any(is_heavy(q) for q in (plan.signal, plan.edge, plan.fired) if q)


def sparkline_step(plan: SparklinePlan, step: float) -> float:
    """The step of a sparkline drawn at `step` by default: coarser when its queries are heavy."""
    return max(step, HEAVY_STEP) if heavy_sparkline(plan) else step


def sparkline_every(plan: SparklinePlan) -> float:
    """Seconds a live sparkline may be kept before it is fetched again (0: every refresh)."""
    return HEAVY_SPARKLINE_EVERY if heavy_sparkline(plan) else 0.0


def reusable(kept_at: float, at: float, every: float, now: float, phase: float | None = None) -> bool:
    """Whether an answer for `kept_at` still stands for `at`: both at the live edge (within
    `every` of the clock), `at` not before it and less than `every` after it; with a `phase`,
    also no moment `phase` s into a period of `every` s (from the epoch) in (kept_at, at]."""
    if every <= 0 or not kept_at <= at < kept_at + every or at < now - every:
        return False
    return phase is None or (at - phase) // every == (kept_at - phase) // every


def phase_of(position: int, count: int, every: float = SCALED_EVERY) -> float:
    """The phase of the source at `position` among `count`: spread evenly over `every` s."""
    return every * (position % max(1, count)) / max(1, count)


class Cadence:
    """The detectors due at a moment, and the last results of those that are not (per source)."""

    def __init__(self, clock: Callable[[], float], phase: float | None = None) -> None:
        """`phase`: the source's moment in every `SCALED_EVERY` s (`phase_of`) at which its
        scaled detectors fall due again (None: `SCALED_EVERY` s after their last evaluation)."""
        self._clock = clock
        self.phase = phase
        self._last: dict[str, DetectorResult] = {}

    def every(self, det: Detector) -> float:
        """Seconds between its live evaluations: `SCALED_EVERY` for a detector that scales with
        the pods and last read the raw join, else 0 (every refresh)."""
        last = self._last.get(det.id)
        if not scales_with_pods(det) or (last is not None and last.recorded):
            return 0.0
        return SCALED_EVERY

    def split(self, detectors: Sequence[Detector], at: float) -> tuple[list[Detector], dict[str, DetectorResult]]:
        """(the detectors to evaluate at `at`, the kept results of the others by detector id)."""
        now, due, kept = self._clock(), [], {}
        for det in detectors:
            last = self._last.get(det.id)
            if last is not None and reusable(last.evaluated_at, at, self.every(det), now, self.phase):
                kept[det.id] = last
            else:
                due.append(det)
        return due, kept

    def apart(self, due: Sequence[Detector]) -> tuple[list[Detector], list[Detector]]:
        """(those of `due` evaluated at every refresh, those at their own cadence): sources asked
        together ask the first alike in every cycle, the second only in the cycles their phase
        makes them due."""
        return [d for d in due if not self.every(d)], [d for d in due if self.every(d)]

    def merge(self, detectors: Sequence[Detector], fresh: list[DetectorResult],
              kept: dict[str, DetectorResult]) -> list[DetectorResult]:  # fmt: skip
        """Every detector's result in pack order, fresh ones remembered, each carrying its cadence."""
        by_id = {**kept, **{r.detector: r for r in fresh}}
        out = []
        for det in detectors:
            result = by_id.get(det.id)
            if result is None:
                continue
            if det.id not in kept:
                self._last[det.id] = result
            out.append(replace(result, every=self.every(det)))
        return out
