"""Scope PromQL to one cluster: add label matchers to every vector selector of a query.

A source in a shared Thanos/Mimir/VictoriaMetrics sees a whole fleet; its `selector`
(e.g. `cluster="prod-eu"`) must narrow *every* selector of every query, or a detector
would mix clusters. Regex rewriting gets this wrong on strings, function names,
grouping labels and durations, so this module tokenizes the query first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Identifiers that are never metric names in the position where they appear.
KEYWORDS = frozenset(
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
        "offset", "bool", "and", "or", "unless", "atan2",
    }
)  # fmt: skip
# Keywords followed by a parenthesised list of label names (not an expression).
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
AGGREGATIONS = frozenset(
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    }
)  # fmt: skip
NUMBER_WORDS = frozenset({"inf", "nan"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+|(?:\d|\.\d)[0-9A-Za-z_.]*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=@,(){}\[\]:])
    """,
    re.VERBOSE | re.DOTALL,
)

_MATCHER = re.compile(
    r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(?:,|$)""",
    re.VERBOSE,
)


class SelectorError(ValueError):
    """A selector or query that cannot be tokenized; the message says where."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def tokenize(promql: str) -> list[Token]:
    """Split PromQL into tokens (whitespace and comments included, so text round-trips)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(promql):
        match = _TOKEN.match(promql, pos)
        if match is None:
            snippet = promql[pos : pos + 10]
            raise SelectorError(f"unexpected character at {pos}: {snippet!r}")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def normalize_matchers(selector: str) -> str:
    """`{a="x", b=~"y"}` or `a="x",b=~"y"` -> `a="x",b=~"y"`; raise SelectorError if invalid."""
    return ",".join(f"{name}{op}{value}" for name, op, value in matcher_list(selector))


def matcher_list(selector: str) -> list[tuple[str, str, str]]:
    """`{a="x", b=~"y"}` -> [("a", "=", '"x"'), ("b", "=~", '"y"')] (values still quoted);
    raise SelectorError if invalid."""
    text = selector.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    parts: list[tuple[str, str, str]] = []
    pos = 0
    while pos < len(text):
        match = _MATCHER.match(text, pos)
        if match is None or match.end() == pos:
            raise SelectorError(
                f"not a label matcher list at {text[pos : pos + 20]!r} "
                '(expected e.g. cluster="prod-eu",env=~"prod|stage")'
            )
        parts.append((match["name"], match["op"], match["value"]))
        pos = match.end()
    return parts


def _next_significant(tokens: list[Token], index: int) -> int:
    """Index of the next token that is not whitespace or a comment (len(tokens) if none)."""
    index += 1
    while index < len(tokens) and tokens[index].kind in ("ws", "comment"):
        index += 1
    return index


def _skip_group(tokens: list[Token], index: int, opening: str, closing: str) -> int:
    """From an opening bracket at `index`, the index of its matching closing bracket."""
    depth = 0
    for pos in range(index, len(tokens)):
        text = tokens[pos].text
        if tokens[pos].kind == "op" and text == opening:
            depth += 1
        elif tokens[pos].kind == "op" and text == closing:
            depth -= 1
            if depth == 0:
                return pos
    raise SelectorError(f"unbalanced {opening!r} at {tokens[index].start}")


def _brace_insertions(tokens: list[Token], open_index: int, matchers: str) -> tuple[int, list[tuple[int, str]]]:
    """Insertions inside `{...}` starting at `open_index`: before each top-level `or` and `}`."""
    close_index = _skip_group(tokens, open_index, "{", "}")
    inserts: list[tuple[int, str]] = []
    has_content = False
    for pos in range(open_index + 1, close_index + 1):
        token = tokens[pos]
        after = _next_significant(tokens, pos)
        # `or` separates alternatives (PromQL 3), unless it is a label named "or".
        is_or = (
            token.kind == "ident"
            and token.text == "or"
            and not (after < close_index and tokens[after].text in ("=", "!=", "=~", "!~"))
        )
        if is_or or pos == close_index:
            # Trailing commas are legal PromQL: `{a="b",}`; do not double them.
            last = _previous_significant(tokens, pos, open_index)
            sep = "" if not has_content or tokens[last].text == "," else ","
            at = tokens[last].end if has_content else tokens[open_index].end
            inserts.append((at, sep + matchers))
            has_content = False
        elif token.kind not in ("ws", "comment"):
            has_content = True
    return close_index, inserts


def _previous_significant(tokens: list[Token], index: int, floor: int) -> int:
    index -= 1
    while index > floor and tokens[index].kind in ("ws", "comment"):
        index -= 1
    return index


@functools.lru_cache(maxsize=2048)
def inject_matchers(promql: str, selector: str) -> str:
    """Return `promql` with the matchers of `selector` added to every vector selector.

    Memoised: every cycle asks each source the same queries, and tokenizing them was a third of
    the console's CPU with twenty sources (bench/bench_many_sources.py); a failure is not cached.

    `selector` is a matcher list such as `cluster="prod-eu"` (braces optional). Handles
    `metric`, `metric{...}`, `{...}` (and `or` alternatives inside braces); leaves strings,
    comments, function and aggregation names, keywords, grouping label lists
    (`by (...)`, `on (...)`, `group_left (...)`), `@ start()` and everything inside
    `[...]` (ranges, subquery steps) untouched. An empty selector returns `promql` as is.
    """
    matchers = normalize_matchers(selector)
    if not matchers:
        return promql
    tokens = tokenize(promql)
    inserts: list[tuple[int, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        nxt = _next_significant(tokens, index)
        nxt_text = tokens[nxt].text if nxt < len(tokens) else ""
        if token.kind == "op" and token.text == "[":
            index = _skip_group(tokens, index, "[", "]") + 1
            continue
        if token.kind == "op" and token.text == "{":
            index, found = _brace_insertions(tokens, index, matchers)
            inserts.extend(found)
            index += 1
            continue
        if token.kind == "ident":
            word = token.text
            lower = word.lower()
            if word in GROUPING and nxt_text == "(":
                index = _skip_group(tokens, nxt, "(", ")") + 1
                continue
            if word in KEYWORDS or lower in NUMBER_WORDS or nxt_text == "(":
                index += 1
                continue
            if word in AGGREGATIONS and nxt_text in ("by", "without"):
                index += 1
                continue
            if nxt_text == "{":
                index, found = _brace_insertions(tokens, nxt, matchers)
                inserts.extend(found)
                index += 1
                continue
            inserts.append((token.end, "{" + matchers + "}"))
        index += 1
    return apply_inserts(promql, inserts)


def apply_inserts(text: str, inserts: list[tuple[int, str]]) -> str:
    """`text` with each (offset, piece) inserted at its offset (offsets into the original text)."""
    out: list[str] = []
    last = 0
    for at, piece in sorted(inserts, key=lambda item: item[0]):
        out.append(text[last:at])
        out.append(piece)
        last = at
    out.append(text[last:])
    return "".join(out)


__all__ = ["SelectorError", "apply_inserts", "inject_matchers", "matcher_list", "normalize_matchers", "tokenize"]
