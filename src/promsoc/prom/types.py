"""Typed results of the Prometheus HTTP API (no HTTP here, only shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Labels = dict[str, str]
Points = list[tuple[float, float]]
"""(Unix seconds, value) pairs, oldest first."""


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector: its labels and the value at the evaluation time."""

    labels: Labels
    value: float
    timestamp: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and (timestamp, value) points."""

    labels: Labels
    points: Points


@dataclass(frozen=True)
class InstantResult:
    """Result of /api/v1/query: a vector (possibly empty) or a scalar folded into one sample."""

    result_type: Literal["vector", "scalar", "string", "matrix"]
    samples: list[Sample]
    warnings: list[str] = field(default_factory=list)
    omitted: int = 0
    """Series of the answer past the caller's cap (`max_series`), read but not kept."""


@dataclass(frozen=True)
class RangeResult:
    """Result of /api/v1/query_range."""

    series: list[RangeSeries]
    warnings: list[str] = field(default_factory=list)
    omitted: int = 0
    """Series of the answer past the caller's cap (`max_series`), read but not kept."""


class QueryClient(Protocol):
    """What the domain asks of a Prometheus client: `prom.client.PromClient` is one, the hub's
    shared clients are, and so is any test's scripted client."""

    async def query(self, promql: str, at: float | None = None) -> InstantResult: ...

    async def query_range(self, promql: str, start: float, end: float, step: float | str) -> RangeResult: ...
