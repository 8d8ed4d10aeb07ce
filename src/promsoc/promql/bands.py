"""Band and outlier PromQL builders, shared by the detectors and the console's charts.

Every builder takes a *signal* (any PromQL expression) and returns a `BandQueries`: the upper
(and, where it means something, lower) bound as PromQL. A detector fires on
`signal > upper`; a chart draws signal, upper and lower over the same range, so the
console and the alert agree by construction.

Why the group builders differ from the talk's `avg + k*stddev`: for one outlier among n
members its z-score is at most sqrt(n-1) (PromQL's stddev is the population one), so
`k = 3` can never fire for n < 11. The median of 3 or more members does not move
when one of them runs away, so `group_median_ratio_band` and `group_mad_band` catch one
compromised pod among 3 replicas as well as among 50; `group_loo_band` compares each
member with the mean and stddev of the *others* (leave-one-out).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from promsoc.times import is_duration, parse_duration

# Seasonal comparison points: the talk's (1h, 2h ago) and the daily/weekly ones.
SEASONS_HOURLY = ("1h", "2h")
SEASONS_DAY_WEEK = ("1d", "1w")
MAD_TO_SIGMA = 1.4826  # MAD * 1.4826 estimates the stddev of normally distributed data

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BandQueries:
    """A band as PromQL: upper/lower bound queries for a signal; `by` names a group band's labels."""

    kind: str
    upper: str
    lower: str | None
    description: str
    by: tuple[str, ...] | None = None
    terms: tuple[str, ...] = ()
    """The band's building blocks over the signal's past (a time or seasonal band's mean and
    stddev), spelled exactly as in `upper`/`lower`: what recording rules can record."""
    reach: float = 0.0
    """How far back (seconds) those terms read the signal: a recorded signal must be that old."""
    params: tuple[tuple[str, float], ...] = ()
    """The numbers it was built with, where promsoc can apply the band itself (detectors.local_band)."""


def _duration(value: str) -> str:
    if not is_duration(value):
        raise ValueError(f"{value!r} is not a Prometheus duration like 5m, 1h or 1w")
    return value


def _labels(by: Sequence[str]) -> str:
    for name in by:
        if not _LABEL.match(name):
            raise ValueError(f"{name!r} is not a Prometheus label name")
    return ", ".join(by)


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def threshold_band(value: float, lower: float | None = None) -> BandQueries:
    """A constant line: the band of detectors that compare with a fixed threshold."""
    return BandQueries(
        kind="threshold",
        upper=f"vector({_num(value)})",
        lower=None if lower is None else f"vector({_num(lower)})",
        description=f"threshold {_num(value)}",
    )


def time_band(
    signal: str,
    window: str = "1h",
    step: str = "5m",
    k: float = 3,
    skip: str = "0s",
    min_ratio: float | None = None,
) -> BandQueries:
    """The talk's time band: mean ± k·stddev of the signal over the last `window`.

    `skip` leaves out the most recent stretch so that an ongoing anomaly does not widen
    its own band; `min_ratio` scales the mean in the upper bound (min_ratio * mean + k * stddev),
    so a flat history (stddev near 0) does not turn small wobbles into alerts.
    """
    sub = f"({signal})[{_duration(window)}:{_duration(step)}]"
    if _duration(skip) not in ("0s", "0m"):
        sub += f" offset {skip}"
    mean, dev = f"avg_over_time({sub})", f"stddev_over_time({sub})"
    upper = f"({mean} + {_num(k)} * {dev})"
    description = f"mean ± {_num(k)}σ over {window}"
    if min_ratio is not None:
        upper = f"({_num(min_ratio)} * {mean} + {_num(k)} * {dev})"
        description = f"{_num(min_ratio)} × mean + {_num(k)}σ over {window}"
    return BandQueries(
        kind="time",
        upper=upper,
        lower=f"({mean} - {_num(k)} * {dev})",
        description=description,
        terms=(mean, dev),
        reach=parse_duration(window) + parse_duration(skip),
    )


def _profile(signal: str, offsets: Sequence[str]) -> str:
    """The signal as it was at each offset, tagged `tsprofile` (the talk's trick)."""
    parts = [
        f'label_replace(last_over_time(({signal})[1m:1m] offset {_duration(o)}), '
        f'"tsprofile", "{o}", "", "")'
        for o in offsets
    ]
    return "(" + " or ".join(parts) + ")"


def seasonal_band(
    signal: str, offsets: Sequence[str] = SEASONS_HOURLY, k: float = 2
) -> BandQueries:
    """Seasonal band: mean ± k·stddev of the same signal 1h and 2h ago (or 1d and 1w ago)."""
    if not offsets:
        raise ValueError("a seasonal band needs at least one offset")
    profile = _profile(signal, offsets)
    mean = f"avg without (tsprofile) {profile}"
    dev = f"stddev without (tsprofile) {profile}"
    return BandQueries(
        kind="seasonal",
        upper=f"({mean} + {_num(k)} * {dev})",
        lower=f"({mean} - {_num(k)} * {dev})",
        description=f"mean ± {_num(k)}σ of {', '.join(offsets)} ago",
        terms=(mean, dev),
        reach=max(parse_duration(o) for o in offsets) + 60,  # each point: the last minute before it
    )


def group_quantile_band(
    signal: str, by: Sequence[str], low: float = 0.05, high: float = 0.95
) -> BandQueries:
    """Top/bottom quantiles of a group (the talk's 'detect 5% anomalies')."""
    grp = _labels(by)
    return BandQueries(
        kind="group_quantile",
        upper=f"quantile by ({grp}) ({_num(high)}, {signal})",
        lower=f"quantile by ({grp}) ({_num(low)}, {signal})",
        description=f"group quantiles {_num(low)}–{_num(high)}",
        by=tuple(by),
    )


def group_zscore_band(signal: str, by: Sequence[str], k: float = 3) -> BandQueries:
    """The talk's group band: avg ± k·stddev across the group (blind for n < k²+1)."""
    grp = _labels(by)
    mean, dev = f"avg by ({grp}) ({signal})", f"stddev by ({grp}) ({signal})"
    return BandQueries(
        kind="group_zscore",
        upper=f"({mean} + {_num(k)} * {dev})",
        lower=f"({mean} - {_num(k)} * {dev})",
        description=f"group mean ± {_num(k)}σ",
        by=tuple(by),
    )


def group_median_ratio_band(
    signal: str, by: Sequence[str], ratio: float = 3, floor: float = 0
) -> BandQueries:
    """Upper bound `ratio * median + floor` of the group: one runaway member cannot move it."""
    grp = _labels(by)
    median = f"quantile by ({grp}) (0.5, {signal})"
    return BandQueries(
        kind="group_median_ratio",
        upper=f"({_num(ratio)} * {median} + {_num(floor)})",
        lower=f"({median} / {_num(ratio)})",
        description=f"{_num(ratio)} × group median + {_num(floor)}",
        by=tuple(by),
        params=(("ratio", float(ratio)), ("floor", float(floor))),
    )


def group_mad_band(signal: str, by: Sequence[str], k: float = 3, floor: float = 0) -> BandQueries:
    """Robust z-score band: median ± max(k·1.4826·MAD, floor) across the group."""
    grp = _labels(by)
    median = f"quantile by ({grp}) (0.5, {signal})"
    mad = f"quantile by ({grp}) (0.5, abs(({signal}) - on ({grp}) group_left () {median}))"
    spread = f"clamp_min({_num(k * MAD_TO_SIGMA)} * {mad}, {_num(floor)})"
    return BandQueries(
        kind="group_mad",
        upper=f"({median} + {spread})",
        lower=f"({median} - {spread})",
        description=f"group median ± {_num(k)} robust σ (min {_num(floor)})",
        by=tuple(by),
    )


def group_loo_band(signal: str, by: Sequence[str], k: float = 3, floor: float = 0) -> BandQueries:
    """Leave-one-out band per member: mean ± k·stddev of the *other* members (n ≥ 3)."""
    grp = _labels(by)
    x = f"({signal})"
    n = f"on ({grp}) group_left count by ({grp}) {x}"
    total = f"on ({grp}) group_left sum by ({grp}) {x}"
    squares = f"on ({grp}) group_left sum by ({grp}) ({x} ^ 2)"
    mean = f"((({x} * 0) + {total} - {x}) / (({x} * 0) + {n} - 1))"
    var = f"((({x} * 0) + {squares} - {x} ^ 2) / (({x} * 0) + {n} - 1) - {mean} ^ 2)"
    dev = f"clamp_min(sqrt(clamp_min({var}, 0)) * {_num(k)}, {_num(floor)})"
    return BandQueries(
        kind="group_loo",
        upper=f"({mean} + {dev})",
        lower=f"({mean} - {dev})",
        description=f"others' mean ± {_num(k)}σ (min {_num(floor)})",
        by=None,
    )


def above(signal: str, band: BandQueries) -> str:
    """The members of `signal` above the band's upper bound (group bands joined on `by`)."""
    if band.by is not None:
        return f"({signal}) > on ({_labels(band.by)}) group_left () {band.upper}"
    return f"({signal}) > {band.upper}"


def below(signal: str, band: BandQueries) -> str:
    """The members of `signal` below the band's lower bound."""
    if band.lower is None:
        raise ValueError(f"a {band.kind} band has no lower bound")
    if band.by is not None:
        return f"({signal}) < on ({_labels(band.by)}) group_left () {band.lower}"
    return f"({signal}) < {band.lower}"


def _string(value: str) -> str:
    """A PromQL double-quoted string literal: hostile label values stay inert."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def select(expr: str, labels: dict[str, str]) -> str:
    """`expr` restricted to the series whose labels equal `labels` (a chart's one finding)."""
    if not labels:
        return expr
    vec = "vector(1)"
    for name, value in sorted(labels.items()):
        _labels([name])
        replacement = value.replace("$", "$$")
        vec = f'label_replace({vec}, "{name}", {_string(replacement)}, "", "")'
    return f"({expr}) and on ({_labels(sorted(labels))}) {vec}"
