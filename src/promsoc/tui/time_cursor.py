"""The console's time cursor: live, or "as of" a past moment, moved in fixed steps."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

LIVE_SLACK = 60.0  # stepping forward to within a minute of now is back to live

STEPS: tuple[tuple[str, float], ...] = (
    ("5m", 300.0),
    ("1h", 3600.0),
    ("1d", 86400.0),
    ("1w", 604800.0),
)


@dataclass(frozen=True)
class Cursor:
    """Where every view evaluates: `at` is None for live, else Unix seconds; step indexes STEPS."""

    at: float | None = None
    step_index: int = 0

    @property
    def live(self) -> bool:
        return self.at is None

    @property
    def step_name(self) -> str:
        return STEPS[self.step_index][0]

    @property
    def step(self) -> float:
        return STEPS[self.step_index][1]

    def eval_time(self, now: float) -> float:
        """The moment to evaluate at: the cursor, or now when live."""
        return now if self.at is None else self.at

    def back(self, now: float) -> Cursor:
        return Cursor(self.eval_time(now) - self.step, self.step_index)

    def forward(self, now: float) -> Cursor:
        """One step later; reaching (about) now returns to live rather than into the future."""
        if self.at is None:
            return self
        target = self.at + self.step
        return Cursor(None if target >= now - LIVE_SLACK else target, self.step_index)

    def coarser(self) -> Cursor:
        return Cursor(self.at, min(self.step_index + 1, len(STEPS) - 1))

    def finer(self) -> Cursor:
        return Cursor(self.at, max(self.step_index - 1, 0))

    def to_live(self) -> Cursor:
        return Cursor(None, self.step_index)

    def jump(self, at: float, now: float) -> Cursor:
        return Cursor(None if at >= now else at, self.step_index)


def format_utc(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))


def format_ago(seconds: float) -> str:
    """A compact signed age such as -2h or -1d 3h (U+2212 as the minus, so it reads as a sign)."""
    seconds = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return "−" + (" ".join(parts) if parts else "0m")


def describe(cursor: Cursor, now: float) -> str:
    """The header's words: LIVE, or AS OF <UTC> (-age)."""
    if cursor.at is None:
        return "LIVE"
    return f"AS OF {format_utc(cursor.at)} ({format_ago(now - cursor.at)})"


_ABSOLUTE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|z|UTC|utc)?$")
_RELATIVE = re.compile(r"^[-−]\s*((?:\d+[wdhms])+)$")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class TimeParseError(ValueError):
    """What the user typed is not a time the cursor understands."""


LAST_MOMENT = 7258118400.0  # 2200-01-01T00:00:00Z


def parse_moment(text: str, now: float) -> float:
    """Typed time -> Unix seconds: `2026-11-28 03:12` (UTC), RFC 3339, Unix seconds or -2h.

    NaN, infinities and moments outside 1970-2200 are refused: the cursor could not show them."""
    try:
        stamp = _parse_moment(text, now)
    except TimeParseError:
        raise
    except (ValueError, OverflowError):  # e.g. a 5,000-digit number
        raise TimeParseError(f"{text.strip()[:40]!r} is not a time") from None
    if not 0 <= stamp < LAST_MOMENT:  # also false for NaN
        raise TimeParseError(f"{text.strip()[:40]!r} is not a moment between 1970 and 2200")
    return stamp


def _parse_moment(text: str, now: float) -> float:
    value = text.strip()
    if not value:
        raise TimeParseError("empty time")
    relative = _RELATIVE.match(value)
    if relative:
        total = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([wdhms])", relative.group(1)))
        return now - total
    match = _ABSOLUTE.match(value)
    if match:
        year, month, day = (int(match.group(i)) for i in (1, 2, 3))
        hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
        try:
            if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
                raise ValueError
            return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
        except (ValueError, OverflowError):
            raise TimeParseError(f"{value!r} is not a valid date and time") from None
    try:
        return float(value)
    except ValueError:
        raise TimeParseError(
            f"{value!r}: type 2026-11-28 03:12 (UTC), 2026-11-28T03:12:00Z, Unix seconds or -2h"
        ) from None
