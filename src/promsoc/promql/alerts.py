"""Prometheus's own record of its alerting rules, for the alerts view at a past moment."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

FIRING = "ALERTS"
"""Every alert of every rule at the evaluation time, `alertstate` firing or pending."""
ACTIVE_SINCE = "ALERTS_FOR_STATE"
"""The same alerts (without `alertstate`), valued with the Unix time each became active."""

_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def of_source(matchers: Sequence[tuple[str, str, str]]) -> str:
    """The matcher list that asks `ALERTS` for a source's alerts by `alerts.SourceRule`: an alert
    without a label the source's selector names belongs to the source. Prometheus reads a missing
    label as the empty value, so each matcher (name, operator, unquoted value) becomes one that
    also matches the empty value: `cluster="a"` -> `cluster=~"a|"`, `cluster=~"a.*"` ->
    `cluster=~"(?:a.*)|"`; `cluster!="a"` already does and stays; `cluster!=""` says nothing and
    goes. `cluster!~"R"` stays when R does not match the empty value and goes when it does (no
    one regex says "empty or not R" then): the answer is then wider, and the rule's own test
    (`SourceRule.keeps`) drops the rest. No matcher left: "" (every alert)."""
    out: list[str] = []
    for name, op, value in matchers:
        if op == "=":
            out.append(f"{name}=~{_string(_literal(value) + '|')}")
        elif op == "=~":
            out.append(f"{name}=~{_string('(?:' + value + ')|')}")
        elif op == "!=" and value:
            out.append(f"{name}!={_string(value)}")
        elif op == "!~" and re.fullmatch(value, "") is None:
            out.append(f"{name}!~{_string(value)}")
    return ",".join(out)


def _literal(value: str) -> str:
    """A regex matching exactly `value` (RE2's metacharacters escaped)."""
    return _RE2_SPECIAL.sub(r"\\\1", value)


def _string(value: str) -> str:
    """A PromQL string literal (Go's escapes, which JSON's are a subset of)."""
    return json.dumps(value, ensure_ascii=False)


__all__ = ["ACTIVE_SINCE", "FIRING", "of_source"]
