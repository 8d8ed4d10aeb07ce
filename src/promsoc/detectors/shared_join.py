"""Signals that join the same vector, asked as one query: the joined vector is evaluated once.

Both sibling detectors' signals (raw path, their band applied by promsoc: `detectors.local_band`)
are `LHS * on (namespace, pod) group_left (workload_kind, workload) MAP`, MAP the pod -> workload
map. Prometheus evaluates MAP once per query, and MAP is most of the cost: profiled alone on the
5,000-pod lab, 0.18 CPU-s of the 0.26-0.32 each signal costs (the LHS, the pods' rates, 0.08-0.10).
So signals with the same `* on (…) group_left (…) MAP` are asked as

    (label_replace((LHS1), "promsoc_detector", "a", "", "") or label_replace((LHS2), …, "b", "", ""))
      * on (namespace, pod) group_left (workload_kind, workload) MAP

and the answer is split by that label. Each LHS series keeps its own labels plus the key, so it
meets the MAP series it would meet alone (matched `on` the same labels), and the result is the
same series with the same float64 product; the key only keeps the two LHS apart. A query that
Prometheus refuses (one signal's `group_left` collision, say) or an answer over the source's
`max_response_bytes` asks each signal alone, so every signal's outcome stays its own.

Only a signal that is exactly one such join of two single terms (an aggregation, a function
call, a parenthesised expression: no other operator at the top level) is shared; anything else
is asked as written.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

from promsoc.detectors.batch import Outcome, Trim, ask_together, gathered, run_queries
from promsoc.prom.errors import BadQuery, ResponseTooLarge
from promsoc.prom.types import QueryClient
from promsoc.promql.batch import combine

_JOIN = re.compile(r"\*\s*on\s*\([^()]*\)\s*group_left\s*\([^()]*\)")
_GROUPING = r"(?:(?:by|without)\s*\(\)\s*)?"
_TERM = re.compile(rf"\s*(?:[a-zA-Z_:][a-zA-Z0-9_:]*\s*)?{_GROUPING}\(\)\s*{_GROUPING}")
"""A single term's top level (`_top_level`): `sum by () ()`, `sum () by ()`, `rate()`, `()`."""
_OPEN, _CLOSE = "([{", ")]}"


def _top_level(promql: str) -> list[tuple[int, str]] | None:
    """The characters at nesting depth 0 with their index; each bracketed group (strings inside
    it too) stands as its outer brackets: `sum by (a) (rate(x[5m]))` -> `sum by () ()`. None when
    the brackets or quotes do not balance."""
    out: list[tuple[int, str]] = []
    depth, quote, escaped = 0, "", False
    for index, char in enumerate(promql):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in _OPEN:
            if depth == 0:
                out.append((index, "("))
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                out.append((index, ")"))
        elif depth == 0:
            out.append((index, char))
    return out if depth == 0 and not quote else None


def _single_term(promql: str) -> bool:
    """An aggregation, a function call or a parenthesised expression: no operator at depth 0."""
    top = _top_level(promql)
    return top is not None and _TERM.fullmatch("".join(char for _, char in top)) is not None


def split_join(signal: str) -> tuple[str, str] | None:
    """(LHS, `* on (…) group_left (…) RHS`) when `signal` is exactly that join of two single
    terms, else None."""
    top = _top_level(signal)
    stars = [index for index, char in top or () if char == "*"]
    if len(stars) != 1:
        return None
    join = _JOIN.match(signal, stars[0])
    if join is None:
        return None
    lhs, rhs = signal[: stars[0]], signal[join.end() :]
    if not (_single_term(lhs) and _single_term(rhs)):
        return None
    return lhs.strip(), f"{join.group(0)} {rhs.strip()}"


def shared(queries: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The queries worth asking together, by their common join: {join: {key: LHS}}, two or more each."""
    groups: dict[str, dict[str, str]] = {}
    for key, promql in queries.items():
        parts = split_join(promql)
        if parts is not None:
            groups.setdefault(parts[1], {})[key] = parts[0]
    return {join: members for join, members in groups.items() if len(members) > 1}


async def run_shared(
    client: QueryClient,
    queries: dict[str, str],
    at: float | None,
    gate: asyncio.Semaphore,
    batch: bool = True,
    trim: Trim | None = None,
) -> dict[str, Outcome]:
    """`run_queries` (see `detectors.batch`), except that queries sharing a join are asked as one
    (see above) when `batch` is on."""
    groups = shared(queries) if batch else {}
    if not groups:
        return await run_queries(client, queries, at, gate, batch, trim)
    together = {key for members in groups.values() for key in members}
    rest = {key: promql for key, promql in queries.items() if key not in together}
    joined = [
        ask_together(client, f"({combine(members)}) {join}", {key: queries[key] for key in members}, at, gate, trim,
                     refused=(BadQuery, ResponseTooLarge), apart=run_queries)  # each alone: its own outcome
        for join, members in groups.items()
    ]  # fmt: skip
    return await gathered(queries, run_queries(client, rest, at, gate, batch, trim), *joined)


__all__ = ["run_shared", "shared", "split_join"]
