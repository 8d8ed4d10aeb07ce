"""The presence check: which metric families (and which label selectors) have a series at a moment."""

from __future__ import annotations

from collections.abc import Iterable

LABEL = "promsoc_requirement"
"""The label that tags a selector's series in the answer, valued with the selector itself."""


def presence_query(families: Iterable[str], selectors: Iterable[str] = ()) -> str:
    """One query answering which families, and which selectors, have a series at the time."""
    names = sorted(set(families))
    query = 'group by (__name__) ({__name__=~"' + "|".join(names) + '"})'
    for selector in sorted(set(selectors)):
        quoted = selector.replace("\\", "\\\\").replace('"', '\\"')
        query += f' or label_replace(group({selector}), "{LABEL}", "{quoted}", "", "")'
    return query
