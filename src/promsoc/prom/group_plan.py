"""What a query rewritten by `prom.group_by` keeps of the grouping label, and how its answer splits."""

from __future__ import annotations

import ast
from dataclasses import dataclass


class Unsplittable(ValueError):
    """The query cannot be asked once for many sources; the message says why."""


Keeps = bool | tuple[str, tuple[tuple[str, bool], ...]]
"""Whether the original query's series carry the label: for all of them, or by the value of a tag
label that `label_replace(..., "tag", "value", "", "")` set (the parts of an `or`, a batch)."""


@dataclass(frozen=True)
class SplitPlan:
    """The rewritten query (before the sources' matchers are injected) and whether the original
    query's series carry the label (if not, it is dropped from each source's part)."""

    promql: str
    keeps: Keeps

    def keep(self, labels: dict[str, str]) -> bool | None:
        """Whether a series of the answer keeps the label in its source's part (None: a tag value
        the query does not set, which cannot happen unless the plan is wrong)."""
        if isinstance(self.keeps, bool):
            return self.keeps
        tag, values = self.keeps
        return dict(values).get(labels.get(tag, ""))


@dataclass(frozen=True)
class Shape:
    kind: str  # "scalar", "string", "vector" (a range vector too) or "constant" (a vector(...) without the label)
    keeps: Keeps = False  # a vector whose series (in the original query) carry the label

    def uniform(self) -> bool:
        found = uniform_keeps(self.keeps)
        if found is None:
            raise Unsplittable("parts that keep the label and parts that do not, joined")
        return found


SCALAR = Shape("scalar")
CONSTANT = Shape("constant")


def uniform_keeps(keeps: Keeps) -> bool | None:
    """The one answer for every series, or None when it depends on the tag."""
    if isinstance(keeps, bool):
        return keeps
    found = {keep for _, keep in keeps[1]}
    return found.pop() if len(found) == 1 else None


def either(left: Keeps, right: Keeps) -> Keeps:
    """What an `or` of two parts keeps: the same for both, or each part by its tag's value."""
    uniform = {uniform_keeps(left), uniform_keeps(right)}
    if len(uniform) == 1 and None not in uniform and (isinstance(left, bool) or isinstance(right, bool)):
        return uniform.pop() is True
    if isinstance(left, bool) or isinstance(right, bool) or left[0] != right[0]:
        raise Unsplittable("an `or` of a part with the label and one without")
    values = dict(left[1])
    for value, keep in right[1]:
        if values.get(value, keep) != keep:
            raise Unsplittable("an `or` of parts tagged alike, one with the label and one without")
        values[value] = keep
    return left[0], tuple(sorted(values.items()))


def unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise Unsplittable(f"cannot read the string {text}") from None
    return str(value)


__all__ = [
    "CONSTANT", "SCALAR", "Keeps", "Shape", "SplitPlan", "Unsplittable", "either", "uniform_keeps",
    "unquote",
]  # fmt: skip
