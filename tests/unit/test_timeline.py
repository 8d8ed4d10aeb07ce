"""The timeline's pure parts: steps, chunks, firing runs -> intervals, no_data over a range."""

from __future__ import annotations

import math

import pytest

from promsoc.cli.common import CliError, parse_moment
from promsoc.cli.timeline import glue_relative_times
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.timeline import (
    CHUNK_STEPS,
    MAX_STEPS,
    Range,
    _joined,
    _verdict,
    default_step,
    intervals,
    make_range,
)
from promsoc.prom.types import RangeResult, RangeSeries

T0 = 1_800_000_000.0  # a multiple of 60


def series(labels: dict[str, str], steps: list[int], values: list[float] | None = None,
           step: float = 60) -> RangeSeries:
    values = values or [1.0] * len(steps)
    return RangeSeries(labels, [(T0 + i * step, v) for i, v in zip(steps, values, strict=True)])


@pytest.mark.parametrize(("span", "step"), [
    (600, 30), (3600, 30), (12 * 3600, 30), (86400, 60), (7 * 86400, 600), (90 * 86400, 7200), (400 * 86400, 43200)])
def test_default_step_is_nice_and_keeps_under_the_cap(span: float, step: float) -> None:
    assert default_step(T0, T0 + span) == step
    assert span / step < MAX_STEPS


def test_range_is_aligned_to_the_step_and_counts_both_ends() -> None:
    span = make_range(T0 + 5, T0 + 3600 + 5, 60)
    assert (span.start, span.end, span.steps) == (T0 + 60, T0 + 3600, 60)
    assert span.moments()[:2] == [T0 + 60, T0 + 120]


def test_range_refuses_empty_and_oversized_ranges() -> None:
    with pytest.raises(ValueError, match="empty"):
        make_range(T0, T0)
    with pytest.raises(ValueError, match="at most 11000"):
        make_range(T0, T0 + 86400, 1)


def test_chunks_cover_every_step_once() -> None:
    span = Range(T0, T0 + 999 * 60, 60)
    parts = span.chunks()
    assert [p.steps for p in parts] == [CHUNK_STEPS] * 4 + [1000 - 4 * CHUNK_STEPS]
    assert [m for p in parts for m in p.moments()] == span.moments()


def test_consecutive_firing_steps_make_one_interval_with_its_findings_and_peak() -> None:
    result = RangeResult([
        series({"host": "a"}, [3, 4, 5], [0.4, 0.9, 0.5]),
        series({"host": "b"}, [5, 6], [0.35, 0.3]),
        series({"host": "a"}, [10], [0.31]),
    ])
    found = intervals(result, 60)
    assert [(i.start, i.end) for i in found] == [(T0 + 180, T0 + 360), (T0 + 600, T0 + 600)]
    assert found[0].peak == 0.9 and found[0].low == 0.3
    assert found[0].findings == [{"host": "a"}, {"host": "b"}]
    assert found[1].findings == [{"host": "a"}]


def test_nan_points_are_not_firing() -> None:
    result = RangeResult([series({}, [1, 2, 3], [1.0, math.nan, 2.0])])
    assert [(i.start, i.end) for i in intervals(result, 60)] == [(T0 + 60, T0 + 60),
                                                                 (T0 + 180, T0 + 180)]


def test_chunked_results_join_series_by_labels() -> None:
    first = RangeResult([series({"a": "1"}, [0, 1])], ["w"])
    second = RangeResult([series({"a": "1"}, [2]), series({"a": "2"}, [2])], ["w"])
    joined = _joined([first, second])
    assert [len(s.points) for s in joined.series] == [3, 1] and joined.warnings == ["w"]
    assert [(i.start, i.end) for i in intervals(joined, 60)] == [(T0, T0 + 120)]


def test_no_data_only_when_requirements_are_absent_at_every_step() -> None:
    det = next(d for d in load_detectors() if d.id == "container-cpu-outlier")
    half = RangeResult([series({"__name__": "container_cpu_usage_seconds_total"}, [0, 1, 2])])
    assert _verdict(det, half).missing == ("kube_pod_owner",)
    assert _verdict(det, RangeResult([])).missing == ("container_cpu_usage_seconds_total", "kube_pod_owner")
    both = RangeResult([*half.series, series({"__name__": "kube_pod_owner"}, [2])])
    assert _verdict(det, both).missing == ()
    apart = RangeResult([series({"__name__": "container_cpu_usage_seconds_total"}, [0]),
                         series({"__name__": "kube_pod_owner"}, [1])])
    assert _verdict(det, apart).missing != ()  # never both at the same step


def test_relative_times_and_their_errors() -> None:
    assert parse_moment("now", T0, "--to") == T0
    assert parse_moment("-8h", T0, "--from") == T0 - 8 * 3600
    assert parse_moment("-1d12h", T0, "--from") == T0 - 36 * 3600
    assert parse_moment("2027-01-15T08:00:00Z", T0, "--from") == 1_800_000_000
    with pytest.raises(CliError, match="neither RFC 3339"):
        parse_moment("-5", T0, "--from")  # Unix seconds are never negative: a typo
    with pytest.raises(CliError, match=r"^--from: '-300y' is not a time before now"):
        parse_moment("-300y", T0, "--from")
    with pytest.raises(CliError, match=r"^--from: '-8x' is not a time before now like -8h"):
        parse_moment("-8x", T0, "--from")
    with pytest.raises(CliError, match=r"^--to: 'soon' is not a time: neither"):
        parse_moment("soon", T0, "--to")


def test_relative_times_survive_argparse() -> None:
    assert glue_relative_times(["timeline", "--from", "-8h", "--to", "now", "--step", "1m"]) == [
        "timeline", "--from=-8h", "--to", "now", "--step", "1m"]
