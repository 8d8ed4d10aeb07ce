"""Fold the Falco view's typed query results into what it shows (sums by rule and priority)."""

from __future__ import annotations

from collections import defaultdict

from promsoc.prom.types import RangeSeries, Sample
from promsoc.tui.backend import Delivery, FalcoSummary, Points, RuleCount

TOP_RULES = 10


def _sum_series(series: list[RangeSeries], label: str) -> dict[str, Points]:
    totals: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for item in series:
        name = item.labels.get(label, "?")
        for stamp, value in item.points:
            if value == value:
                totals[name][stamp] += value
    return {name: sorted(points.items()) for name, points in totals.items()}


def _sum_samples(samples: list[Sample], label: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for sample in samples:
        if sample.value == sample.value:
            totals[sample.labels.get(label, "?")] += sample.value
    return totals


def summarise(
    over_time: list[RangeSeries],
    now: list[Sample],
    hour_ago: list[Sample],
    day_ago: list[Sample],
    ok: list[Sample],
    error: list[Sample],
    dropped: list[Sample],
    instances: list[Sample],
) -> FalcoSummary:
    by_now = _sum_samples(now, "rule")
    by_hour = _sum_samples(hour_ago, "rule")
    by_day = _sum_samples(day_ago, "rule")
    ranked = sorted(by_now, key=lambda r: (-by_now[r], r))[:TOP_RULES]
    oks = _sum_samples(ok, "destination")
    errors = _sum_samples(error, "destination")
    notes = [] if instances else ["no Falco instance is reporting: Falco may be blind or gone"]
    return FalcoSummary(
        by_rule=_sum_series(over_time, "rule"),
        by_priority=_sum_series(over_time, "priority"),
        top_rules=[RuleCount(r, by_now[r], by_hour.get(r, 0.0), by_day.get(r, 0.0)) for r in ranked],
        deliveries=[Delivery(d, oks.get(d, 0.0), errors.get(d, 0.0)) for d in sorted(set(oks) | set(errors))],
        dropped_events=sum(s.value for s in dropped if s.value == s.value) if dropped else None,
        instances=len(instances),
        notes=notes,
    )
