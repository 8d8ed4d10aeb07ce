"""Times and durations: the one parser of what a person types or a config says, and the one
RFC 3339 formatter.

A time is RFC 3339 (`2026-11-28T03:12:00Z`, `2026-11-28T04:12:00+01:00`, fractions allowed),
the same with a space and without seconds or zone (`2026-11-28 03:12`, UTC), a date alone, or
Unix seconds (`1795835520`, `1795835520.5`). Impossible dates and times are refused, never
rolled over: no February 30th, no hour 25, no offset beyond ±23:59, no digit separators
(`1_000`), no exponents, NaN or infinities, and no year outside 1970-2200 (the contract prints
every time as RFC 3339, which has four-digit years). A duration is Prometheus's own syntax:
units from years down to milliseconds, each at most once, in that order (`1h30m`, `500ms`).
"""

from __future__ import annotations

import calendar
import math
import re
import time
from datetime import UTC, datetime

FIRST_MOMENT = 0.0
"""1970-01-01T00:00:00Z."""
LAST_MOMENT = 7258118400.0
"""2200-01-01T00:00:00Z: later (or before 1970) is a typo, and would not print as RFC 3339."""

UNITS = {"y": 31536000.0, "w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_NUMBER = r"(\d{1,12}(?:\.\d{1,9})?)"
_PROM_DURATION = re.compile("^" + "".join(rf"(?:(\d{{1,12}}){unit})?" for unit in UNITS) + "$")
_FRACTIONAL_DURATION = re.compile("^" + "".join(rf"(?:{_NUMBER}{unit})?" for unit in UNITS) + "$")
_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?"
    r"\s*([Zz]|UTC|utc|[+-]\d{2}:?\d{2})?$"
)
_UNIX = re.compile(r"^\d{1,12}(?:\.\d{1,9})?$")
_BEFORE_NOW = re.compile(r"^[-−]\s*(\S+)$")


class TimeError(ValueError):
    """A time or duration that is not one, or is impossible; the text says which and why."""


def _quoted(text: str) -> str:
    return repr(text.strip()[:40])


def check_moment(stamp: float, text: str = "") -> float:
    """`stamp` if it is a finite moment in 1970-2200, else a TimeError."""
    shown = _quoted(text) if text else f"{stamp:g}"
    if not math.isfinite(stamp):
        raise TimeError(f"{shown} is not a time")
    if not FIRST_MOMENT <= stamp < LAST_MOMENT:
        raise TimeError(f"{shown} is a moment outside 1970-2200")
    return stamp


def parse_time(text: str) -> float:
    """RFC 3339 (or `YYYY-MM-DD[ HH:MM[:SS]]`, UTC) or Unix seconds -> Unix seconds."""
    value = text.strip()
    if _UNIX.match(value):
        return check_moment(float(value), text)
    match = _TIME.match(value)
    if not match:
        raise TimeError(f"{_quoted(text)} is not a time: neither RFC 3339 (2026-11-28T03:12:00Z) nor Unix seconds")
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
    if not 1 <= month <= 12:
        raise TimeError(f"{_quoted(text)}: there is no month {month}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise TimeError(f"{_quoted(text)}: {calendar.month_name[month]} {year} has no day {day}")
    if hour > 23 or minute > 59 or second > 59:
        raise TimeError(f"{_quoted(text)}: {hour:02d}:{minute:02d}:{second:02d} is not a time of day")
    stamp = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) + float(match.group(7) or 0)
    zone = match.group(8) or "Z"
    if zone not in ("Z", "z", "UTC", "utc"):
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise TimeError(f"{_quoted(text)}: {zone} is not a UTC offset (at most ±23:59)")
        stamp -= (1 if zone[0] == "+" else -1) * (hours * 3600 + minutes * 60)
    return check_moment(stamp, text)


def parse_duration(text: str, *, fractions: bool = False) -> float:
    """A Prometheus duration (`5m`, `1h30m`, `2d`, `500ms`) -> seconds; the caller bounds it.

    With `fractions` (settings such as a timeout), each number may have decimals (`1.5s`)."""
    value = text.strip()
    match = (_FRACTIONAL_DURATION if fractions else _PROM_DURATION).match(value)
    if not value or match is None:
        raise TimeError(f"{_quoted(text)} is not a Prometheus duration like 5m, 1h30m, 2d or 500ms")
    return sum(float(number) * unit for number, unit in zip(match.groups(), UNITS.values(), strict=True) if number)


def is_duration(text: str) -> bool:
    """Whether `text` is a Prometheus duration, safe to paste into PromQL."""
    return bool(text) and _PROM_DURATION.match(text) is not None


def parse_moment(text: str, now: float) -> float:
    """`now`, a duration before now (`-8h`, `-1h30m`), or a time as `parse_time` reads it."""
    value = text.strip()
    if value.lower() == "now":
        return now
    before = _BEFORE_NOW.match(value)
    if before and not _UNIX.match(before.group(1)):
        try:
            return check_moment(now - parse_duration(before.group(1)), text)
        except TimeError:
            raise TimeError(f"{_quoted(text)} is not a time before now like -8h, -2d or -1h30m") from None
    return parse_time(value)


def format_rfc3339(stamp: float, *, millis: bool = False) -> str:
    """Unix seconds -> RFC 3339 in UTC with a Z (with milliseconds if `millis`)."""
    if not millis:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    moment = datetime.fromtimestamp(stamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
