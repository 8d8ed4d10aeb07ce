"""Typed results of the Prometheus HTTP API (no HTTP here, only shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Labels = dict[str, str]


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
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class InstantResult:
    """Result of /api/v1/query: a vector (possibly empty) or a scalar folded into one sample."""

    result_type: Literal["vector", "scalar", "string", "matrix"]
    samples: list[Sample]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RangeResult:
    """Result of /api/v1/query_range."""

    series: list[RangeSeries]
    warnings: list[str] = field(default_factory=list)
