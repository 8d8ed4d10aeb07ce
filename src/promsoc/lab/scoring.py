"""Score a sweep (when each detector fired, with which labels) against the lab's scenario.

A firing is explained when some scripted attack is active at that step or ended less than
TAIL ago (a rate window still holds it), or a benign event that rightly fires that detector is
(scenario.ALSO_FIRES); anything else is a false firing. An attack is caught
at the first step, from its start until TAIL after its end, at which its detector fires with
the attack's identifying labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from promsoc.lab.scenario import ALSO_FIRES, Incident, Scenario

TAIL = 300.0  # a 5-minute window still sees an attack this long after it ended

Firings = Mapping[str, Mapping[float, Sequence[Mapping[str, str]]]]  # detector -> t -> labels


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


def score(scenario: Scenario, firings: Firings, start: float, end: float) -> list[DetectorScore]:
    """Per detector (in the order of `firings`): false firings and attacks caught in [start, end]."""
    scores = []
    for detector, fired in firings.items():
        result = DetectorScore(detector, steps_fired=len(fired))
        for t in sorted(fired):
            if not _explained(scenario, detector, t):
                result.false += [(t, dict(labels)) for labels in fired[t]]
        for inc in scenario.attacks:
            if inc.detector != detector or not start <= inc.start <= end:
                continue
            hits = [t for t, found in fired.items()
                    if inc.start <= t <= inc.end + TAIL and any(_matches(f, inc) for f in found)]
            result.catches.append(Catch(inc, min(hits) if hits else None))
        scores.append(result)
    return scores


def table(scores: Sequence[DetectorScore]) -> str:
    """Markdown: per detector, steps fired, false firings, attacks caught and the worst delay."""
    rows = ["| detector | steps firing | false firings | attacks caught | detection delay |",
            "| --- | --- | --- | --- | --- |"]
    for s in scores:
        delays = ", ".join(f"{c.incident.name} {c.delay / 60:.0f} min" if c.delay is not None
                           else f"{c.incident.name} missed" for c in s.catches) or "-"
        caught = f"{s.caught}/{len(s.catches)}" if s.catches else "-"
        rows.append(f"| `{s.detector}` | {s.steps_fired} | {len(s.false)} | {caught} | {delays} |")
    return "\n".join(rows)


__all__ = ["TAIL", "Catch", "DetectorScore", "score", "table"]
