"""Detector parameters: each one's kind is declared once, by its default in the pack.

A parameter is pasted into PromQL, so a value must be of its default's kind, checked when the
pack or the config loads (never at 3 a.m., never in an exported alert):

- a number (`min_rate: 0.2`): finite, at most 1e15 in size, and not negative when the default
  is not negative;
- a Prometheus duration (`window: 5m`, `remember: 6h`): `1h30m`-style units in order, more
  than zero and at most 10 years;
- any other text is a label-value regex (`status: "404"`, `resources: "secrets|roles"`): it must
  compile, without look-around (RE2 has none), quotes, backslashes, braces, backticks or line
  breaks, so it cannot leave the `"..."` it is pasted into.
"""

from __future__ import annotations

import math
import re

from promsoc.times import TimeError, parse_duration

ParamValue = float | int | str

MAX_DURATION_SECONDS = 10 * 31536000
MAX_NUMBER = 1e15
_NOT_IN_REGEX = re.compile(r'["\\{}`\r\n\x00]')
_LOOK_AROUND = re.compile(r"\(\?<?[=!]")


def duration_seconds(text: str) -> float | None:
    """A Prometheus duration (`5m`, `1h30m`, `500ms`) in seconds; None if it is not one."""
    try:
        return parse_duration(text)
    except TimeError:
        return None


def kind_of(default: ParamValue) -> str:
    """`number`, `duration` or `regex`: what a parameter with this default accepts."""
    if isinstance(default, int | float) and not isinstance(default, bool):
        return "number"
    return "duration" if duration_seconds(str(default)) is not None else "regex"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def check_param(value: object, default: ParamValue) -> ParamValue:
    """`value` if it is of `default`'s kind and in range; ValueError saying why otherwise."""
    kind = kind_of(default)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {_shown(value)}")
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise ValueError(f"expected a finite number up to {MAX_NUMBER:g}, got {_shown(value)}")
        if value < 0 <= float(default):
            raise ValueError(f"must not be negative, got {_shown(value)}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected text ({kind}), got {_shown(value)}")
    if kind == "duration":
        seconds = duration_seconds(value)
        if seconds is None:
            raise ValueError(f"expected a Prometheus duration like 5m or 1h30m, got {_shown(value)}")
        if not 0 < seconds <= MAX_DURATION_SECONDS:
            raise ValueError(f"must be more than zero and at most 10y, got {_shown(value)}")
        return value
    if _NOT_IN_REGEX.search(value) or _LOOK_AROUND.search(value):
        raise ValueError(
            "expected a label-value regex without quotes, backslashes, braces, backticks, "
            f"line breaks or look-around, got {_shown(value)}"
        )
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regex ({exc}): {_shown(value)}") from None
    return value


__all__ = ["MAX_DURATION_SECONDS", "MAX_NUMBER", "ParamValue", "check_param", "duration_seconds", "kind_of"]
