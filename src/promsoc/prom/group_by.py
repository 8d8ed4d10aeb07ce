"""One query for many sources: PromQL rewritten so that one label (`cluster`) survives everywhere.

Sources that share a Prometheus and differ only by the value of one label in their selector
(`cluster="cluster-1"`, `cluster="cluster-2"`...) ask the same questions, each narrowed to its
own value. `split_plan(promql, "cluster")` rewrites a query so that every vector it computes
keeps that label: aggregations group by it too (`sum by (ns)` -> `sum by (ns, cluster)`,
`sum(x)` -> `sum by (cluster) (x)`, `topk(5, x)` -> `topk by (cluster) (5, x)`), and joins
match on it (`on (pod)` -> `on (pod, cluster)`). Injected with `cluster=~"v1|v2|..."`, the
rewritten query answers for every source at once; its series, split by the label's value, are
each source's own answer, with the label dropped where the original query would not have kept
it (`SplitPlan.keeps`).

Only what it can prove is rewritten; anything else raises `Unsplittable` (the sources then ask
one by one, as before): a series without the label (`absent`, `absent_over_time`, `vector(...)`,
`scalar(...)`, `day_of_week()` without an argument, a scalar answer), a `label_replace` or
`label_join` writing the label, `without (...)`/`ignoring (...)` listing it, an empty `on ()`,
`limitk`/`limit_ratio` (which series they pick is the server's choice), a function this module
does not know, two sides of a join or `or` of which one kept the label and the other did not,
and anything it cannot parse. The query is parsed with `prom.selector`'s tokenizer. One
`label_replace` onto the label is understood: `label_replace(v, "cluster", "", "", "")`, which
drops it (how a block recorded by the label is read, `promql.recording.split`); its regex
becomes `.+`, which the empty value never matches, so the label stays in the merged query.
"""

from __future__ import annotations

import functools

from promsoc.prom.group_plan import (
    CONSTANT,
    SCALAR,
    Shape,
    SplitPlan,
    Unsplittable,
    either,
    uniform_keeps,
    unquote,
)
from promsoc.prom.selector import AGGREGATIONS, NUMBER_WORDS, SelectorError, Token, apply_inserts, tokenize

# Functions whose answer has the labels of their (one) vector argument, save __name__ or `le`.
_KEEPING = frozenset(
    {
        "abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "clamp", "clamp_min",
        "clamp_max", "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "resets",
        "changes", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
        "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time",
        "mad_over_time", "holt_winters", "double_exponential_smoothing", "histogram_quantile",
        "histogram_fraction", "histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev",
        "histogram_stdvar", "label_replace", "label_join", "sort", "sort_desc", "sort_by_label",
        "sort_by_label_desc", "timestamp", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh",
        "sin", "sinh", "tan", "tanh", "deg", "rad", "day_of_month", "day_of_week", "day_of_year",
        "days_in_month", "hour", "minute", "month", "year"
    }
)  # fmt: skip
SCALAR_FUNCTIONS = frozenset({"time", "pi"})
_WRITES_LABEL = frozenset({"label_replace", "label_join"})
_PARAMETER_FIRST = frozenset({"topk", "bottomk", "quantile", "count_values", "limitk", "limit_ratio"})
_FILTERS = frozenset({"topk", "bottomk"})  # their series keep every label of the input
_SERVER_CHOICE = frozenset({"limitk", "limit_ratio"})
_PRECEDENCE = {
    "or": 1, "and": 2, "unless": 2,
    "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3, ">": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6,
}  # fmt: skip
_SET_OPERATORS = frozenset({"and", "or", "unless"})


Matching = tuple[str, list[str], Token, Token]
"""`on` or `ignoring`, its label names, its `(` and its `)`."""


class _Parser:
    def __init__(self, promql: str, label: str) -> None:
        self.source_text = promql
        try:
            self.tokens = [t for t in tokenize(promql) if t.kind not in ("ws", "comment")]
        except SelectorError as exc:
            raise Unsplittable(str(exc)) from None
        self.label = label
        self.at = 0
        self.inserts: list[tuple[int, str]] = []

    # -- tokens ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def text(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.text if token is not None else ""

    def take(self, expected: str | None = None) -> Token:
        token = self.peek()
        if token is None or (expected is not None and token.text != expected):
            raise Unsplittable(f"expected {expected or 'more'} at {token.start if token else 'the end'}")
        self.at += 1
        return token

    def skip_group(self, opening: str, closing: str) -> Token:
        """From an opening bracket, past its matching closing one (returned)."""
        depth = 0
        while True:
            token = self.take()
            if token.kind == "op" and token.text == opening:
                depth += 1
            elif token.kind == "op" and token.text == closing:
                depth -= 1
                if depth == 0:
                    return token

    def names(self) -> tuple[list[str], Token, Token]:
        """A `(a, b, "c")` list of label names: the names, the `(` and the `)`."""
        opening = self.take("(")
        found: list[str] = []
        while self.text() != ")":
            token = self.take()
            if token.kind == "ident":
                found.append(token.text)
            elif token.kind == "string":
                found.append(unquote(token.text))
            elif token.text != ",":
                raise Unsplittable(f"unexpected {token.text!r} in a label list at {token.start}")
        return found, opening, self.take(")")

    def add_to_list(self, opening: Token, closing: Token, names: list[str]) -> None:
        if self.label in names:
            return
        last = self.tokens[self.tokens.index(closing) - 1]
        at, sep = (last.end, "") if last is opening or last.text == "," else (last.end, ", ")
        self.inserts.append((at, sep + self.label))

    # -- grammar --------------------------------------------------------------------------
    def query(self) -> SplitPlan:
        shape = self.expr(0)
        if self.peek() is not None:
            raise Unsplittable(f"unexpected {self.text()!r} at {self.tokens[self.at].start}")
        if shape.kind != "vector":
            raise Unsplittable(f"a {shape.kind} answer has no series to split")
        return SplitPlan(apply_inserts(self.source_text, self.inserts), shape.keeps)

    def expr(self, lowest: int) -> Shape:
        left = self.unary()
        while True:
            op = self.text()
            token = self.peek()
            precedence = _PRECEDENCE.get(op)
            if token is None or token.kind == "string" or precedence is None or precedence < lowest:
                return left
            self.take()
            left = self.binary(op, left, precedence)

    def binary(self, op: str, left: Shape, precedence: int) -> Shape:
        if self.text() == "bool":
            self.take()
        matching: Matching | None = None
        group: tuple[str, list[str]] | None = None
        if self.text() in ("on", "ignoring"):
            word = self.take().text
            names, opening, closing = self.names()
            matching = (word, names, opening, closing)
            if self.text() in ("group_left", "group_right"):
                side = self.take().text
                include = self.names()[0] if self.text() == "(" else []
                group = (side, include)
        right = self.expr(precedence if op == "^" else precedence + 1)
        kinds = {left.kind, right.kind}
        if "vector" not in kinds:
            return CONSTANT if "constant" in kinds else SCALAR
        if "scalar" in kinds:
            return left if left.kind == "vector" else right
        if "constant" in kinds:
            return self.with_constant(op, left, right, matching, group)
        return self.join(op, left, right, matching, group)

    def with_constant(self, op: str, left: Shape, right: Shape, matching: Matching | None,
                      group: tuple[str, list[str]] | None) -> Shape:  # fmt: skip
        """A join with a constant vector (`vector(1)`, the same for every source, without the
        label): matched on a list without the label, the vector's series keep it."""
        if op == "or" or matching is None or matching[0] != "on" or self.label in matching[1]:
            raise Unsplittable("a join with a constant vector, not `on` a list without the label")
        if op in _SET_OPERATORS and left.kind == "vector":
            return left
        if group is not None and self.label not in group[1]:
            vector = left if group[0] == "group_left" else right
            if vector.kind == "vector":
                return vector
        raise Unsplittable("a join whose answer is a constant vector's series")

    def join(self, op: str, left: Shape, right: Shape, matching: Matching | None,
             group: tuple[str, list[str]] | None) -> Shape:  # fmt: skip
        label = self.label
        if op == "or":  # `or on (pod)`: a right side's series is dropped by a left one of its own value only
            if matching is not None and matching[0] == "on":
                self.add_to_list(matching[2], matching[3], matching[1])
            elif matching is not None and label in matching[1]:
                raise Unsplittable(f"ignoring ({label})")
            return Shape("vector", either(left.keeps, right.keeps))
        if matching is not None and matching[0] == "on":
            _, names, opening, closing = matching
            if label in names and left.uniform() != right.uniform():
                raise Unsplittable(f"on ({label}) between a side with the label and one without")
            self.add_to_list(opening, closing, names)
        elif matching is not None and label in matching[1]:
            raise Unsplittable(f"ignoring ({label})")
        elif left.uniform() != right.uniform():
            raise Unsplittable("a join of a side with the label and one without")
        if group is not None and label in group[1]:
            raise Unsplittable(f"{group[0]} ({label})")
        if op in _SET_OPERATORS or (group is not None and group[0] == "group_left"):
            return left
        if group is not None:
            return right
        if matching is not None and matching[0] == "on":
            return Shape("vector", label in matching[1])
        return left

    def unary(self) -> Shape:
        if self.text() in ("-", "+"):
            self.take()
            return self.unary()
        return self.postfix(self.primary())

    def postfix(self, shape: Shape) -> Shape:
        while True:
            word = self.text()
            if word == "[":
                self.skip_group("[", "]")
            elif word == "offset":
                self.take()
                if self.text() in ("-", "+"):
                    self.take()
                self.take()
            elif word == "@":
                self.take()
                if self.text() in ("start", "end"):
                    self.take()
                    self.take("(")
                    self.take(")")
                else:
                    if self.text() in ("-", "+"):
                        self.take()
                    self.take()
            else:
                return shape

    def primary(self) -> Shape:
        token = self.take()
        if token.kind == "number" or (token.kind == "ident" and token.text.lower() in NUMBER_WORDS):
            return SCALAR
        if token.kind == "string":
            return Shape("string")
        if token.text == "(":
            shape = self.expr(0)
            self.take(")")
            return shape
        if token.text == "{":
            self.at -= 1
            self.skip_group("{", "}")
            return Shape("vector", True)
        if token.kind != "ident":
            raise Unsplittable(f"unexpected {token.text!r} at {token.start}")
        nxt = self.text()
        if token.text in AGGREGATIONS and nxt in ("(", "by", "without"):
            return self.aggregation(token)
        if nxt == "(":
            return self.call(token.text)
        if token.text in _PRECEDENCE or token.text in ("by", "without", "on", "ignoring", "bool", "offset"):
            raise Unsplittable(f"unexpected {token.text!r} at {token.start}")
        if nxt == "{":
            self.skip_group("{", "}")
        return Shape("vector", True)

    def arguments(self) -> list[tuple[Shape, Token]]:
        self.take("(")
        found: list[tuple[Shape, Token]] = []
        while self.text() != ")":
            first = self.peek()
            found.append((self.expr(0), first))  # type: ignore[arg-type]
            if self.text() == ",":
                self.take()
        self.take(")")
        return found

    def call(self, name: str) -> Shape:
        args = self.arguments()
        if name in SCALAR_FUNCTIONS:
            return SCALAR
        if name == "vector" and len(args) == 1 and args[0][0].kind == "scalar":
            return CONSTANT
        if name not in _KEEPING:
            raise Unsplittable(f"{name}() is not known to keep its argument's labels")
        vectors = [shape for shape, _ in args if shape.kind in ("vector", "constant")]
        if not vectors:
            raise Unsplittable(f"{name}() without a vector argument answers without the label")
        if name not in _WRITES_LABEL:
            return vectors[0]
        strings = [unquote(token.text) if token.kind == "string" else None for _, token in args[1:]]
        target = strings[0] if strings else None
        if name == "label_replace" and target == self.label and strings[1:] == ["", "", ""]:
            # label_replace(v, "cluster", "", "", ""): the label dropped (a block recorded by it,
            # read as the raw expression would answer): kept by a regex the empty value never matches
            regex = args[4][1]
            self.inserts.append((regex.start + 1, ".+"))
            return vectors[0] if vectors[0].kind == "constant" else Shape("vector", False)
        if target is None or target == self.label:
            raise Unsplittable(f"{name}() writes {self.label} (or a label it does not name)")
        inner = vectors[0]
        if inner.kind == "constant":
            return inner
        if not isinstance(inner.keeps, bool) and inner.keeps[0] == target:
            raise Unsplittable(f"{name}() rewrites the tag {target}")
        value = strings[1] if len(strings) == 4 else None
        constant = name == "label_replace" and strings[2:] in (["", ""], ["", "(.*)"], ["", ".*"])
        keeps = uniform_keeps(inner.keeps)
        if constant and value and "$" not in value and keeps is not None:
            return Shape("vector", (target, ((value, keeps),)))  # a tag: `or` parts apart
        return inner

    def aggregation(self, name: Token) -> Shape:
        modifier: tuple[str, list[str], Token, Token] | None = None
        if self.text() in ("by", "without"):
            word = self.take().text
            modifier = (word, *self.names())
        args = self.arguments()
        if modifier is None and self.text() in ("by", "without"):
            word = self.take().text
            modifier = (word, *self.names())
        if name.text in _SERVER_CHOICE:
            raise Unsplittable(f"{name.text} picks its series as the server likes")
        if not args or args[-1][0].kind not in ("vector", "constant"):
            raise Unsplittable(f"{name.text} of no vector")
        inner = args[-1][0]
        if inner.kind == "constant":
            return inner
        if name.text == "count_values" and args[0][1].kind == "string" and unquote(args[0][1].text) == self.label:
            raise Unsplittable(f"count_values writes {self.label}")
        if name.text in _PARAMETER_FIRST and len(args) != 2:
            raise Unsplittable(f"{name.text} takes a parameter")
        filters = name.text in _FILTERS
        if modifier is None:
            self.inserts.append((name.end, f" by ({self.label})"))
            return Shape("vector", inner.keeps if filters else False)
        word, names, opening, closing = modifier
        if word == "without":
            if self.label in names:
                raise Unsplittable(f"without ({self.label})")
            if not isinstance(inner.keeps, bool) and inner.keeps[0] in names:
                return Shape("vector", inner.uniform())
            return Shape("vector", inner.keeps)
        keeps = self.label in names
        self.add_to_list(opening, closing, names)
        return Shape("vector", inner.keeps if filters else keeps)


def split_plan(promql: str, label: str) -> SplitPlan:
    """`promql` rewritten so that every vector keeps `label` (see the module docstring);
    `Unsplittable`, saying why, when that cannot be proven."""
    found = plan_for(promql, label)
    if isinstance(found, str):
        raise Unsplittable(found)
    return found


@functools.lru_cache(maxsize=2048)
def plan_for(promql: str, label: str) -> SplitPlan | str:
    """`split_plan`'s answer, or why not (a string): memoised, as every cycle asks the same queries."""
    try:
        return _Parser(promql, label).query()
    except Unsplittable as exc:
        return str(exc)


__all__ = ["SplitPlan", "Unsplittable", "plan_for", "split_plan"]
