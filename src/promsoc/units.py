"""Detector values with their units, printed for people: "62 %", "4.9 MB/s", "expires in 3 d".

Every detector declares the unit of its value (`unit:` in its pack); the scan table, the
timeline, the console's tiles, tables and chart axes all print through `human` (or `axis`
for tick labels), and the JSON keeps the raw number beside the unit's name. Pure text, no
Textual, so the headless commands and the console print the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit name as written in a pack, what it measures, whether values stay >= 0, and
    whether a detector of it fires on low values (time left, age) rather than high ones."""

    name: str
    meaning: str
    non_negative: bool = True
    lower_is_worse: bool = False


UNITS: dict[str, Unit] = {
    unit.name: unit
    for unit in (
        Unit("none", "a plain number", non_negative=False),
        Unit("count", "a count"),
        Unit("requests", "requests in the detector's window"),
        Unit("events", "events in the detector's window"),
        Unit("requests_per_second", "requests per second"),
        Unit("per_second", "per second"),
        Unit("ratio", "a share (0 to 1, printed as a percentage)"),
        Unit("bytes", "bytes"),
        Unit("bytes_per_second", "bytes per second"),
        Unit("cores", "CPU cores"),
        Unit("seconds", "a duration in seconds"),
        Unit("seconds_until_expiry", "seconds until expiry (negative: already expired)",
             non_negative=False, lower_is_worse=True),
        Unit("seconds_since_creation", "seconds since creation", lower_is_worse=True),
    )
}
DEFAULT = "none"

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def known(name: str) -> bool:
    """Whether a pack may declare this unit."""
    return name in UNITS


def non_negative(name: str) -> bool:
    """Signals of this unit never go below 0 (a chart's axis should not either)."""
    unit = UNITS.get(name)
    return unit.non_negative if unit else False


def lower_is_worse(name: str) -> bool:
    """Whether the worst value of this unit is the lowest (expiry, age), not the highest."""
    unit = UNITS.get(name)
    return unit.lower_is_worse if unit else False


def _digits(value: float) -> str:
    """Two significant digits below 10, whole numbers above: 0.52, 4.9, 62, 1234."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 9.95:
        return f"{value:.0f}"
    if magnitude >= 1:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    return f"{value:.2g}"


def si(value: float, suffix: str = "") -> str:
    """Decimal multiples: 4_900_000 -> '4.9 M' + suffix; below 1000 the plain number."""
    for factor, prefix in _SI:
        if abs(value) >= factor * 0.9995:
            return f"{_digits(value / factor)} {prefix}{suffix}"
    return f"{_digits(value)} {suffix}".rstrip()


def duration(seconds: float) -> str:
    """A span for people: '87 s', '12 min', '5 h', '3 d' (whole units above a minute)."""
    span = abs(seconds)
    if span < 120:
        return f"{span:.0f} s"
    if span < 2 * 3600:
        return f"{span / 60:.0f} min"
    if span < 2 * 86400:
        return f"{span / 3600:.0f} h"
    return f"{span / 86400:.0f} d"


def human(value: float, unit: str = DEFAULT) -> str:
    """The value as a person reads it, unit included ('62 %', '4.9 MB/s', 'created 87 s ago')."""
    if math.isnan(value):
        return "no value"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit == "ratio":
        percent = value * 100
        text = f"{percent:.1f}" if abs(percent) < 10 and not float(percent).is_integer() else f"{percent:.0f}"
        return f"{text} %"
    if unit == "bytes":
        return si(value, "B")
    if unit == "bytes_per_second":
        return si(value, "B/s")
    if unit == "requests_per_second":
        return si(value, "req/s")
    if unit == "per_second":
        return si(value, "/s")
    if unit == "cores":
        word = "core" if _digits(value) == "1" else "cores"
        return f"{_digits(value)} {word}"
    if unit in ("count", "requests", "events"):
        noun = {"count": "", "requests": " requests", "events": " events"}[unit]
        number = f"{value:.0f}" if abs(value - round(value)) < 0.05 else _digits(value)
        if abs(value) >= 10_000:
            number = si(value).replace(" ", "")
        return number + noun
    if unit == "seconds":
        return duration(value)
    if unit == "seconds_until_expiry":
        return f"expires in {duration(value)}" if value >= 0 else f"expired {duration(value)} ago"
    if unit == "seconds_since_creation":
        return f"created {duration(value)} ago"
    return f"{value:.4g}"


def short(value: float, unit: str = DEFAULT) -> str:
    """A compact form for narrow places (a tile's corner, a lane): '62%', '4.9MB/s', '3d'."""
    if math.isnan(value) or math.isinf(value):
        return human(value, unit)
    if unit in ("seconds", "seconds_until_expiry", "seconds_since_creation"):
        text = duration(value).replace(" ", "")
        if unit == "seconds_until_expiry" and value < 0:
            return f"-{text}"
        return text
    if unit == "cores":
        return _digits(value) + "c"
    if unit in ("requests", "events", "count"):
        return human(value, "count")
    return human(value, unit).replace(" ", "")


def axis(value: float, unit: str = DEFAULT) -> str:
    """A chart tick label: as short as `short`, without words."""
    if unit == "requests_per_second":
        return si(value, "/s").replace(" ", "")
    return short(value, unit)


def meaning(unit: str) -> str:
    """What a unit measures, for help texts and the detector view."""
    found = UNITS.get(unit)
    return found.meaning if found else "a plain number"
