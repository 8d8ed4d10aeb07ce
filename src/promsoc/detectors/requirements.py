"""What a detector must see before its silence means `ok`: families, label values, or nothing to see.

A pack's `requires` lists entries, all of which must hold:
- `name`: the metric family has a series;
- `name{matchers}`: a series with those label values exists (ingress status codes as numbers,
  not the classes ingress-nginx reports with --report-status-classes);
- a list of those: any one of them;
- a mapping `{metric: <one of the above>, why: TEXT}`: TEXT is said when the family is there
  but not the label values (`no_data` with the reason);
- a mapping `{metric: NAME, absent_ok_when: OTHER, note: TEXT}`: when NAME is absent but OTHER
  is present, there is simply nothing to judge (kube-state-metrics exports no
  `kube_ingress_created` in a cluster without Ingresses): `ok` with TEXT as the note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from promsoc.promql.fragments import family_of
from promsoc.promql.presence import LABEL

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_SELECTOR = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*\{[^{}`\n]*\}$')
_KEYS = {"metric", "why", "absent_ok_when", "note"}


class RequirementError(ValueError):
    """A `requires` entry that is not a metric name, a selector or a known mapping."""


@dataclass(frozen=True)
class Requirement:
    """One `requires` entry: any of `any_of` present (names or selectors)."""

    any_of: tuple[str, ...]
    why: str | None = None
    absent_ok_when: str | None = None
    note: str | None = None

    @property
    def families(self) -> tuple[str, ...]:
        names = [family_of(item) for item in self.any_of]
        if self.absent_ok_when:
            names.append(self.absent_ok_when)
        return tuple(dict.fromkeys(names))

    @property
    def selectors(self) -> tuple[str, ...]:
        return tuple(item for item in self.any_of if "{" in item)


def _item(value: object, where: str) -> str:
    if isinstance(value, str) and (_NAME.match(value) or _SELECTOR.match(value)):
        return value
    raise RequirementError(f"{where}: 'requires' entry {value!r} is not a metric name or selector")


def _text(raw: Mapping[str, object], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RequirementError(f"{where}: 'requires' {key!r} must be a non-empty string")
    return " ".join(value.split())


def parse(raw: object, where: str) -> tuple[Requirement, ...]:
    """The pack's `requires` list -> requirements; errors name the detector and the entry."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RequirementError(f"{where}: 'requires' must be a list of metric names (or lists of them)")
    result = []
    for entry in raw:
        extra: dict[str, str | None] = {}
        if isinstance(entry, Mapping):
            unknown = sorted(set(entry) - _KEYS)
            if unknown:
                raise RequirementError(f"{where}: 'requires' entry has unknown key {unknown[0]!r}")
            extra = {key: _text(entry, key, where) for key in ("why", "absent_ok_when", "note")}
            if extra["absent_ok_when"] is not None:
                _item(extra["absent_ok_when"], where)
                if extra["note"] is None:
                    raise RequirementError(f"{where}: 'requires' absent_ok_when needs a 'note'")
            entry = entry.get("metric")
        items = entry if isinstance(entry, list) else [entry]
        if not items:
            raise RequirementError(f"{where}: 'requires' entry {entry!r} is empty")
        result.append(Requirement(tuple(_item(i, where) for i in items), **extra))
    return tuple(result)


@dataclass(frozen=True)
class Seen:
    """What the presence query found: family names and selectors with series."""

    names: frozenset[str]
    selectors: frozenset[str]

    @classmethod
    def from_labels(cls, labels: Iterable[Mapping[str, str]]) -> Seen:
        names, selectors = set(), set()
        for item in labels:
            if LABEL in item:
                selectors.add(item[LABEL])
            else:
                names.add(item.get("__name__", ""))
        return cls(frozenset(names), frozenset(selectors))

    def has(self, item: str) -> bool:
        return item in self.selectors if "{" in item else item in self.names


@dataclass(frozen=True)
class Verdict:
    """What is missing ('a|b' for alternatives), and what to tell the user about it."""

    missing: tuple[str, ...]
    note: str | None


def judge(requirements: Sequence[Requirement], seen: Seen) -> Verdict:
    """The requirements not met, and the note that explains them (or an `ok` that saw nothing)."""
    missing: list[str] = []
    reasons: list[str] = []  # why something is missing
    nothing_seen: list[str] = []  # why an absence is fine
    for req in requirements:
        if any(seen.has(item) for item in req.any_of):
            continue
        if req.absent_ok_when and seen.has(req.absent_ok_when):
            nothing_seen.append(req.note or "")
            continue
        # A selector whose family is absent altogether is reported as the family.
        shown = [i if family_of(i) in seen.names else family_of(i) for i in req.any_of]
        if req.why and any(family_of(i) in seen.names for i in req.selectors):
            reasons.append(req.why)
        missing.append("|".join(dict.fromkeys(shown)))
    notes = reasons if missing else nothing_seen
    return Verdict(tuple(dict.fromkeys(missing)), "; ".join(dict.fromkeys(notes)) or None)
