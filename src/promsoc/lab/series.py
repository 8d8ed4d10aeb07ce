"""Simulated series: a value (gauge) or rate (counter) as a function of time, plus lifetimes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from promsoc.lab.cluster import DAY

TOPOLOGY = "topology"  # kube-state-metrics & co: 29 days of history
TRAFFIC = "traffic"  # rates and resources: 8 days of history
LIVE = "live"  # only served live, never backfilled

ValueFn = Callable[[float], float]


@dataclass(eq=False)
class Series:
    """One time series of the simulator; counters integrate `fn` (a rate) over time."""

    name: str
    labels: dict[str, str]
    fn: ValueFn
    counter: bool
    schedule: str
    start: float = -math.inf
    end: float = math.inf
    hidden: Callable[[float], bool] | None = None
    integer: bool = False
    gaps: tuple[tuple[float, float], ...] = ()  # [from, until): scrapes the exporter missed
    initial: float = 0.0  # a counter's value at its first scrape (a target first scraped late)
    key: str = field(default="", init=False)
    text: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.relabel(self.labels)

    def relabel(self, labels: dict[str, str]) -> None:
        """Replace the labels (e.g. add the lab's `cluster` label); text and key follow."""
        self.labels = labels
        self.text = render_series(self.name, labels)
        self.key = f"{self.text}@{self.start}"

    def present(self, t: float) -> bool:
        if any(lo <= t < hi for lo, hi in self.gaps):
            return False
        return self.start <= t < self.end and not (self.hidden is not None and self.hidden(t))


@dataclass(frozen=True)
class Family:
    name: str
    type: str  # counter, gauge, histogram
    help: str


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_series(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


_SINE: dict[float, float] = {}


def _sine(t: float) -> float:
    """sin of the time of day, memoised: every series samples the same grid."""
    value = _SINE.get(t)
    if value is None:
        if len(_SINE) > 200_000:
            _SINE.clear()
        value = _SINE[t] = math.sin(2 * math.pi * ((t % DAY) / DAY - 0.375))
    return value


def diurnal(t: float, amplitude: float = 0.4) -> float:
    """The daily rhythm: 1 ± amplitude, lowest around 03:00 UTC, highest around 15:00 UTC."""
    return 1.0 + amplitude * _sine(t)


def _mix(x: int) -> int:
    x &= 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 1274126177) & 0xFFFFFFFF
    return x ^ (x >> 16)


_NOISE = [_mix(i * 2654435761 + 12345) / 2147483647.5 - 1.0 for i in range(8192)]


def noise(seed: int, t: float, bucket: float = 30.0) -> float:
    """Deterministic noise in [-1, 1] for a series (seed) and a time bucket (default 30 s)."""
    return _NOISE[(int(t // bucket) * 40503 + seed) & 8191]


def steady(base: float, seed: int, *, amplitude: float = 0.4, jitter: float = 0.05) -> ValueFn:
    """A rate or value with the daily rhythm and a little noise."""
    table = _NOISE
    sine = _sine

    def fn(t: float) -> float:
        return base * (1.0 + amplitude * sine(t)) * (1.0 + jitter * table[(int(t // 30) * 40503 + seed) & 8191])

    return fn


def scaled(fn: ValueFn, factor: float) -> ValueFn:
    """fn times a constant factor."""
    return lambda t: fn(t) * factor


class constant:
    """A value that never changes; the backfill writes it without calling it per sample."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, _t: float) -> float:
        return self.value


def stable_seed(text: str) -> int:
    """A seed that does not change between runs (str hash does)."""
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h
