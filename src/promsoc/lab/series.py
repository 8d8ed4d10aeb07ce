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
    key: str = field(default="", init=False)
    text: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.text = render_series(self.name, self.labels)
        self.key = f"{self.text}@{self.start}"

    def present(self, t: float) -> bool:
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


def diurnal(t: float, amplitude: float = 0.4) -> float:
    """The daily rhythm: 1 ± amplitude, lowest around 03:00 UTC, highest around 15:00 UTC."""
    return 1.0 + amplitude * math.sin(2 * math.pi * ((t % DAY) / DAY - 0.375))


def noise(seed: int, t: float, bucket: float = 30.0) -> float:
    """Deterministic noise in [-1, 1] for a series (seed) and a 30-second time bucket."""
    x = (int(t // bucket) * 2654435761 + seed * 40503 + 12345) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 1274126177) & 0xFFFFFFFF
    x ^= x >> 16
    return x / 2147483647.5 - 1.0


def steady(base: float, seed: int, *, amplitude: float = 0.4, jitter: float = 0.05) -> ValueFn:
    """A rate or value with the daily rhythm and a little noise."""

    def fn(t: float) -> float:
        return base * diurnal(t, amplitude) * (1.0 + jitter * noise(seed, t))

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
