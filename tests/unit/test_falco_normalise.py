"""Priority normalisation: one label_replace per name maps exactly what the old two passes did."""

from __future__ import annotations

import re

import pytest

from promsoc.promql.falco import PRIORITIES, SIDEKICK_NUMBERS, _names_pattern, normalise_priority

_STEP = re.compile(r'"priority", "([a-z]+)", "priority", "([^"]+)"\)')


def _apply(promql: str, value: str) -> str:
    """Run the chain's label_replace steps (innermost first, i.e. in text order) on one value."""
    for name, pattern in _STEP.findall(promql):
        if re.fullmatch(f"(?:{pattern})", value):
            value = name
    return value


def _reference(value: str, numeric: str) -> str:
    """The previous algorithm: every name's spellings first, then every number."""
    for name in PRIORITIES:
        if re.fullmatch(f"(?:{_names_pattern(name)})", value):
            value = name
    numbers: dict[int, str] = {}
    if numeric == "falco":
        numbers = dict(enumerate(PRIORITIES))
    elif numeric == "sidekick":
        numbers = dict(SIDEKICK_NUMBERS)
    for number, name in numbers.items():
        if value == str(number):
            value = name
    return value


@pytest.mark.parametrize("numeric", ["falco", "sidekick", "none"])
def test_merged_chain_matches_the_two_pass_reference(numeric: str) -> None:
    promql = normalise_priority("x", numeric)
    values = [str(n) for n in range(-1, 12)] + ["", "default", "Default", "info", "INFO", "Info", "iNfo", "10"]
    for name in PRIORITIES:
        values += [name, name.capitalize(), name.upper(), name.title() + "x", name[:3]]
    for value in values:
        assert _apply(promql, value) == _reference(value, numeric), (numeric, value)


@pytest.mark.parametrize("numeric", ["falco", "sidekick", "none"])
def test_restricted_chain_agrees_wherever_the_filter_keeps_the_series(numeric: str) -> None:
    """critical_matches normalises only the names it keeps: same result on those, none elsewhere."""
    kept = ("emergency", "alert", "critical")
    promql = normalise_priority("x", numeric, kept)
    values = [str(n) for n in range(-1, 12)] + ["", "default", "info", "INFO", "Critical", "CRITICAL"]
    for name in PRIORITIES:
        values += [name, name.capitalize(), name.upper()]
    for value in values:
        full, restricted = _reference(value, numeric), _apply(promql, value)
        assert (full in kept) == (restricted in kept), (numeric, value)
        if full in kept:
            assert restricted == full
