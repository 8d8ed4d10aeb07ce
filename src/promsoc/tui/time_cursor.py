"""The console's time cursor: live, or "as of" a past moment, moved in fixed steps."""

from __future__ import annotations

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
