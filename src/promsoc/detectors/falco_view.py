"""The Falco view, decided in the domain: matches over time per rule and priority, the top rules
then and now, falcosidekick's deliveries, and whether Falco itself is reporting and dropping.

The console only draws the summary; the queries come from `promql.falco` (the same normalised
generations the detectors count).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from promsoc.prom.types import Points, QueryClient, RangeSeries, Sample
from promsoc.promql import falco
from promsoc.tasks import gather_all

HOUR, DAY = 3600.0, 86400.0


@dataclass(frozen=True)
class RuleCount:
    """A Falco rule's matches in the hour before the moment, an hour earlier and a day earlier."""

    rule: str
    now: float
    hour_ago: float
    day_ago: float


@dataclass(frozen=True)
class Delivery:
    """falcosidekick's deliveries to one destination in the hour before the moment."""

    destination: str
    ok: float
    error: float


@dataclass(frozen=True)
class FalcoSummary:
    """The Falco view: matches over time, top rules then and now, deliveries, and Falco's health."""

    by_rule: dict[str, Points] = field(default_factory=dict)
    by_priority: dict[str, Points] = field(default_factory=dict)
    top_rules: list[RuleCount] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    dropped_events: float | None = None
    instances: int | None = None
    notes: list[str] = field(default_factory=list)


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


async def falco_summary(client: QueryClient, at: float, window: float, step: float) -> FalcoSummary:
    """The summary at `at`: matches per 5 minutes over `window` (one point per `step`), the rest per hour."""
    over_time = client.query_range(falco.matches("5m"), at - window, at, step)
    instant = {
        "now": (falco.matches("1h"), at),
        "hour_ago": (falco.matches("1h"), at - HOUR),
        "day_ago": (falco.matches("1h"), at - DAY),
        "ok": (falco.outputs("ok", "1h"), at),
        "error": (falco.outputs("error", "1h"), at),
        "dropped": (falco.dropped("1h"), at),
        "instances": (falco.instances(), at),
    }
    ranged, answers = await gather_all(
        over_time, gather_all(*(client.query(q, when) for q, when in instant.values()))
    )
    got = {name: answer.samples for name, answer in zip(instant, answers, strict=True)}
    return summarise(
        ranged.series, got["now"], got["hour_ago"], got["day_ago"],
        got["ok"], got["error"], got["dropped"], got["instances"],
    )  # fmt: skip
