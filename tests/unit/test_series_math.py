"""The sparkline envelope: linear band matching gives exactly what comparing every pair gave."""

from __future__ import annotations

import random

from promsoc.prom.types import RangeSeries
from promsoc.tui.backend import Points
from promsoc.tui.series_math import envelope


def all_pairs(signal: list[RangeSeries], upper: list[RangeSeries]) -> tuple[Points, Points]:
    """The former implementation: every signal series against every band series."""

    def matches(band: dict[str, str], series: dict[str, str]) -> bool:
        return all(series.get(k) == v for k, v in band.items() if k != "__name__")

    edges = [(u.labels, dict(u.points)) for u in upper]
    best: dict[float, tuple[float, float | None]] = {}
    for series in signal:
        own = [points for labels, points in edges if matches(labels, series.labels)]
        for stamp, value in series.points:
            if value != value or (stamp in best and best[stamp][0] >= value):
                continue
            best[stamp] = (value, next((p[stamp] for p in own if stamp in p), None))
    stamps = sorted(best)
    return [(t, best[t][0]) for t in stamps], [(t, e) for t in stamps if (e := best[t][1]) is not None]


def cluster(seed: int, pods: int) -> tuple[list[RangeSeries], list[RangeSeries]]:
    rng = random.Random(seed)
    stamps = [1000.0 + 15 * i for i in range(40)]
    signal = []
    for i in range(pods):
        labels = {"__name__": "ratio", "namespace": f"ns{i % 3}", "workload": f"w{i % 7}", "pod": f"p{i}"}
        if i % 11 == 0:
            labels.pop("namespace")  # a series without a band label matches no group band
        points = [(t, rng.choice([rng.random() * 10, float("nan")])) for t in stamps if rng.random() > 0.2]
        signal.append(RangeSeries(labels, points))
    upper = []
    for ns in range(3):
        for w in range(7):
            if rng.random() < 0.8:  # some groups have no band at all
                points = [(t, rng.random() * 10) for t in stamps if rng.random() > 0.3]
                upper.append(RangeSeries({"namespace": f"ns{ns}", "workload": f"w{w}"}, points))
    upper.append(RangeSeries({"__name__": "x", "namespace": "ns1"}, [(t, 99.0) for t in stamps[::3]]))
    upper.append(RangeSeries({}, [(t, 42.0) for t in stamps[::5]]))  # a threshold: applies to all
    upper.append(RangeSeries({"namespace": "ns1", "workload": "w1"}, [(t, 7.0) for t in stamps]))  # a duplicate
    return signal, upper


def test_linear_matching_equals_all_pairs_on_mixed_bands() -> None:
    for seed in range(20):
        signal, upper = cluster(seed, 60)
        assert envelope(signal, upper) == all_pairs(signal, upper), seed
        rng = random.Random(seed)
        rng.shuffle(upper)  # the first matching band in answer order wins, as before
        assert envelope(signal, upper) == all_pairs(signal, upper), seed


def test_per_series_bands_and_no_band() -> None:
    signal, _ = cluster(7, 30)
    own = [RangeSeries(dict(s.labels), [(t, v + 1) for t, v in s.points]) for s in signal]
    assert envelope(signal, own) == all_pairs(signal, own)
    points, edge = envelope(signal, [])
    assert edge == [] and points == all_pairs(signal, [])[0]


def test_five_thousand_series_are_matched_by_lookup() -> None:
    signal, upper = cluster(3, 5000)
    points, edge = envelope(signal, upper)
    assert len(points) == 40 and edge
    # each moment's line is the maximum over all series at that moment
    for stamp, value in points:
        assert value == max(v for s in signal for t, v in s.points if t == stamp and v == v)
