"""Score a day sweep (each detector's firing intervals, as `promsoc timeline` finds them)
against the lab's scenario.

A firing step is explained when some scripted attack is active then or ended less than TAIL
ago (a rate window still holds it), or a benign event that rightly fires that detector is
(scenario.ALSO_FIRES); any other firing step is a false firing. An attack is caught at the first
step, from its start until TAIL after its end, of an interval whose findings include the
attack's identifying labels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from promsoc.lab.scenario import ALSO_FIRES, Incident, Scenario

TAIL = 300.0  # a 5-minute window still sees an attack this long after it ended


class Fired(Protocol):
    """Consecutive steps at which a detector fired, and every label set it found then."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def findings(self) -> list[dict[str, str]]: ...


@dataclass(frozen=True)
class Catch:
    incident: Incident
    at: float | None  # first step it was caught at, None: missed

    @property
    def delay(self) -> float | None:
        return None if self.at is None else self.at - self.incident.start


@dataclass
class DetectorScore:
    detector: str
    steps_fired: int = 0
    false: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    catches: list[Catch] = field(default_factory=list)

    @property
    def caught(self) -> int:
        return sum(1 for c in self.catches if c.at is not None)

    @property
    def max_delay(self) -> float | None:
        delays = [d for c in self.catches if (d := c.delay) is not None]
        return max(delays) if delays else None


def _explained(scenario: Scenario, detector: str, t: float) -> bool:
    """An attack explains any firing; a benign event only the one it rightly causes."""
    return any(i.start <= t <= i.end + TAIL for i in scenario.incidents
               if not i.benign or ALSO_FIRES.get(i.name, ("",))[0] == detector)


def _matches(labels: Mapping[str, str], incident: Incident) -> bool:
    return all(labels.get(k) == v for k, v in incident.labels.items())


def score(scenario: Scenario, fired: Mapping[str, Sequence[Fired]], step: float,
          start: float, end: float) -> list[DetectorScore]:
    """Per detector (in the order of `fired`): false firings and attacks caught in [start, end]."""
    scores = []
    for detector, runs in fired.items():
        result = DetectorScore(detector)
        for run in runs:
            for i in range(round((run.end - run.start) / step) + 1):
                t = run.start + i * step
                result.steps_fired += 1
                if not _explained(scenario, detector, t):
                    result.false += [(t, dict(labels)) for labels in run.findings]
        for inc in scenario.attacks:
            if inc.detector != detector or not start <= inc.start <= end:
                continue
            hits = [max(run.start, math.ceil(inc.start / step) * step) for run in runs
                    if run.start <= inc.end + TAIL and run.end >= inc.start
                    and any(_matches(f, inc) for f in run.findings)]
            result.catches.append(Catch(inc, min(hits) if hits else None))
        scores.append(result)
    return scores


def table(scores: Sequence[DetectorScore]) -> str:
    """Markdown: per detector, steps fired, false firings, attacks caught and the worst delay."""
    rows = ["| detector | steps firing | false firings | attacks caught | detection delay |",
            "| --- | --- | --- | --- | --- |"]
    for s in scores:
        delays = ", ".join(f"{c.incident.name} {c.delay / 60:.1f} min" if c.delay is not None
                           else f"{c.incident.name} missed" for c in s.catches) or "-"
        caught = f"{s.caught}/{len(s.catches)}" if s.catches else "-"
        rows.append(f"| `{s.detector}` | {s.steps_fired} | {len(s.false)} | {caught} | {delays} |")
    return "\n".join(rows)


__all__ = ["TAIL", "Catch", "DetectorScore", "Fired", "score", "table"]
